package io.github.backprop4j.cuda;

import java.util.List;

/** column_sum.cu's launcher: 32 × 32 blocks, each owning 32 adjacent columns. */
record ColumnSumKernels(KernelLauncher launcher) {

    private static final String COLUMN_SUM = "column_sum";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("column_sum", List.of(COLUMN_SUM));

    void columnSum(CudaBuffer m, int rows, int cols, float alpha, float beta, CudaBuffer out) {
        launcher.launch(COLUMN_SUM).ptr(m).i32(rows).i32(cols).f32(alpha).f32(beta).ptr(out)
                .grid((cols + 31) / 32, 32, 32);
    }
}
