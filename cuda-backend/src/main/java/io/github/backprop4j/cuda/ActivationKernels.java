package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Activation;
import java.util.List;

/** activation.cu's launcher: the only code that knows its kernels' parameters. */
record ActivationKernels(KernelLauncher launcher) {

    private static final String FORWARD = "activation_forward", FORWARD_SOFTMAX = "activation_forward_softmax",
            BACKWARD = "activation_backward";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("activation",
            List.of(FORWARD, FORWARD_SOFTMAX, BACKWARD));

    /** bias may be null (the GEMM epilogue added it); softmax runs one warp per row. */
    void activationForward(Activation f, CudaBuffer z, CudaBuffer bias, CudaBuffer out, int rows, int cols) {
        if (f == Activation.SOFTMAX) {
            launcher.launch(FORWARD_SOFTMAX).ptr(z).ptr(bias).ptr(out).i32(rows).i32(cols).warpPerRow(rows);
            return;
        }
        launcher.launch(FORWARD).ptr(z).ptr(bias).ptr(out).i32(rows).i32(cols).i32(f.ordinal())
                .gridStride((long) rows * cols);
    }

    void activationBackward(Activation f, CudaBuffer z, CudaBuffer out, CudaBuffer delta, int rows, int cols) {
        long n = (long) rows * cols;
        launcher.launch(BACKWARD).ptr(z).ptr(out).ptr(delta).i64(n).i32(f.ordinal()).gridStride(n);
    }
}
