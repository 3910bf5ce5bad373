package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Matrix;

/** A matrix in device memory: one cuMemAlloc'd block of rows·cols floats, row-major. */
final class CudaMatrix extends Matrix {

    /** The device address of the first element. */
    final long address;

    CudaMatrix(CudaBackend backend, int rows, int cols, long address) {
        super(backend, rows, cols, () -> backend.free(address, (long) rows * cols * Float.BYTES));
        this.address = address;
    }
}
