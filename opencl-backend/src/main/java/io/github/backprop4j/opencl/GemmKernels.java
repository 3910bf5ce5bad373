package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clReleaseMemObject;

import io.github.backprop4j.core.BackendException;
import java.util.Locale;
import org.jocl.cl_context;
import org.jocl.cl_mem;

/**
 * gemm.cl's launchers: the only code that knows the arguments of {@code gemm}, {@code gemm_narrow_*}, their
 * {@code *_split_k} twins and {@code gemm_sum_splits}, and the SGEMM tiling {@code gemm} is compiled with
 * (TS × TS of C per work-group, WPT × WPT per work-item, TSK deep).
 *
 * <p>A product whose C gives fewer work-groups than the device has compute units, with a long K (a
 * weight gradient at a large batch: 128×8192×10 with A transposed is one work-group of a GPU's 132), is
 * split along K: each of several layers of work-groups multiplies one K range into a partial product in
 * a scratch buffer, and {@code gemm_sum_splits} adds them in order into C. A CPU device (PoCL) has a
 * compute unit per core: on two cores every Fashion-MNIST step product fills both, so there nothing
 * splits unless forced. Not yet run on a GPU.
 */
final class GemmKernels implements AutoCloseable {

    static final String SOURCE = "gemm.cl";
    /** "TS,WPT,TSK", e.g. "128,8,16": overrides the per-device choice (for tuning on new hardware). */
    static final String TILING_PROPERTY = "backprop4j.opencl.gemmTiling";
    /** "auto" (the default), "off", or a number of K ranges that every product is split into (tests, A/B runs). */
    static final String SPLIT_PROPERTY = "backprop4j.opencl.splitK";
    /** Auto splits give each K range at least this many steps, a multiple of every tiling's slice depth. */
    static final int MIN_SPLIT_DEPTH = 256;
    /** Auto splits keep the partial products within this many floats (64 MiB). */
    static final long MAX_PARTIAL_FLOATS = 16L << 20;
    /**
     * {@code gemm_narrow_*} take products whose C has at most this many columns or rows: there the tiled
     * {@code gemm}'s wide tile mostly multiplies zeros and it is several times slower on PoCL. The limit
     * keeps a GPU's re-reads of the long operand to 4 column strips.
     */
    static final int NARROW = 64;
    /** gemm.cl's NW: the columns of C per {@code gemm_narrow_*} work-group. */
    private static final int NARROW_COLUMNS = 16;
    /** gemm.cl's NRW: the rows of C per {@code gemm_narrow_*} work-item. */
    private static final int NARROW_ROWS = 8;

    record Tiling(int ts, int wpt, int tsk) {
        int side() {
            return ts / wpt;
        }

        /** The build options that compile gemm.cl for this tiling. */
        String options() {
            return String.format(Locale.ROOT, "-DTS=%d -DWPT=%d -DTSK=%d", ts, wpt, tsk);
        }
    }

    private final OpenClProgram.Kernel gemm, gemmSplitK;
    private final OpenClProgram.Kernel narrowAlongK, narrowAlongR, narrowAlongKSplitK, narrowAlongRSplitK;
    private final OpenClProgram.Kernel sumSplits;
    private final Tiling tiling;
    private final int narrowGroup;
    private final int computeUnits;
    /** 0: auto; -1: off; n > 0: always n K ranges. */
    private final int forcedSplits;
    private final cl_context context;
    /** The splits' partial products, grown to the largest split product so far; null until one. */
    private cl_mem partials;
    private long partialFloats;

    /** {@code program} must have been built with {@code tiling.options()}; K is split as {@link #SPLIT_PROPERTY} says. */
    GemmKernels(OpenClProgram program, Tiling tiling, OpenClDevices.Device device, cl_context context) {
        this(program, tiling, device, context, parseSplits(System.getProperty(SPLIT_PROPERTY)));
    }

    /** With {@code forcedSplits} as {@link #parseSplits} returns it (the tuner times the kernel unsplit: -1). */
    GemmKernels(OpenClProgram program, Tiling tiling, OpenClDevices.Device device, cl_context context, int forcedSplits) {
        this.tiling = tiling;
        this.narrowGroup = narrowGroup(device);
        this.computeUnits = device.computeUnits();
        this.forcedSplits = forcedSplits;
        this.context = context;
        this.gemm = program.kernel("gemm");
        this.gemmSplitK = program.kernel("gemm_split_k");
        this.narrowAlongK = program.kernel("gemm_narrow_along_k");
        this.narrowAlongR = program.kernel("gemm_narrow_along_r");
        this.narrowAlongKSplitK = program.kernel("gemm_narrow_along_k_split_k");
        this.narrowAlongRSplitK = program.kernel("gemm_narrow_along_r_split_k");
        this.sumSplits = program.kernel("gemm_sum_splits");
    }

    static int parseSplits(String text) {
        if (text == null || text.isBlank() || text.trim().equals("auto")) return 0;
        if (text.trim().equals("off")) return -1;
        try {
            int n = Integer.parseInt(text.trim());
            if (n > 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BackendException("opencl: " + SPLIT_PROPERTY + "='" + text + "' must be auto, off or a positive number");
    }

    /**
     * How many K ranges a product of {@code groups} work-groups is split into: auto splits only a product
     * that leaves compute units idle, into about as many ranges as fill them, each at least
     * {@link #MIN_SPLIT_DEPTH} deep, within {@link #MAX_PARTIAL_FLOATS} of partial products.
     */
    static int splits(int forced, long groups, int k, long outputs, int computeUnits) {
        if (forced < 0 || k < 2) return 1;
        // gemm_sum_splits indexes the partial products with ints
        if (forced > 0) return (int) Math.max(1, Math.min(Math.min(forced, k), Integer.MAX_VALUE / Math.max(1, outputs)));
        if (groups >= computeUnits) return 1;
        long wanted = (computeUnits + groups - 1) / groups;
        long byDepth = k / MIN_SPLIT_DEPTH, byMemory = MAX_PARTIAL_FLOATS / Math.max(1, outputs);
        return (int) Math.max(1, Math.min(wanted, Math.min(byDepth, byMemory)));
    }

    /**
     * The K range of each split: forced splits take equal ranges (ragged ones too, which the tests want);
     * auto ones round them up to whole {@link #MIN_SPLIT_DEPTH} blocks.
     */
    private int chunk(int splits, int k) {
        int even = (k + splits - 1) / splits;
        return forcedSplits > 0 ? even : (even + MIN_SPLIT_DEPTH - 1) / MIN_SPLIT_DEPTH * MIN_SPLIT_DEPTH;
    }

    /** The partial-product buffer, at least {@code floats} long. */
    private cl_mem partials(long floats) {
        if (floats > partialFloats) {
            if (partials != null) clReleaseMemObject(partials); // freed once the kernels queued on it are done
            partials = null; // a failed allocation below must not leave the released handle in use
            partialFloats = 0;
            int[] rc = new int[1];
            partials = clCreateBuffer(context, CL_MEM_READ_WRITE, floats * Float.BYTES, null, rc);
            OpenClProgram.check(rc[0], "clCreateBuffer(split-K partial products, " + floats + " floats)");
            partialFloats = floats;
        }
        return partials;
    }

    /** Adds {@code splits} partial products of {@code count} floats into C: alpha·Σ + beta·C. */
    private void sumSplits(int count, int splits, float alpha, float beta, cl_mem c) {
        sumSplits.launch().i32(count).i32(splits).f32(alpha).mem(partials).f32(beta).mem(c).items(count);
    }

    /** How K is split, for reports: "auto (N compute units)", "off" or "forced to N ranges". */
    String splitMode() {
        return forcedSplits == 0 ? "auto (" + computeUnits + " compute units)"
                : forcedSplits < 0 ? "off" : "forced to " + forcedSplits + " ranges";
    }

    long scratchBytes() {
        return partialFloats * Float.BYTES;
    }

    @Override
    public void close() {
        if (partials != null) clReleaseMemObject(partials);
        partials = null;
        partialFloats = 0;
    }

    /**
     * Work-items per {@code gemm_narrow_*} work-group: on a CPU device (PoCL) each work-group is a loop
     * on one core, and 8 (64 rows of C) was the fastest group size at the output layer's shapes while
     * still giving a 128-row C one work-group per core; on a GPU one warp (32), so that a few thousand
     * rows still spread over several compute units (not yet run on a GPU).
     */
    static int narrowGroup(OpenClDevices.Device device) {
        return device.isGpu() ? 32 : 8;
    }

    /** Whether {@link #gemmNarrow} takes this product: C has at most {@link #NARROW} columns or rows. */
    static boolean isNarrow(int m, int n) {
        return Math.min(m, n) <= NARROW;
    }

    /**
     * {@link #gemm}'s product for C with few columns (n ≤ m: each work-item owns rows of C, each
     * work-group 16 of its columns), or else few rows, computed as Cᵀ = op(B)ᵀ·op(A)ᵀ (each work-item
     * owns columns of C).
     */
    void gemmNarrow(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, cl_mem b, float beta,
                    cl_mem c) {
        if (n <= m)
            launchNarrow(m, n, k, alpha, a, transA ? m : k, !transA, b, transB ? k : n, transB, beta, c, n, 1);
        else
            launchNarrow(n, m, k, alpha, b, transB ? k : n, transB, a, transA ? m : k, !transA, beta, c, 1, n);
    }

    private void launchNarrow(int rows, int width, int k, float alpha, cl_mem longOperand, int ldl, boolean lAlongK,
                              cl_mem shortOperand, int lds, boolean sAlongK, float beta, cl_mem c, int csr, int csj) {
        int groupRows = narrowGroup * NARROW_ROWS;
        long rowGroups = (rows + groupRows - 1) / groupRows, columnGroups = (width + NARROW_COLUMNS - 1) / NARROW_COLUMNS;
        long outputs = (long) rows * width;
        int splits = splits(forcedSplits, rowGroups * columnGroups, k, outputs, computeUnits);
        if (splits == 1) {
            (lAlongK ? narrowAlongK : narrowAlongR).launch().i32(rows).i32(width).i32(k).f32(alpha)
                    .mem(longOperand).i32(ldl)
                    .mem(shortOperand).i32(lds).i32(sAlongK ? 1 : 0)
                    .f32(beta).mem(c).i32(csr).i32(csj)
                    .grid(new long[]{rowGroups * narrowGroup, columnGroups}, new long[]{narrowGroup, 1});
            return;
        }
        int chunk = chunk(splits, k);
        splits = (k + chunk - 1) / chunk;
        (lAlongK ? narrowAlongKSplitK : narrowAlongRSplitK).launch().i32(rows).i32(width).i32(k).i32(chunk)
                .mem(longOperand).i32(ldl)
                .mem(shortOperand).i32(lds).i32(sAlongK ? 1 : 0)
                .mem(partials(splits * outputs)).i32(csr).i32(csj)
                .grid(new long[]{rowGroups * narrowGroup, columnGroups, splits}, new long[]{narrowGroup, 1, 1});
        sumSplits((int) outputs, splits, alpha, beta, c);
    }

    Tiling tiling() {
        return tiling;
    }

    /** C ← alpha·op(A)·op(B) + beta·C, row-major, A stored m × k (k × m when transA), B k × n (n × k). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, cl_mem b, float beta, cl_mem c) {
        int ts = tiling.ts(), side = tiling.side();
        long columnTiles = (n + ts - 1) / ts, rowTiles = (m + ts - 1) / ts;
        long outputs = (long) m * n;
        int splits = splits(forcedSplits, columnTiles * rowTiles, k, outputs, computeUnits);
        if (splits == 1) {
            gemm.launch().i32(m).i32(n).i32(k).f32(alpha)
                    .mem(a).i32(transA ? m : k).i32(transA ? 1 : 0)
                    .mem(b).i32(transB ? k : n).i32(transB ? 1 : 0)
                    .f32(beta).mem(c)
                    .grid(new long[]{columnTiles * side, rowTiles * side}, new long[]{side, side});
            return;
        }
        int chunk = chunk(splits, k);
        splits = (k + chunk - 1) / chunk;
        gemmSplitK.launch().i32(m).i32(n).i32(k).i32(chunk)
                .mem(a).i32(transA ? m : k).i32(transA ? 1 : 0)
                .mem(b).i32(transB ? k : n).i32(transB ? 1 : 0)
                .mem(partials(splits * outputs))
                .grid(new long[]{columnTiles * side, rowTiles * side, splits}, new long[]{side, side, 1});
        sumSplits((int) outputs, splits, alpha, beta, c);
    }

    /**
     * The starting point when nothing is forced, cached or tuned. Bigger register blocks on GPUs (more
     * outputs per work-item hide memory latency), smaller work-groups where the device caps them; local
     * memory use is 2·TSK·(TS+1)·4 bytes. CPU devices (PoCL) want few work-items with large blocks
     * (64,16,32): each work-item is a loop on a core, and a larger block amortizes its tile loads.
     */
    static Tiling heuristicTiling(OpenClDevices.Device d) {
        String forced = System.getProperty(TILING_PROPERTY);
        if (forced != null && !forced.isBlank()) return parseTiling(forced);
        Tiling t;
        if (!d.isGpu() && (d.type() & CL_DEVICE_TYPE_CPU) != 0) t = new Tiling(64, 16, 32);
        else if (d.isGpu() && d.maxWorkGroup() >= 256) t = new Tiling(128, 8, 16);
        else if (d.maxWorkGroup() >= 256) t = new Tiling(64, 4, 16);
        else if (d.maxWorkGroup() >= 64) t = new Tiling(32, 4, 16);
        else t = new Tiling(16, 4, 16);
        long local = 2L * t.tsk() * (t.ts() + 1) * Float.BYTES;
        if (local > d.localMemory() && t.ts() > 16) t = new Tiling(t.ts() / 2, t.wpt(), t.tsk());
        return t;
    }

    static Tiling parseTiling(String text) {
        String[] p = text.split(",");
        try {
            if (p.length == 3) {
                Tiling t = new Tiling(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()),
                        Integer.parseInt(p[2].trim()));
                if (t.ts() > 0 && t.wpt() > 0 && t.tsk() > 0 && t.ts() % t.wpt() == 0) return t;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BackendException("opencl: " + TILING_PROPERTY + "='" + text
                + "' must be TS,WPT,TSK with positive integers and TS divisible by WPT");
    }
}
