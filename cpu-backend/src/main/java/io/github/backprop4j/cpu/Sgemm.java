package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * C ← alpha·op(A)·op(B) + beta·C on row-major float arrays, in the GotoBLAS shape: op(B) is packed
 * into kc × NR column panels (by the whole team, or when it is small by each member into its own copy),
 * and a register-blocked MR × NR micro-kernel (4 or 12 rows × two vectors) accumulates in registers
 * with FMAs. The kernel broadcasts MR values of op(A) per k: a sliver of MR rows read straight from A
 * (MR row streams when A is not transposed, MR contiguous floats per k when it is and B has few panels),
 * or packed per worker (Aᵀ otherwise). Each sliver stays in L1 while it sweeps across the B panels of
 * one k block, which are read from L2. Rows of C are cut into tasks that the team claims
 * ({@link ParallelRows}); a task takes its rows through every k block, so a column block costs two
 * hand-offs (pack, compute) whatever k is, or one when each member packs its own copy.
 *
 * <p>An op(B) of at most one vector of columns (a 10-class output layer) takes a narrow path instead,
 * which does not pad n to NR: {@link #multiplyNarrow}, or for Aᵀ with n ≤ MR
 * {@link #multiplyTransposedNarrow}.
 *
 * <p>Each finished tile goes through {@link #storeTile} while it is in L1: alpha, beta, the ragged
 * edges, and optionally a dense layer's bias and activation, so a fused layer writes Z and A in the
 * same pass. A full tile of a product that has one k block, alpha 1, beta 0 and no epilogue (in the
 * Fashion network's backward pass: the input gradients at any batch, and the weight gradients that are
 * not narrow up to batch 512) is written to C by the kernel itself.
 *
 * <p>Buffers are owned by this object and reused (packed B grows to the largest shape seen, each worker's
 * own copy to at most 1 MiB): a call in steady state allocates nothing. One Sgemm serves one backend (one
 * thread at a time, see {@link CpuBackend}).
 */
final class Sgemm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /**
     * Rows per micro-kernel. With 16 vector registers (AVX2) 4 rows × 2 vectors: 8 accumulators; 6 or 8
     * rows measured 20-25% slower there. With 32 (AVX-512) 12 rows: 24 accumulators, and each loaded B
     * vector serves 12 FMAs.
     */
    static final int MR = V >= 16 ? 12 : 4;
    static final int NR = 2 * V;
    /** The lanes of one packed panel row (MR ≤ V on both kernels). */
    private static final VectorMask<Float> PANEL_ROWS = S.indexInRange(0, MR);
    /**
     * Longest k block; a longer k is cut into equal blocks. An MR-row sliver of A over a block (24 KiB with
     * AVX-512) stays in L1 while B's panels stream past it, and fewer blocks mean fewer passes over C.
     */
    private static final int KC = 512;
    /**
     * Most rows per task, and per worker's packed-A block; a multiple of NR, so the Aᵀ narrow path's strips
     * fill it. A task's block of C is read and written again for every k block. Against 24 slivers, 16 (192
     * rows with AVX-512) measured 3-5% faster at n = 4096 and 8192x784x256 with two threads (n = 1024 and
     * 2048 within ±3%), 4-11% faster with AVX2 at n = 1024 and 4096, and on one thread 4% slower at n = 1024
     * and within 2% elsewhere.
     */
    private static final int MC = 16 * MR;
    /** Floats of packed op(B) per column block: all of k for as many columns as fit (at least NR). */
    private static final int PACKED_B = 1 << 21;
    /**
     * Floats of one k block of packed op(B) that a task's slivers of A sweep in turn (512 KiB, half of
     * the L2 of the cores measured), so that those panels are read from L2, not L3.
     */
    private static final int SWEPT_B = 1 << 17;
    /**
     * Panels of B up to which Aᵀ is read where it lies (its MR values per k are contiguous) instead of
     * packed: a packed sliver used by this few panels does not repay its copy, which reads Aᵀ in
     * MR-float pieces, row after row (from memory, not cache, at a weight gradient's batch of 8192). At
     * 16 panels (n = 512 with AVX-512) packing wins again.
     */
    private static final int UNPACKED_AT_PANELS = 8;
    /**
     * Longest k block while Aᵀ is read where it lies and k is long ({@link #LONG_UNPACKED_K}). With AVX-512
     * a sliver's 12 floats per k take two cache lines at most offsets, so over a {@link #KC} block it can
     * fill 64 KiB, more than L1, and every B panel after the first reloads it from L2; 256 keeps it within
     * 32 KiB, at the cost of twice the passes over C. (AVX2's 4 floats per k take one line, and its
     * sliver fits L1 at KC already.)
     */
    private static final int UNPACKED_KC = 256;
    /**
     * The k from which {@link #UNPACKED_KC} blocks pay. Measured on two threads, 512 against 256 in
     * alternated 1 s windows in one JVM: 784xkx256:TN at k = 512, 1024 and 1536 was 6%, 3% and 2% faster
     * with 512; at k = 2048, 4096 and 8192 (a first layer's weight gradient at batch 8192) 3%, 8% and
     * 3-7% faster with 256; 256x2048x128:TN within 1%, 256x8192x128:TN 5% faster.
     */
    private static final int LONG_UNPACKED_K = V >= 16 ? 4 * KC : Integer.MAX_VALUE;
    /** Below this many multiply-adds one core does the whole product. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;
    /** Below this many floats of op(B) the caller packs it alone. */
    private static final int PARALLEL_PACK = 1 << 14;
    /**
     * Up to this many floats of packed op(B) (1 MiB), and with at least {@link #OWN_B_ROWS} rows of C per
     * member of the team, each member packs its own copy of op(B) at its first task of a call, instead of
     * the team packing one copy that all of them read. A shared copy is read by every member from the core
     * that packed it; on the two-vCPU VM measured that made the short products of a training step slow in
     * spells (see the README's GemmBenchmark caveat). Paired in one JVM (own and shared alternating every
     * 0.5 s, 30 s per shape, in two or four runs): 128x256x128 1.31-1.37×, 256x256x128:TN 1.15-1.23×,
     * 128x784x256 1.06-1.30×, 256x256x256 1.06-1.07×, 256x128x128:TN 1.03-1.04×; 128x128x256:NT 1.34× in
     * one run, 0.91× in the other (a transposed B is packed by scalar copies, here twice); the batch-8192
     * products and 784x256x256:TN within ±4%.
     */
    private static final int OWN_B = 1 << 18;
    /**
     * Rows of C per member from which an own copy of op(B) pays: each member packs all of op(B), not its
     * share, so the extra packing per member grows with the team while its share of the product shrinks.
     * At 64 (batch 128 on two threads) the fast spells' best rounds were no slower with own copies, except
     * with a transposed B (above).
     */
    private static final int OWN_B_ROWS = 64;
    /** The longest k for which the team takes one task per member (see where tasks are counted). */
    private static final int SHORT_K = 32;

    /**
     * Stands in for an absent operand (no epilogue's bias and out, a finished call's arrays), so the
     * array fields are never null. A precaution: about one training run in 20-40 died with SIGSEGV, a
     * read at address 0xc (an array's length through null) in compiled Sgemm code, while the
     * no-epilogue calls passed null bias and out; not root-caused (no hs_err was written).
     */
    private static final float[] NONE = new float[0];

    private final ParallelRows parallel;
    private final int threads;
    private float[] packedB = new float[0];
    /** Per worker but the caller (whose copy is {@link #packedB}), its own copy of packed op(B); see {@link #OWN_B}. */
    private final float[][] workerPackedB;
    /** Per worker, a cache line apart: the dispatch that its own copy of op(B) was last packed for. */
    private final long[] workerPackedFor;
    /** Counts the dispatches in which each worker packs its own op(B). */
    private long ownBDispatch;
    private final float[][] packedA;
    private final float[][] tiles;
    private final Compute compute = new Compute();
    private final PackB packB = new PackB();
    private final Narrow narrow = new Narrow();
    private final ColumnStrips columnStrips = new ColumnStrips();
    /** Per worker, the narrow paths' sums: MC × NR floats, NR-strided (so {@link #storeTile} reads them as tiles). */
    private final float[][] narrowSums;

    Sgemm(ParallelRows parallel) {
        this.parallel = parallel;
        this.threads = parallel.threads();
        this.packedA = new float[threads][MC * KC];
        this.tiles = new float[threads][MR * NR];
        this.narrowSums = new float[threads][MC * NR];
        this.workerPackedB = new float[threads][0];
        this.workerPackedFor = new long[threads * LINE_LONGS];
    }

    private static final int LINE_LONGS = 8;

    void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                  float[] a, int lda, float[] b, int ldb, float beta, float[] c) {
        multiply(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, null, NONE, NONE);
    }

    /**
     * As above, then, when {@code activation} is not null (an element-wise one), a dense layer's
     * epilogue on every element of C once it is final: C += bias (a row vector), out = activation(C).
     * Without an activation, bias and out are not read (pass empty arrays, never null).
     */
    void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                  float[] a, int lda, float[] b, int ldb, float beta, float[] c,
                  Activation activation, float[] bias, float[] out) {
        if (m == 0 || n == 0) return;
        if (alpha == 0f || k == 0) {
            // no product: C ← beta·C, then the epilogue over all of it
            scaleOnly(m, n, beta, c, activation, bias, out);
            return;
        }
        int kcMax = blockLength(k, KC);
        if (n <= V) {
            if (transA && n <= MR) multiplyTransposedNarrow(transB, m, n, k, kcMax, alpha, a, lda, b, ldb, beta, c, activation, bias, out);
            else multiplyNarrow(transA, transB, m, n, k, kcMax, alpha, a, lda, b, ldb, beta, c, activation, bias, out);
            return;
        }
        int ncMax = Math.max(NR, Math.min(roundUp(n, NR), PACKED_B / k / NR * NR));
        if (transA && ncMax <= UNPACKED_AT_PANELS * NR && k >= LONG_UNPACKED_K) kcMax = blockLength(k, UNPACKED_KC);
        if (packedB.length < ncMax * k) packedB = new float[ncMax * k];
        boolean parallelRun = (long) m * n * k >= PARALLEL_THRESHOLD && threads > 1;
        // At least three tasks per worker balance the team (four measured 6-8% slower on the 256-row
        // products of a batch-256 step: more tasks, each streaming packed B), and as many as tasks of at most
        // MC rows need. With Aᵀ and several k blocks, every task reads its rows of Aᵀ (packing them when B
        // is wide) and streams all of packed B from L3 once per task, so fewer, taller tasks are cheaper
        // (measured 5-12% on the weight gradients at batch 8192). The count is a multiple of the team, so
        // that no member is left with one task more than the others; tasks of a few slivers are not split
        // further (the last one would be short, not the rest shorter). A product with a short k is mostly
        // writes to C, and one task of contiguous rows per member was faster there: each member keeps its rows
        // of A and C on its own core from call to call (paired in one JVM, one task per member against three,
        // alternating every 0.5 s for 30 s, two runs: 8192x10x128:NT 1.08× and 1.34×, 256x10x128:NT 1.16× and
        // 1.18×; at k = 128 and 256 the gain was 1-2%, so the rule stays there).
        int slivers = (m + MR - 1) / MR;
        int tasks = k <= SHORT_K ? threads
                : threads * Math.max(transA && k > KC ? 1 : 3, (slivers + threads * (MC / MR) - 1) / (threads * (MC / MR)));
        int sliversPerTask = (slivers + tasks - 1) / tasks;
        tasks = (slivers + sliversPerTask - 1) / sliversPerTask;
        for (int jc = 0; jc < n; jc += ncMax) {
            int nc = Math.min(ncMax, n - jc);
            int panels = (nc + NR - 1) / NR;
            packB.set(transB, b, ldb, k, kcMax, jc, nc);
            boolean ownB = parallelRun && (long) k * panels * NR <= OWN_B && m >= OWN_B_ROWS * threads;
            if (ownB) ownBDispatch++;
            else if (parallelRun && (long) k * nc >= PARALLEL_PACK) parallel.run(threads, panels, panels, 1, packB);
            else packB.packInto(packedB, 0, panels);
            compute.set(transA, a, lda, k, kcMax, jc, nc, n, alpha, beta, c, activation, bias, out, ownB);
            if (parallelRun) parallel.run(threads, tasks, m, MR, compute);
            else compute.run(0, 0, m);
        }
        compute.clear();
        packB.clear();
    }

    /**
     * C ← op(A)·op(B) for an op(B) of at most one vector of columns (a layer of 10 outputs: its forward,
     * and its input gradient when Aᵀ has more than MR columns). The panel path would pad B to NR
     * columns (a third of each FMA useful) and, for Aᵀ, pack all of Aᵀ (k × m floats written and read
     * again for a few columns of work); here op(B) is packed once into k × V (zero-padded), A is read where
     * it lies (NN: NARROW_ROWS row streams; TN: NARROW_ROWS contiguous floats per k), and NARROW_ROWS ×
     * 1-vector accumulators run over each k block, summing into the worker's buffer until the rows are
     * stored through {@link #storeTile}.
     */
    private void multiplyNarrow(boolean transA, boolean transB, int m, int n, int k, int kcMax, float alpha,
                                float[] a, int lda, float[] b, int ldb, float beta, float[] c,
                                Activation activation, float[] bias, float[] out) {
        if (packedB.length < k * V) packedB = new float[k * V];
        float[] pb = packedB;
        if (transB) {
            for (int p = 0; p < k; p++) {
                int dst = p * V;
                for (int j = 0; j < n; j++) pb[dst + j] = b[j * ldb + p];
                for (int j = n; j < V; j++) pb[dst + j] = 0f;
            }
        } else {
            // one masked vector per row of B: its n values, the lanes past them zero
            VectorMask<Float> row = S.indexInRange(0, n);
            for (int p = 0; p < k; p++) FloatVector.fromArray(S, b, p * ldb, row).intoArray(pb, p * V);
        }
        narrow.set(transA, a, lda, k, kcMax, n, alpha, beta, c, activation, bias, out);
        boolean parallelRun = (long) m * n * k >= PARALLEL_THRESHOLD && threads > 1;
        if (parallelRun) parallel.run(threads, Math.min(4 * threads, (m + NARROW_ROWS - 1) / NARROW_ROWS), m, NARROW_ROWS, narrow);
        else narrow.run(0, 0, m);
        narrow.clear();
    }

    /**
     * C ← Aᵀ·op(B) for an op(B) of at most MR columns (a 10-output layer's weight gradient), computed as
     * Cᵀ = op(B)ᵀ·A by {@link #stripKernel}: A (k × m) gives NR-wide strips of contiguous floats per k, read
     * where they lie, and op(B)ᵀ's rows, STRIP_ROWS at a time, are broadcast. Every vector lane is useful
     * (the narrow kernel wastes V − n of them). The sums stay transposed in the worker's buffer until every
     * k block is in, then go to C.
     */
    private void multiplyTransposedNarrow(boolean transB, int m, int n, int k, int kcMax, float alpha,
                                          float[] a, int lda, float[] b, int ldb, float beta, float[] c,
                                          Activation activation, float[] bias, float[] out) {
        columnStrips.set(transB, a, lda, b, ldb, k, kcMax, n, alpha, beta, c, activation, bias, out);
        boolean parallelRun = (long) m * n * k >= PARALLEL_THRESHOLD && threads > 1;
        if (parallelRun) parallel.run(threads, Math.min(4 * threads, (m + NR - 1) / NR), m, NR, columnStrips);
        else columnStrips.run(0, 0, m);
        columnStrips.clear();
    }

    /** Rows [from, to) of C as columns of Cᵀ, NR at a time; see {@link #multiplyTransposedNarrow}. */
    private final class ColumnStrips extends Product {
        private boolean transB;
        private float[] b = NONE;
        private int ldb, n;

        void set(boolean transB, float[] a, int lda, float[] b, int ldb, int k, int kcMax, int n, float alpha,
                 float beta, float[] c, Activation activation, float[] bias, float[] out) {
            setProduct(true, a, lda, k, kcMax, alpha, beta, c, activation, bias, out);
            this.transB = transB;
            this.b = b;
            this.ldb = ldb;
            this.n = n;
        }

        @Override
        void clearOperands() {
            b = NONE;
        }

        /**
         * MC rows of C (MC / NR strips) at a time through every k block, the strips' sums waiting in the
         * worker's buffer; then they are stored.
         */
        @Override
        public void run(int worker, int from, int to) {
            float[] strip = packedA[worker];
            float[] sums = narrowSums[worker];
            int stripSums = roundUp(n, STRIP_ROWS) * NR;
            // op(B)ᵀ row j, element p: b[p·ldb + j], or b[j·ldb + p] when B is stored transposed
            int rowStride = transB ? ldb : 1, pStride = transB ? 1 : ldb;
            for (int ic = from; ic < to; ic += MC) {
                int mc = Math.min(MC, to - ic);
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    for (int is = 0; is < mc; is += NR) {
                        // a whole strip is read where it lies; a ragged one is copied, zero-padded, so that
                        // nothing past A is read
                        boolean whole = is + NR <= mc;
                        if (!whole) packRaggedStrip(a, lda, ic + is, mc - is, pc, kc, strip);
                        float[] side = whole ? a : strip;
                        int sideOff = whole ? pc * lda + ic + is : 0, sideStride = whole ? lda : NR;
                        for (int j0 = 0; j0 < n; j0 += STRIP_ROWS)
                            stripKernel(kc, b, j0 * rowStride + pc * pStride, rowStride, pStride,
                                    Math.min(STRIP_ROWS, n - j0), side, sideOff, sideStride, pc > 0, sums,
                                    is / NR * stripSums + j0 * NR);
                    }
                }
                for (int i = 0; i < mc; i++) {
                    int row = (ic + i) * n, sOff = i / NR * stripSums + i % NR;
                    for (int j = 0; j < n; j++) {
                        float product = sums[sOff + j * NR] * alpha;
                        c[row + j] = beta == 0f ? product : c[row + j] * beta + product;
                    }
                    if (activation != null) Activations.biasActivate(activation, c, row, bias, 0, out, n);
                }
            }
        }
    }

    /** The first {@code width} < NR columns of A's rows pc.. into a kc × NR strip, the rest zero. */
    private static void packRaggedStrip(float[] a, int lda, int col, int width, int pc, int kc, float[] strip) {
        VectorMask<Float> lanes0 = S.indexInRange(0, width), lanes1 = S.indexInRange(V, width);
        for (int p = 0, src = pc * lda + col; p < kc; p++, src += lda) {
            FloatVector.fromArray(S, a, src, lanes0).intoArray(strip, p * NR);
            FloatVector.fromArray(S, a, src + V, lanes1).intoArray(strip, p * NR + V);
        }
    }

    /** Rows of op(B)ᵀ per strip kernel: ten accumulators, so a 10-output layer takes two passes and wastes no FMA. */
    private static final int STRIP_ROWS = 5;

    /**
     * STRIP_ROWS rows of op(B)ᵀ (read at b[bOff + r·rowStride + p·pStride]; rows at and past {@code rows}
     * repeat the last valid one) × one NR-wide strip of A's columns (two vectors at a[aOff + p·lda]) over
     * kc values of k, into sums[sOff + r·NR ..], starting from them when {@code accumulate}. A's strip is
     * read where it lies: copying it first cost more than the products at a 10-output layer's sizes.
     */
    private static void stripKernel(int kc, float[] b, int bOff, int rowStride, int pStride, int rows, float[] a,
                                    int aOff, int lda, boolean accumulate, float[] sums, int sOff) {
        int last = rows - 1;
        int o0 = bOff, o1 = bOff + Math.min(1, last) * rowStride, o2 = bOff + Math.min(2, last) * rowStride;
        int o3 = bOff + Math.min(3, last) * rowStride, o4 = bOff + Math.min(4, last) * rowStride;
        FloatVector c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1;
        if (accumulate) {
            c0_0 = FloatVector.fromArray(S, sums, sOff);
            c0_1 = FloatVector.fromArray(S, sums, sOff + V);
            c1_0 = FloatVector.fromArray(S, sums, sOff + NR);
            c1_1 = FloatVector.fromArray(S, sums, sOff + NR + V);
            c2_0 = FloatVector.fromArray(S, sums, sOff + 2 * NR);
            c2_1 = FloatVector.fromArray(S, sums, sOff + 2 * NR + V);
            c3_0 = FloatVector.fromArray(S, sums, sOff + 3 * NR);
            c3_1 = FloatVector.fromArray(S, sums, sOff + 3 * NR + V);
            c4_0 = FloatVector.fromArray(S, sums, sOff + 4 * NR);
            c4_1 = FloatVector.fromArray(S, sums, sOff + 4 * NR + V);
        } else {
            c0_0 = c0_1 = c1_0 = c1_1 = c2_0 = c2_1 = c3_0 = c3_1 = c4_0 = c4_1 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * lda, bp = p * pStride;
            FloatVector a0 = FloatVector.fromArray(S, a, ai);
            FloatVector a1 = FloatVector.fromArray(S, a, ai + V);
            FloatVector b0 = FloatVector.broadcast(S, b[o0 + bp]);
            c0_0 = b0.fma(a0, c0_0);
            c0_1 = b0.fma(a1, c0_1);
            FloatVector b1 = FloatVector.broadcast(S, b[o1 + bp]);
            c1_0 = b1.fma(a0, c1_0);
            c1_1 = b1.fma(a1, c1_1);
            FloatVector b2 = FloatVector.broadcast(S, b[o2 + bp]);
            c2_0 = b2.fma(a0, c2_0);
            c2_1 = b2.fma(a1, c2_1);
            FloatVector b3 = FloatVector.broadcast(S, b[o3 + bp]);
            c3_0 = b3.fma(a0, c3_0);
            c3_1 = b3.fma(a1, c3_1);
            FloatVector b4 = FloatVector.broadcast(S, b[o4 + bp]);
            c4_0 = b4.fma(a0, c4_0);
            c4_1 = b4.fma(a1, c4_1);
        }
        c0_0.intoArray(sums, sOff);
        c0_1.intoArray(sums, sOff + V);
        c1_0.intoArray(sums, sOff + NR);
        c1_1.intoArray(sums, sOff + NR + V);
        c2_0.intoArray(sums, sOff + 2 * NR);
        c2_1.intoArray(sums, sOff + 2 * NR + V);
        c3_0.intoArray(sums, sOff + 3 * NR);
        c3_1.intoArray(sums, sOff + 3 * NR + V);
        c4_0.intoArray(sums, sOff + 4 * NR);
        c4_1.intoArray(sums, sOff + 4 * NR + V);
    }

    /** Rows per narrow micro-kernel: eight accumulators, each B vector serving eight FMAs. */
    private static final int NARROW_ROWS = 8;

    /** What both product bodies read: op(A), C, the scalars and the epilogue, set before each dispatch. */
    private abstract static class Product implements ParallelRows.Body {
        boolean transA;
        float[] a = NONE, c = NONE;
        int lda, k, kcMax;
        float alpha, beta;
        Activation activation;
        float[] bias = NONE, out = NONE;

        final void setProduct(boolean transA, float[] a, int lda, int k, int kcMax, float alpha, float beta, float[] c,
                              Activation activation, float[] bias, float[] out) {
            this.transA = transA;
            this.a = a;
            this.lda = lda;
            this.k = k;
            this.kcMax = kcMax;
            this.alpha = alpha;
            this.beta = beta;
            this.c = c;
            this.activation = activation;
            this.bias = bias;
            this.out = out;
        }

        /** Drops the caller's arrays once the call is over. */
        final void clear() {
            clearOperands();
            a = NONE;
            c = NONE;
            activation = null;
            bias = NONE;
            out = NONE;
        }

        /** A subclass's own arrays, dropped with the shared ones. */
        void clearOperands() {
        }
    }

    /** The narrow path over a range of rows of C. */
    private final class Narrow extends Product {
        private int n;

        void set(boolean transA, float[] a, int lda, int k, int kcMax, int n, float alpha, float beta, float[] c,
                 Activation activation, float[] bias, float[] out) {
            setProduct(transA, a, lda, k, kcMax, alpha, beta, c, activation, bias, out);
            this.n = n;
        }

        /** Rows [from, to), MC at a time: every k block into the sums (A's k block stays in L2 across row groups), then stored. */
        @Override
        public void run(int worker, int from, int to) {
            float[] sums = narrowSums[worker];
            float[] pb = packedB;
            int rowStride = transA ? 1 : lda, pStride = transA ? lda : 1;
            for (int ic = from; ic < to; ic += MC) {
                int mc = Math.min(MC, to - ic);
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    for (int ir = 0; ir < mc; ir += NARROW_ROWS) {
                        int aOff = (ic + ir) * rowStride + pc * pStride;
                        narrowKernel(kc, a, aOff, rowStride, pStride, Math.min(NARROW_ROWS, mc - ir), pb, pc * V,
                                pc > 0, sums, ir * NR);
                    }
                }
                for (int ir = 0; ir < mc; ir += NARROW_ROWS)
                    storeTile(sums, ir * NR, c, (ic + ir) * n, n, Math.min(NARROW_ROWS, mc - ir), n, alpha, beta,
                            activation, bias, out, 0);
            }
        }
    }

    /**
     * NARROW_ROWS rows × one vector over kc values of k: op(A)'s rows read at a[aOff + r·rowStride +
     * p·pStride] (rows at and past {@code mr} repeat the last valid one), packed op(B) at pb[bOff + p·V];
     * the sums start from {@code sums} when {@code accumulate} (a later k block), from zero otherwise.
     */
    private static void narrowKernel(int kc, float[] a, int aOff, int rowStride, int pStride, int mr, float[] pb,
                                     int bOff, boolean accumulate, float[] sums, int sOff) {
        int last = mr - 1;
        int o0 = aOff, o1 = aOff + Math.min(1, last) * rowStride, o2 = aOff + Math.min(2, last) * rowStride;
        int o3 = aOff + Math.min(3, last) * rowStride, o4 = aOff + Math.min(4, last) * rowStride;
        int o5 = aOff + Math.min(5, last) * rowStride, o6 = aOff + Math.min(6, last) * rowStride;
        int o7 = aOff + Math.min(7, last) * rowStride;
        FloatVector c0, c1, c2, c3, c4, c5, c6, c7;
        if (accumulate) {
            c0 = FloatVector.fromArray(S, sums, sOff);
            c1 = FloatVector.fromArray(S, sums, sOff + NR);
            c2 = FloatVector.fromArray(S, sums, sOff + 2 * NR);
            c3 = FloatVector.fromArray(S, sums, sOff + 3 * NR);
            c4 = FloatVector.fromArray(S, sums, sOff + 4 * NR);
            c5 = FloatVector.fromArray(S, sums, sOff + 5 * NR);
            c6 = FloatVector.fromArray(S, sums, sOff + 6 * NR);
            c7 = FloatVector.fromArray(S, sums, sOff + 7 * NR);
        } else {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = FloatVector.zero(S);
        }
        for (int p = 0; p < kc; p++) {
            FloatVector bv = FloatVector.fromArray(S, pb, bOff + p * V);
            int ap = p * pStride;
            c0 = FloatVector.broadcast(S, a[o0 + ap]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o1 + ap]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o2 + ap]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o3 + ap]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[o4 + ap]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[o5 + ap]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[o6 + ap]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[o7 + ap]).fma(bv, c7);
        }
        c0.intoArray(sums, sOff);
        c1.intoArray(sums, sOff + NR);
        c2.intoArray(sums, sOff + 2 * NR);
        c3.intoArray(sums, sOff + 3 * NR);
        c4.intoArray(sums, sOff + 4 * NR);
        c5.intoArray(sums, sOff + 5 * NR);
        c6.intoArray(sums, sOff + 6 * NR);
        c7.intoArray(sums, sOff + 7 * NR);
    }

    /** The length of each of the fewest equal k blocks of at most {@code most}. */
    private static int blockLength(int k, int most) {
        int blocks = (k + most - 1) / most;
        return (k + blocks - 1) / blocks;
    }

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    /** Where k block {@code pc} starts in a column block's packed op(B): blocks one after another, each panels of kc × NR. */
    private static int blockOffset(int pc, int nc) {
        return pc * roundUp(nc, NR);
    }

    /** The current column block's product over a range of rows of C; operands are set before each dispatch. */
    private final class Compute extends Product {
        private int jc, nc, ldc;
        private boolean ownB;

        void set(boolean transA, float[] a, int lda, int k, int kcMax, int jc, int nc, int ldc, float alpha,
                 float beta, float[] c, Activation activation, float[] bias, float[] out, boolean ownB) {
            setProduct(transA, a, lda, k, kcMax, alpha, beta, c, activation, bias, out);
            this.jc = jc;
            this.nc = nc;
            this.ldc = ldc;
            this.ownB = ownB;
        }

        /**
         * Rows [from, to) of C, MC rows at a time, through every k block: each MR-row sliver of A sweeps
         * {@code sweep} columns of B panel by panel, then the next sliver the same columns, so the sliver
         * is read from L1 and the panels from L2, and C is written along its rows. The first k block
         * applies beta, the last the epilogue.
         */
        @Override
        public void run(int worker, int from, int to) {
            float[] pa = packedA[worker];
            float[] tile = tiles[worker];
            float[] pb = ownB ? ownPackedB(worker, k * roundUp(nc, NR)) : packedB;
            boolean packA = transA && nc > UNPACKED_AT_PANELS * NR;
            int sweep = Math.max(NR, SWEPT_B / kcMax / NR * NR);
            boolean plain = k <= kcMax && alpha == 1f && beta == 0f && activation == null;
            for (int ic = from; ic < to; ic += MC) {
                int mc = Math.min(MC, to - ic);
                for (int pc = 0; pc < k; pc += kcMax) {
                    int kc = Math.min(kcMax, k - pc);
                    float blockBeta = pc == 0 ? beta : 1f;
                    Activation blockActivation = pc + kc == k ? activation : null;
                    if (packA) packTransposedA(a, lda, ic, mc, pc, kc, pa);
                    int bBlock = blockOffset(pc, nc);
                    for (int js = 0; js < nc; js += sweep) {
                        int je = Math.min(nc, js + sweep);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            for (int jr = js; jr < je; jr += NR) {
                                int nr = Math.min(NR, nc - jr);
                                int bOff = bBlock + jr * kc, cOff = (ic + ir) * ldc + jc + jr;
                                // a whole tile of a one-block product with nothing to add goes from the registers
                                // straight to C: with a short k the trip through the tile was most of the time
                                boolean direct = plain && mr == MR && nr == NR;
                                float[] dst = direct ? c : tile;
                                int dOff = direct ? cOff : 0, ldd = direct ? ldc : NR;
                                if (packA) kernel(kc, pa, ir * kc, 1, MR, mr, pb, bOff, dst, dOff, ldd);
                                else if (transA) kernel(kc, a, pc * lda + ic + ir, 1, lda, mr, pb, bOff, dst, dOff, ldd);
                                else kernel(kc, a, (ic + ir) * lda + pc, lda, 1, mr, pb, bOff, dst, dOff, ldd);
                                if (!direct) storeTile(tile, 0, c, cOff, ldc, mr, nr, alpha, blockBeta, blockActivation,
                                        bias, out, jc + jr);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * op(A)[ic.., pc..] into panels of MR rows, k-major inside a panel (A is k × m here: each p gives MR
     * contiguous floats); a short last panel repeats its last row, which the kernel's caller drops.
     */
    private static void packTransposedA(float[] a, int lda, int ic, int mc, int pc, int kc, float[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = ir * kc;
            if (mr == MR) {
                // one masked vector per k: C2 leaves the MR scalar copies scalar
                for (int p = 0; p < kc; p++)
                    FloatVector.fromArray(S, a, (pc + p) * lda + ic + ir, PANEL_ROWS).intoArray(pa, base + p * MR, PANEL_ROWS);
            } else {
                for (int p = 0; p < kc; p++) {
                    int src = (pc + p) * lda + ic + ir, dst = base + p * MR;
                    for (int r = 0; r < MR; r++) pa[dst + r] = a[src + Math.min(r, mr - 1)];
                }
            }
        }
    }

    /**
     * The worker's own copy of packed op(B) for this dispatch, packed at its first task of it: the caller's
     * in {@link #packedB} (already large enough), the others' in {@link #workerPackedB}.
     */
    private float[] ownPackedB(int worker, int floats) {
        if (worker > 0 && workerPackedB[worker].length < floats) workerPackedB[worker] = new float[floats];
        float[] pb = worker == 0 ? packedB : workerPackedB[worker];
        if (workerPackedFor[worker * LINE_LONGS] != ownBDispatch) {
            packB.packInto(pb, 0, (packB.nc + NR - 1) / NR);
            workerPackedFor[worker * LINE_LONGS] = ownBDispatch;
        }
        return pb;
    }

    /** op(B)[.., jc..] into panels of NR columns per k block, k-major inside a panel, zero-padded at the edge. */
    private final class PackB implements ParallelRows.Body {
        private boolean transB;
        private float[] b;
        private int ldb, k, kcMax, jc, nc;

        void set(boolean transB, float[] b, int ldb, int k, int kcMax, int jc, int nc) {
            this.transB = transB;
            this.b = b;
            this.ldb = ldb;
            this.k = k;
            this.kcMax = kcMax;
            this.jc = jc;
            this.nc = nc;
        }

        void clear() {
            b = NONE;
        }

        /** Panels [from, to) into the shared packed op(B). */
        @Override
        public void run(int worker, int from, int to) {
            packInto(packedB, from, to);
        }

        /** Panels [from, to), in every k block, into {@code pb}. */
        void packInto(float[] pb, int from, int to) {
            for (int pc = 0; pc < k; pc += kcMax) {
                int kc = Math.min(kcMax, k - pc);
                int block = blockOffset(pc, nc);
                if (!transB) {
                    // B is k × n: row by row, each row's run of the panels' columns in turn; the last
                    // panel reads only its nc mod NR columns and zero-fills the rest
                    int full = Math.min(to, nc / NR), tail = nc - full * NR;
                    VectorMask<Float> tail0 = S.indexInRange(0, tail), tail1 = S.indexInRange(V, tail);
                    for (int p = 0; p < kc; p++) {
                        int src = (pc + p) * ldb + jc, dst = block + p * NR;
                        for (int panel = from; panel < full; panel++) {
                            int jr = panel * NR;
                            FloatVector.fromArray(S, b, src + jr).intoArray(pb, dst + jr * kc);
                            FloatVector.fromArray(S, b, src + jr + V).intoArray(pb, dst + jr * kc + V);
                        }
                        if (full < to) {
                            int jr = full * NR;
                            FloatVector.fromArray(S, b, src + jr, tail0).intoArray(pb, dst + jr * kc);
                            FloatVector.fromArray(S, b, src + jr + V, tail1).intoArray(pb, dst + jr * kc + V);
                        }
                    }
                    continue;
                }
                for (int panel = from; panel < to; panel++) {
                    int jr = panel * NR;
                    int nr = Math.min(NR, nc - jr);
                    int base = block + jr * kc;
                    // B is n × k: each of the panel's columns is a contiguous run of k
                    for (int j = 0; j < nr; j++) {
                        int src = (jc + jr + j) * ldb + pc;
                        for (int p = 0; p < kc; p++) pb[base + p * NR + j] = b[src + p];
                    }
                    for (int j = nr; j < NR; j++) for (int p = 0; p < kc; p++) pb[base + p * NR + j] = 0f;
                }
            }
        }
    }

    /**
     * The MR × NR micro-kernel, its sums written to out[outOff + r·ldo + j] (a tile: ldo = NR; or C itself).
     * A's rows are read at a[aOff + r·rowStride + p·pStride] (pStride 1: A itself; MR: a packed panel); rows at
     * and past {@code mr} repeat the last valid row, so nothing outside A is read, and the caller drops them
     * (only a tile ever has such rows).
     */
    private static void kernel(int kc, float[] a, int aOff, int rowStride, int pStride, int mr, float[] pb, int bOff,
                               float[] out, int outOff, int ldo) {
        if (MR == 12) kernel12(kc, a, aOff, rowStride, pStride, mr, pb, bOff, out, outOff, ldo);
        else kernel4(kc, a, aOff, rowStride, pStride, mr, pb, bOff, out, outOff, ldo);
    }

    private static void kernel4(int kc, float[] a, int aOff, int rowStride, int pStride, int mr, float[] pb, int bOff,
                                float[] out, int outOff, int ldo) {
        int o0 = aOff, o1 = aOff + Math.min(1, mr - 1) * rowStride;
        int o2 = aOff + Math.min(2, mr - 1) * rowStride, o3 = aOff + Math.min(3, mr - 1) * rowStride;
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ap = p * pStride;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[o0 + ap]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[o1 + ap]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[o2 + ap]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[o3 + ap]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        c00.intoArray(out, outOff);
        c01.intoArray(out, outOff + V);
        c10.intoArray(out, outOff + ldo);
        c11.intoArray(out, outOff + ldo + V);
        c20.intoArray(out, outOff + 2 * ldo);
        c21.intoArray(out, outOff + 2 * ldo + V);
        c30.intoArray(out, outOff + 3 * ldo);
        c31.intoArray(out, outOff + 3 * ldo + V);
    }

    /**
     * 12 rows × 2 vectors for 32-register CPUs. The accumulators are stored inline: C2 does not
     * inline a call from a method this large, and vectors passed to a call that is not inlined travel
     * as heap objects (measured six times slower).
     */
    private static void kernel12(int kc, float[] a, int aOff, int rowStride, int pStride, int mr, float[] pb, int bOff,
                                 float[] out, int outOff, int ldo) {
        int last = mr - 1;
        int o0 = aOff, o1 = aOff + Math.min(1, last) * rowStride, o2 = aOff + Math.min(2, last) * rowStride;
        int o3 = aOff + Math.min(3, last) * rowStride, o4 = aOff + Math.min(4, last) * rowStride;
        int o5 = aOff + Math.min(5, last) * rowStride, o6 = aOff + Math.min(6, last) * rowStride;
        int o7 = aOff + Math.min(7, last) * rowStride, o8 = aOff + Math.min(8, last) * rowStride;
        int o9 = aOff + Math.min(9, last) * rowStride, o10 = aOff + Math.min(10, last) * rowStride;
        int o11 = aOff + Math.min(11, last) * rowStride;
        FloatVector c0_0 = FloatVector.zero(S), c0_1 = FloatVector.zero(S);
        FloatVector c1_0 = FloatVector.zero(S), c1_1 = FloatVector.zero(S);
        FloatVector c2_0 = FloatVector.zero(S), c2_1 = FloatVector.zero(S);
        FloatVector c3_0 = FloatVector.zero(S), c3_1 = FloatVector.zero(S);
        FloatVector c4_0 = FloatVector.zero(S), c4_1 = FloatVector.zero(S);
        FloatVector c5_0 = FloatVector.zero(S), c5_1 = FloatVector.zero(S);
        FloatVector c6_0 = FloatVector.zero(S), c6_1 = FloatVector.zero(S);
        FloatVector c7_0 = FloatVector.zero(S), c7_1 = FloatVector.zero(S);
        FloatVector c8_0 = FloatVector.zero(S), c8_1 = FloatVector.zero(S);
        FloatVector c9_0 = FloatVector.zero(S), c9_1 = FloatVector.zero(S);
        FloatVector c10_0 = FloatVector.zero(S), c10_1 = FloatVector.zero(S);
        FloatVector c11_0 = FloatVector.zero(S), c11_1 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ap = p * pStride;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, a[o0 + ap]);
            c0_0 = a0.fma(b0, c0_0);
            c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, a[o1 + ap]);
            c1_0 = a1.fma(b0, c1_0);
            c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, a[o2 + ap]);
            c2_0 = a2.fma(b0, c2_0);
            c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, a[o3 + ap]);
            c3_0 = a3.fma(b0, c3_0);
            c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, a[o4 + ap]);
            c4_0 = a4.fma(b0, c4_0);
            c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, a[o5 + ap]);
            c5_0 = a5.fma(b0, c5_0);
            c5_1 = a5.fma(b1, c5_1);
            FloatVector a6 = FloatVector.broadcast(S, a[o6 + ap]);
            c6_0 = a6.fma(b0, c6_0);
            c6_1 = a6.fma(b1, c6_1);
            FloatVector a7 = FloatVector.broadcast(S, a[o7 + ap]);
            c7_0 = a7.fma(b0, c7_0);
            c7_1 = a7.fma(b1, c7_1);
            FloatVector a8 = FloatVector.broadcast(S, a[o8 + ap]);
            c8_0 = a8.fma(b0, c8_0);
            c8_1 = a8.fma(b1, c8_1);
            FloatVector a9 = FloatVector.broadcast(S, a[o9 + ap]);
            c9_0 = a9.fma(b0, c9_0);
            c9_1 = a9.fma(b1, c9_1);
            FloatVector a10 = FloatVector.broadcast(S, a[o10 + ap]);
            c10_0 = a10.fma(b0, c10_0);
            c10_1 = a10.fma(b1, c10_1);
            FloatVector a11 = FloatVector.broadcast(S, a[o11 + ap]);
            c11_0 = a11.fma(b0, c11_0);
            c11_1 = a11.fma(b1, c11_1);
        }
        c0_0.intoArray(out, outOff);
        c0_1.intoArray(out, outOff + V);
        c1_0.intoArray(out, outOff + ldo);
        c1_1.intoArray(out, outOff + ldo + V);
        c2_0.intoArray(out, outOff + 2 * ldo);
        c2_1.intoArray(out, outOff + 2 * ldo + V);
        c3_0.intoArray(out, outOff + 3 * ldo);
        c3_1.intoArray(out, outOff + 3 * ldo + V);
        c4_0.intoArray(out, outOff + 4 * ldo);
        c4_1.intoArray(out, outOff + 4 * ldo + V);
        c5_0.intoArray(out, outOff + 5 * ldo);
        c5_1.intoArray(out, outOff + 5 * ldo + V);
        c6_0.intoArray(out, outOff + 6 * ldo);
        c6_1.intoArray(out, outOff + 6 * ldo + V);
        c7_0.intoArray(out, outOff + 7 * ldo);
        c7_1.intoArray(out, outOff + 7 * ldo + V);
        c8_0.intoArray(out, outOff + 8 * ldo);
        c8_1.intoArray(out, outOff + 8 * ldo + V);
        c9_0.intoArray(out, outOff + 9 * ldo);
        c9_1.intoArray(out, outOff + 9 * ldo + V);
        c10_0.intoArray(out, outOff + 10 * ldo);
        c10_1.intoArray(out, outOff + 10 * ldo + V);
        c11_0.intoArray(out, outOff + 11 * ldo);
        c11_1.intoArray(out, outOff + 11 * ldo + V);
    }

    /**
     * C[tile] ← alpha·tile + beta·C[tile] for the valid mr × nr corner (beta = 0 never reads C, so
     * stale NaNs cannot leak through 0·NaN), then the epilogue: C += bias, out = activation(C).
     * Rows go vector by vector (a 32-float loop is too short for C2 to vectorize), a ragged row's with lane
     * masks (kept off full rows, where they measured 3-5% slower); ReLU and identity are fused into the
     * vector pass, other activations run over the row in {@link Activations}, as the unfused op does.
     */
    private static void storeTile(float[] tile, int tOff, float[] c, int cOff, int ldc, int mr, int nr, float alpha,
                                  float beta, Activation activation, float[] bias, float[] out, int col) {
        boolean vectorEpilogue = activation == Activation.RELU || activation == Activation.IDENTITY;
        for (int r = 0; r < mr; r++) {
            int row = cOff + r * ldc, t = tOff + r * NR;
            if (nr == NR) {
                for (int j = 0; j < NR; j += V) {
                    FloatVector acc = FloatVector.fromArray(S, tile, t + j).mul(alpha);
                    if (beta != 0f) acc = FloatVector.fromArray(S, c, row + j).mul(beta).add(acc);
                    if (vectorEpilogue) {
                        acc = acc.add(FloatVector.fromArray(S, bias, col + j));
                        acc.intoArray(c, row + j);
                        (activation == Activation.RELU ? acc.max(0f) : acc).intoArray(out, row + j);
                    } else {
                        acc.intoArray(c, row + j);
                    }
                }
                if (activation != null && !vectorEpilogue) Activations.biasActivate(activation, c, row, bias, col, out, nr);
            } else {
                for (int j = 0; j < nr; j += V) {
                    VectorMask<Float> lanes = S.indexInRange(j, nr);
                    FloatVector acc = FloatVector.fromArray(S, tile, t + j).mul(alpha);
                    if (beta != 0f) acc = FloatVector.fromArray(S, c, row + j, lanes).mul(beta).add(acc);
                    if (vectorEpilogue) {
                        acc = acc.add(FloatVector.fromArray(S, bias, col + j, lanes));
                        acc.intoArray(c, row + j, lanes);
                        (activation == Activation.RELU ? acc.max(0f) : acc).intoArray(out, row + j, lanes);
                    } else {
                        acc.intoArray(c, row + j, lanes);
                    }
                }
                if (activation != null && !vectorEpilogue) Activations.biasActivate(activation, c, row, bias, col, out, nr);
            }
        }
    }

    /** C ← beta·C (beta = 0 overwrites), then the epilogue, when there is no product to add. */
    private static void scaleOnly(int m, int n, float beta, float[] c, Activation activation, float[] bias, float[] out) {
        int len = m * n;
        if (beta == 0f) java.util.Arrays.fill(c, 0, len, 0f);
        else if (beta != 1f) for (int i = 0; i < len; i++) c[i] *= beta;
        if (activation != null) for (int r = 0; r < m; r++) Activations.biasActivate(activation, c, r * n, bias, 0, out, n);
    }
}
