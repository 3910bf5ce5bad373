package io.github.backprop4j.opencl;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import org.jocl.CL;
import org.jocl.cl_mem;

/** A float32 row-major matrix in an OpenCL buffer. */
final class OpenClMatrix extends Matrix {

    final cl_mem buffer;
    private final OpenClBackend backend;

    OpenClMatrix(OpenClBackend backend, int rows, int cols, cl_mem buffer) {
        super((Backend) backend, rows, cols);
        this.backend = backend;
        this.buffer = buffer;
    }

    @Override
    protected void release() {
        CL.clReleaseMemObject(buffer);
        backend.released(size() * Float.BYTES);
    }
}
