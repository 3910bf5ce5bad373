package io.github.backprop4j.opencl;

import io.github.backprop4j.core.Activation;
import org.jocl.cl_mem;

/** activation.cl's launcher: the only code that knows its kernels' arguments. */
final class ActivationKernels {

    private final OpenClProgram.Kernel forward, forwardSoftmax, backward;

    ActivationKernels(OpenClProgram program) {
        forward = program.kernel("activation_forward");
        forwardSoftmax = program.kernel("activation_forward_softmax");
        backward = program.kernel("activation_backward");
    }

    /** bias may be null (already added by the GEMM). */
    void activationForward(Activation f, cl_mem z, cl_mem bias, cl_mem out, int rows, int cols) {
        if (f == Activation.SOFTMAX)
            forwardSoftmax.launch().mem(z).mem(bias).mem(out).i32(rows).i32(cols).items(rows);
        else
            forward.launch().mem(z).mem(bias).mem(out).i32(rows).i32(cols).i32(f.ordinal()).items((long) rows * cols);
    }

    void activationBackward(Activation f, cl_mem z, cl_mem out, cl_mem delta, int rows, int cols) {
        int n = rows * cols;
        backward.launch().mem(z).mem(out).mem(delta).i32(n).i32(f.ordinal()).items(n);
    }
}
