package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_DEVICE_TYPE_CPU;

import io.github.backprop4j.core.BackendException;
import java.util.Locale;
import org.jocl.cl_mem;

/**
 * gemm.cl's launchers: the only code that knows the arguments of {@code gemm} and {@code gemm_narrow_*},
 * and the SGEMM tiling {@code gemm} is compiled with (TS × TS of C per work-group, WPT × WPT per
 * work-item, TSK deep).
 */
final class GemmKernels {

    static final String SOURCE = "gemm.cl";
    /** "TS,WPT,TSK", e.g. "128,8,16": overrides the per-device choice (for tuning on new hardware). */
    static final String TILING_PROPERTY = "backprop4j.opencl.gemmTiling";
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

    private final OpenClProgram.Kernel gemm;
    private final OpenClProgram.Kernel narrowAlongK, narrowAlongR;
    private final Tiling tiling;
    private final int narrowGroup;

    /** {@code program} must have been built with {@code tiling.options()}. */
    GemmKernels(OpenClProgram program, Tiling tiling, OpenClDevices.Device device) {
        this.tiling = tiling;
        this.narrowGroup = narrowGroup(device);
        this.gemm = program.kernel("gemm");
        this.narrowAlongK = program.kernel("gemm_narrow_along_k");
        this.narrowAlongR = program.kernel("gemm_narrow_along_r");
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
        (lAlongK ? narrowAlongK : narrowAlongR).launch().i32(rows).i32(width).i32(k).f32(alpha)
                .mem(longOperand).i32(ldl)
                .mem(shortOperand).i32(lds).i32(sAlongK ? 1 : 0)
                .f32(beta).mem(c).i32(csr).i32(csj)
                .grid(new long[]{(long) (rows + groupRows - 1) / groupRows * narrowGroup,
                        (width + NARROW_COLUMNS - 1) / NARROW_COLUMNS}, new long[]{narrowGroup, 1});
    }

    Tiling tiling() {
        return tiling;
    }

    /** C ← alpha·op(A)·op(B) + beta·C, row-major, A stored m × k (k × m when transA), B k × n (n × k). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, cl_mem b, float beta, cl_mem c) {
        int ts = tiling.ts(), side = tiling.side();
        gemm.launch().i32(m).i32(n).i32(k).f32(alpha)
                .mem(a).i32(transA ? m : k).i32(transA ? 1 : 0)
                .mem(b).i32(transB ? k : n).i32(transB ? 1 : 0)
                .f32(beta).mem(c)
                .grid(new long[]{(long) ((n + ts - 1) / ts) * side, (long) ((m + ts - 1) / ts) * side}, new long[]{side, side});
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
