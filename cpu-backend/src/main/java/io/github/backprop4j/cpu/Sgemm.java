package io.github.backprop4j.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C ← alpha·op(A)·op(B) + beta·C on row-major float arrays, in the GotoBLAS shape:
 * op(B) is packed into kc × NR column panels, op(A) into MR × kc row panels (transposes are absorbed
 * by the packing, never materialized), and a register-blocked MR × NR micro-kernel (4 or 12 rows ×
 * two vectors) accumulates in registers with FMAs. Rows of C are split across the pool's workers.
 *
 * <p>Packing buffers and fork/join tasks are owned by this object and reused: a call allocates nothing. One Sgemm serves one backend (one thread at a time, see {@link CpuBackend}).
 */
final class Sgemm implements ParallelRows.Body {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /**
     * Rows per micro-kernel. With 16 vector registers (AVX2) 4 rows × 2 vectors: 8 accumulators; 6 or 8
     * rows measured 20-25% slower there. With 32 (AVX-512) 12 rows: 24 accumulators, and each loaded B
     * vector serves 12 FMAs; on a 2-core Xeon 207 against 162 GFLOP/s at n = 4096 (8 rows: 199).
     */
    static final int MR = V >= 16 ? 12 : 4;
    static final int NR = 2 * V;
    private static final int KC = 256;
    private static final int MC = 24 * MR;     // 96 (288) rows × 256 × 4 B = 96 (288) KiB of packed A per worker: L2
    private static final int NC = 64 * NR;     // 256 × 1024 × 4 B = 1 MiB of packed B (AVX2), shared: L3
    /** Below this many multiply-adds the fork/join overhead outweighs a second core. */
    private static final long PARALLEL_THRESHOLD = 1L << 18;

    private final ParallelRows parallel;
    private final int threads;
    private final float[] packedB = new float[KC * NC];
    private final float[][] packedA;
    private final float[][] edgeTiles;

    Sgemm(ParallelRows parallel) {
        this.parallel = parallel;
        this.threads = parallel.threads();
        this.packedA = new float[threads][MC * KC];
        this.edgeTiles = new float[threads][MR * NR];
    }

    void multiply(boolean transA, boolean transB, int m, int n, int k, float alpha,
                  float[] a, int lda, float[] b, int ldb, float beta, float[] c) {
        scale(c, m * n, beta);
        if (alpha == 0f || k == 0) return;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(transB, b, ldb, pc, kc, jc, nc);
                long work = (long) m * nc * kc;
                int workers = work < PARALLEL_THRESHOLD ? 1 : Math.min(threads, Math.max(1, (m + MR - 1) / MR));
                curTransA = transA;
                curA = a;
                curLda = lda;
                curPc = pc;
                curKc = kc;
                curJc = jc;
                curNc = nc;
                curN = n;
                curAlpha = alpha;
                curC = c;
                parallel.run(workers, m, MR, this);
            }
        }
    }

    /** The current block's operands, read by {@link #run} on every worker (set before each dispatch). */
    private boolean curTransA;
    private float[] curA, curC;
    private int curLda, curPc, curKc, curJc, curNc, curN;
    private float curAlpha;

    @Override
    public void run(int worker, int from, int to) {
        rowStripe(worker, from, to, curTransA, curA, curLda, curPc, curKc, curJc, curNc, curN, curAlpha, curC);
    }

    /** Rows [from, to) of C for the current (pc, jc) block, packing A in MC-row slices. */
    private void rowStripe(int worker, int from, int to, boolean transA, float[] a, int lda, int pc, int kc,
                           int jc, int nc, int n, float alpha, float[] c) {
        float[] pa = packedA[worker];
        float[] tile = edgeTiles[worker];
        for (int ic = from; ic < to; ic += MC) {
            int mc = Math.min(MC, to - ic);
            packA(transA, a, lda, ic, mc, pc, kc, pa);
            for (int jr = 0; jr < nc; jr += NR) {
                int nr = Math.min(NR, nc - jr);
                int bOff = (jr / NR) * kc * NR;
                for (int ir = 0; ir < mc; ir += MR) {
                    int mr = Math.min(MR, mc - ir);
                    int aOff = (ir / MR) * kc * MR;
                    int cOff = (ic + ir) * n + jc + jr;
                    if (mr == MR && nr == NR) kernel(kc, pa, aOff, packedB, bOff, alpha, c, cOff, n);
                    else edgeKernel(kc, pa, aOff, packedB, bOff, alpha, c, cOff, n, mr, nr, tile);
                }
            }
        }
    }

    /** op(B)[pc.., jc..] into panels of NR columns, k-major inside a panel, zero-padded at the edge. */
    private void packB(boolean transB, float[] b, int ldb, int pc, int kc, int jc, int nc) {
        float[] pb = packedB;
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int base = (jr / NR) * kc * NR;
            for (int p = 0; p < kc; p++) {
                int dst = base + p * NR;
                if (!transB) {
                    System.arraycopy(b, (pc + p) * ldb + jc + jr, pb, dst, nr);
                } else {
                    for (int j = 0; j < nr; j++) pb[dst + j] = b[(jc + jr + j) * ldb + pc + p];
                }
                for (int j = nr; j < NR; j++) pb[dst + j] = 0f;
            }
        }
    }

    /** op(A)[ic.., pc..] into panels of MR rows, k-major inside a panel, zero-padded at the edge. */
    private static void packA(boolean transA, float[] a, int lda, int ic, int mc, int pc, int kc, float[] pa) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int base = (ir / MR) * kc * MR;
            if (!transA) {
                for (int r = 0; r < mr; r++) {
                    int src = (ic + ir + r) * lda + pc;
                    for (int p = 0; p < kc; p++) pa[base + p * MR + r] = a[src + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int src = (pc + p) * lda + ic + ir;
                    for (int r = 0; r < mr; r++) pa[base + p * MR + r] = a[src + r];
                }
            }
            if (mr < MR)
                for (int p = 0; p < kc; p++) for (int r = mr; r < MR; r++) pa[base + p * MR + r] = 0f;
        }
    }

    /**
     * The full MR × NR micro-kernel: eight vector accumulators stay in registers across kc FMAs.
     * (Six rows, twelve accumulators, spill on AVX2's 16 registers: measured 20 vs 35 GFLOP/s a core.)
     */
    private static void kernel(int kc, float[] pa, int aOff, float[] pb, int bOff, float alpha,
                               float[] c, int cOff, int ldc) {
        if (MR == 12) kernel12(kc, pa, aOff, pb, bOff, alpha, c, cOff, ldc);
        else kernel4(kc, pa, aOff, pb, bOff, alpha, c, cOff, ldc);
    }

    private static void kernel4(int kc, float[] pa, int aOff, float[] pb, int bOff, float alpha,
                                float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
        }
        accumulate(c, cOff, alpha, c00, c01);
        accumulate(c, cOff + ldc, alpha, c10, c11);
        accumulate(c, cOff + 2 * ldc, alpha, c20, c21);
        accumulate(c, cOff + 3 * ldc, alpha, c30, c31);
    }

    /**
     * 12 rows × 2 vectors for 32-register CPUs. C is updated inline rather than through
     * {@link #accumulate}: C2 does not inline a call from a method this large, and vectors passed to
     * a call that is not inlined travel as heap objects (measured six times slower).
     */
    private static void kernel12(int kc, float[] pa, int aOff, float[] pb, int bOff, float alpha,
                                float[] c, int cOff, int ldc) {
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
            int bi = bOff + p * NR, ai = aOff + p * 12;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai + 0]);
            c0_0 = a0.fma(b0, c0_0);
            c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c1_0 = a1.fma(b0, c1_0);
            c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c2_0 = a2.fma(b0, c2_0);
            c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c3_0 = a3.fma(b0, c3_0);
            c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c4_0 = a4.fma(b0, c4_0);
            c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c5_0 = a5.fma(b0, c5_0);
            c5_1 = a5.fma(b1, c5_1);
            FloatVector a6 = FloatVector.broadcast(S, pa[ai + 6]);
            c6_0 = a6.fma(b0, c6_0);
            c6_1 = a6.fma(b1, c6_1);
            FloatVector a7 = FloatVector.broadcast(S, pa[ai + 7]);
            c7_0 = a7.fma(b0, c7_0);
            c7_1 = a7.fma(b1, c7_1);
            FloatVector a8 = FloatVector.broadcast(S, pa[ai + 8]);
            c8_0 = a8.fma(b0, c8_0);
            c8_1 = a8.fma(b1, c8_1);
            FloatVector a9 = FloatVector.broadcast(S, pa[ai + 9]);
            c9_0 = a9.fma(b0, c9_0);
            c9_1 = a9.fma(b1, c9_1);
            FloatVector a10 = FloatVector.broadcast(S, pa[ai + 10]);
            c10_0 = a10.fma(b0, c10_0);
            c10_1 = a10.fma(b1, c10_1);
            FloatVector a11 = FloatVector.broadcast(S, pa[ai + 11]);
            c11_0 = a11.fma(b0, c11_0);
            c11_1 = a11.fma(b1, c11_1);
        }
        FloatVector al = FloatVector.broadcast(S, alpha);
        c0_0.fma(al, FloatVector.fromArray(S, c, cOff)).intoArray(c, cOff);
        c0_1.fma(al, FloatVector.fromArray(S, c, cOff + V)).intoArray(c, cOff + V);
        c1_0.fma(al, FloatVector.fromArray(S, c, cOff + 1 * ldc)).intoArray(c, cOff + 1 * ldc);
        c1_1.fma(al, FloatVector.fromArray(S, c, cOff + 1 * ldc + V)).intoArray(c, cOff + 1 * ldc + V);
        c2_0.fma(al, FloatVector.fromArray(S, c, cOff + 2 * ldc)).intoArray(c, cOff + 2 * ldc);
        c2_1.fma(al, FloatVector.fromArray(S, c, cOff + 2 * ldc + V)).intoArray(c, cOff + 2 * ldc + V);
        c3_0.fma(al, FloatVector.fromArray(S, c, cOff + 3 * ldc)).intoArray(c, cOff + 3 * ldc);
        c3_1.fma(al, FloatVector.fromArray(S, c, cOff + 3 * ldc + V)).intoArray(c, cOff + 3 * ldc + V);
        c4_0.fma(al, FloatVector.fromArray(S, c, cOff + 4 * ldc)).intoArray(c, cOff + 4 * ldc);
        c4_1.fma(al, FloatVector.fromArray(S, c, cOff + 4 * ldc + V)).intoArray(c, cOff + 4 * ldc + V);
        c5_0.fma(al, FloatVector.fromArray(S, c, cOff + 5 * ldc)).intoArray(c, cOff + 5 * ldc);
        c5_1.fma(al, FloatVector.fromArray(S, c, cOff + 5 * ldc + V)).intoArray(c, cOff + 5 * ldc + V);
        c6_0.fma(al, FloatVector.fromArray(S, c, cOff + 6 * ldc)).intoArray(c, cOff + 6 * ldc);
        c6_1.fma(al, FloatVector.fromArray(S, c, cOff + 6 * ldc + V)).intoArray(c, cOff + 6 * ldc + V);
        c7_0.fma(al, FloatVector.fromArray(S, c, cOff + 7 * ldc)).intoArray(c, cOff + 7 * ldc);
        c7_1.fma(al, FloatVector.fromArray(S, c, cOff + 7 * ldc + V)).intoArray(c, cOff + 7 * ldc + V);
        c8_0.fma(al, FloatVector.fromArray(S, c, cOff + 8 * ldc)).intoArray(c, cOff + 8 * ldc);
        c8_1.fma(al, FloatVector.fromArray(S, c, cOff + 8 * ldc + V)).intoArray(c, cOff + 8 * ldc + V);
        c9_0.fma(al, FloatVector.fromArray(S, c, cOff + 9 * ldc)).intoArray(c, cOff + 9 * ldc);
        c9_1.fma(al, FloatVector.fromArray(S, c, cOff + 9 * ldc + V)).intoArray(c, cOff + 9 * ldc + V);
        c10_0.fma(al, FloatVector.fromArray(S, c, cOff + 10 * ldc)).intoArray(c, cOff + 10 * ldc);
        c10_1.fma(al, FloatVector.fromArray(S, c, cOff + 10 * ldc + V)).intoArray(c, cOff + 10 * ldc + V);
        c11_0.fma(al, FloatVector.fromArray(S, c, cOff + 11 * ldc)).intoArray(c, cOff + 11 * ldc);
        c11_1.fma(al, FloatVector.fromArray(S, c, cOff + 11 * ldc + V)).intoArray(c, cOff + 11 * ldc + V);
    }

    private static void accumulate(float[] c, int off, float alpha, FloatVector lo, FloatVector hi) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        lo.fma(a, FloatVector.fromArray(S, c, off)).intoArray(c, off);
        hi.fma(a, FloatVector.fromArray(S, c, off + V)).intoArray(c, off + V);
    }

    /**
     * A partial tile at the right or bottom edge: the register kernel runs on the zero-padded panels
     * into a scratch tile, and only the valid mr × nr corner is added to C.
     */
    private static void edgeKernel(int kc, float[] pa, int aOff, float[] pb, int bOff, float alpha,
                                   float[] c, int cOff, int ldc, int mr, int nr, float[] tile) {
        java.util.Arrays.fill(tile, 0f);
        kernel(kc, pa, aOff, pb, bOff, 1f, tile, 0, NR);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++) c[cOff + r * ldc + j] += alpha * tile[r * NR + j];
    }

    /** c ← beta·c; beta = 0 overwrites (so stale NaNs in C cannot leak through 0·NaN). */
    private static void scale(float[] c, int len, float beta) {
        if (beta == 1f) return;
        if (beta == 0f) {
            java.util.Arrays.fill(c, 0, len, 0f);
            return;
        }
        int i = 0;
        for (int upper = S.loopBound(len); i < upper; i += V)
            FloatVector.fromArray(S, c, i).mul(beta).intoArray(c, i);
        for (; i < len; i++) c[i] *= beta;
    }
}
