package io.github.backprop4j.cuda;

import java.util.List;

/** gather.cu's launcher: grid-stride over the gathered elements. */
record GatherKernels(KernelLauncher launcher) {

    private static final String GATHER_ROWS = "gather_rows";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("gather", List.of(GATHER_ROWS));

    void gatherRows(CudaBuffer src, int srcRows, CudaBuffer order, int offset, CudaBuffer dst, int rows, int cols) {
        launcher.launch(GATHER_ROWS).ptr(src).i32(srcRows).ptr(order).i32(offset).i32(rows).i32(cols).ptr(dst)
                .gridStride((long) rows * cols);
    }
}
