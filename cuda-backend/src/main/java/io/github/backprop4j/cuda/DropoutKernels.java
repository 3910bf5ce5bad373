package io.github.backprop4j.cuda;

import io.github.backprop4j.core.spi.DropoutMath;
import java.util.List;

/** dropout.cu's launcher: grid-stride over Philox blocks of four elements forward, over elements backward. */
record DropoutKernels(KernelLauncher launcher) {

    private static final String FORWARD = "dropout_forward", BACKWARD = "dropout_backward";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("dropout", List.of(FORWARD, BACKWARD));

    void dropoutForward(CudaBuffer in, CudaBuffer out, CudaBuffer mask, int rows, int cols, float dropProbability,
                        long seed, int layer, CudaBuffer step) {
        long n = (long) rows * cols;
        launcher.launch(FORWARD).ptr(in).ptr(out).ptr(mask).i64(n).i64(seed).i32(layer).ptr(step)
                .i64(DropoutMath.keepThreshold(dropProbability)).f32(DropoutMath.keepScale(dropProbability))
                .gridStride((n + 3) / 4);
    }

    void dropoutBackward(CudaBuffer delta, CudaBuffer mask, int rows, int cols) {
        long n = (long) rows * cols;
        launcher.launch(BACKWARD).ptr(delta).ptr(mask).i64(n).gridStride(n);
    }
}
