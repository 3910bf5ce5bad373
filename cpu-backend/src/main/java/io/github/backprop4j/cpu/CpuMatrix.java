package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;

/** A matrix in the Java heap: row-major floats. */
final class CpuMatrix extends Matrix {

    float[] data;

    CpuMatrix(Backend owner, int rows, int cols) {
        super(owner, rows, cols);
        data = new float[rows * cols];
    }

    @Override
    protected void release() {
        data = null; // the GC frees it; a use after close is caught by AbstractBackend first
    }
}
