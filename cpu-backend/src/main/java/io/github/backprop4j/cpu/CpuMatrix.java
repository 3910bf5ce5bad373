package io.github.backprop4j.cpu;

import io.github.backprop4j.core.AbstractBackend;
import io.github.backprop4j.core.Matrix;

/** A matrix in the Java heap: row-major floats. */
final class CpuMatrix extends Matrix {

    /** The floats, dropped when freed so that the GC takes them even while the Matrix is still referenced. */
    private static final class Heap implements Storage {
        float[] data;

        Heap(int floats) {
            data = new float[floats];
        }

        @Override
        public void free() {
            data = null; // a use after close is caught by AbstractBackend first
        }
    }

    private final Heap heap;

    CpuMatrix(AbstractBackend owner, int rows, int cols) {
        this(owner, rows, cols, new Heap(rows * cols));
    }

    private CpuMatrix(AbstractBackend owner, int rows, int cols, Heap heap) {
        super(owner, rows, cols, heap);
        this.heap = heap;
    }

    float[] data() {
        return heap.data;
    }
}
