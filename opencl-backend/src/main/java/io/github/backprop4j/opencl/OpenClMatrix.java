package io.github.backprop4j.opencl;

import io.github.backprop4j.core.Matrix;
import org.jocl.CL;
import org.jocl.cl_mem;

/** A float32 row-major matrix in an OpenCL buffer. */
final class OpenClMatrix extends Matrix {

    final cl_mem buffer;

    OpenClMatrix(OpenClBackend backend, int rows, int cols, cl_mem buffer) {
        super(backend, rows, cols, () -> {
            CL.clReleaseMemObject(buffer);
            backend.released((long) rows * cols * Float.BYTES);
        });
        this.buffer = buffer;
    }
}
