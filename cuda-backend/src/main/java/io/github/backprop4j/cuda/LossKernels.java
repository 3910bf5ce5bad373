package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Loss;
import java.util.List;

/**
 * loss.cu's launcher. loss_gradient writes one partial sum per block into {@code blockLoss}, a scratch
 * buffer of at least {@link KernelLauncher#maxBlocks()} floats made once with the device (so a recorded
 * step never sees it reallocated), and loss_gradient_sum adds them in order.
 */
record LossKernels(KernelLauncher launcher, CudaBuffer blockLoss) {

    private static final String GRADIENT = "loss_gradient", SUM = "loss_gradient_sum";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("loss", List.of(GRADIENT, SUM));

    void lossGradient(Loss loss, CudaBuffer yHat, CudaBuffer y, CudaBuffer delta, CudaBuffer lossSum, int rows, int cols) {
        int blocks = launcher.warpPerRowBlocks(rows);
        launcher.launch(GRADIENT).ptr(yHat).ptr(y).ptr(delta).i32(rows).i32(cols).i32(loss.ordinal()).f32(1f / rows)
                .ptr(blockLoss).grid(blocks, KernelLauncher.THREADS, 1);
        launcher.launch(SUM).ptr(blockLoss).i32(blocks).ptr(lossSum).grid(1, KernelLauncher.THREADS, 1);
    }
}
