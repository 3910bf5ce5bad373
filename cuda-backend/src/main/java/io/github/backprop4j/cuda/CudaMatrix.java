package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Matrix;
import jcuda.driver.CUdeviceptr;

/** A matrix in device memory: one cuMemAlloc'd block of rows·cols floats, row-major. */
final class CudaMatrix extends Matrix {

    /** A device pointer whose raw address can be handed to cuBLAS through FFM. */
    static final class DevicePointer extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    final DevicePointer pointer;
    private final CudaBackend backend;

    CudaMatrix(CudaBackend backend, int rows, int cols, DevicePointer pointer) {
        super(backend, rows, cols);
        this.backend = backend;
        this.pointer = pointer;
    }

    long address() {
        return pointer.address();
    }

    long bytes() {
        return size() * Float.BYTES;
    }

    @Override
    protected void release() {
        backend.free(this);
    }
}
