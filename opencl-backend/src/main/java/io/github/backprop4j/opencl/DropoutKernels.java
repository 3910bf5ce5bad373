package io.github.backprop4j.opencl;

import io.github.backprop4j.core.spi.DropoutMath;
import org.jocl.cl_mem;

/** dropout.cl's launcher: one work-item per Philox block of four elements forward, one per element backward. */
final class DropoutKernels {

    private final OpenClProgram.Kernel forward, backward;

    DropoutKernels(OpenClProgram program) {
        forward = program.kernel("dropout_forward");
        backward = program.kernel("dropout_backward");
    }

    void dropoutForward(cl_mem in, cl_mem out, cl_mem mask, int rows, int cols, float dropProbability, long seed,
                        int layer, cl_mem step) {
        int n = rows * cols;
        forward.launch().mem(in).mem(out).mem(mask).i32(n).i64(seed).i32(layer).mem(step)
                .i64(DropoutMath.keepThreshold(dropProbability)).f32(DropoutMath.keepScale(dropProbability))
                .items((n + 3L) / 4);
    }

    void dropoutBackward(cl_mem delta, cl_mem mask, int rows, int cols) {
        int n = rows * cols;
        backward.launch().mem(delta).mem(mask).i32(n).items(n);
    }
}
