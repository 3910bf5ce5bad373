package io.github.backprop4j.cuda;

import java.util.List;

/**
 * sum_of_squares.cu's launcher. sum_of_squares writes one partial per block into {@code blockPartials}
 * (the device's scratch of {@link KernelLauncher#maxBlocks()} floats, shared with the loss: both are
 * stream-ordered), sum_of_squares_total adds them in order in one block.
 */
record SumOfSquaresKernels(KernelLauncher launcher, CudaBuffer blockPartials) {

    private static final String PARTIALS = "sum_of_squares", TOTAL = "sum_of_squares_total";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("sum_of_squares", List.of(PARTIALS, TOTAL));

    void sumOfSquares(CudaBuffer m, long n, boolean accumulate, CudaBuffer out) {
        int blocks = launcher.gridStrideBlocks(n);
        launcher.launch(PARTIALS).ptr(m).i64(n).ptr(blockPartials).grid(blocks, KernelLauncher.THREADS, 1);
        launcher.launch(TOTAL).ptr(blockPartials).i32(blocks).i32(accumulate ? 1 : 0).ptr(out)
                .grid(1, KernelLauncher.THREADS, 1);
    }
}
