package io.github.backprop4j.core;

/**
 * A dense float32 row-major matrix living on a backend's device. Its contents are reached only
 * through {@link Backend#upload} / {@link Backend#download}; a matrix belongs to the backend that
 * allocated it, and its device memory is freed by {@link #close()}, by the backend's close, or, for
 * a matrix dropped without close(), at the backend's next allocation after the garbage collector
 * found it unreachable (always on the thread using the backend, never on a GC thread).
 */
public abstract class Matrix implements AutoCloseable {

    /**
     * A matrix's device memory, freed exactly once through {@link #free()}. It must not refer to its
     * Matrix, so that it can be freed after the Matrix has become unreachable.
     */
    @FunctionalInterface
    protected interface Storage {
        void free();
    }

    private final int rows;
    private final int cols;
    private final AbstractBackend owner;
    private final Storage storage;
    private volatile boolean released;
    /** The owner's record of this matrix's storage (set when the owner tracks it). */
    AbstractBackend.Allocation allocation;

    protected Matrix(AbstractBackend owner, int rows, int cols, Storage storage) {
        this.owner = owner;
        this.rows = rows;
        this.cols = cols;
        this.storage = storage;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    /** rows × cols. */
    public final long size() {
        return (long) rows * cols;
    }

    public final Backend owner() {
        return owner;
    }

    public final boolean isReleased() {
        return released;
    }

    Storage storage() {
        return storage;
    }

    void markReleased() {
        released = true;
    }

    /** "256×784", for messages. */
    public final String shape() {
        return rows + "×" + cols;
    }

    /** Frees the device memory. Idempotent; a no-op once the owner is closed (which freed it). */
    @Override
    public final void close() {
        if (!released) owner.free(this);
    }

    @Override
    public String toString() {
        return "Matrix[" + shape() + " on " + owner.name() + "]";
    }
}
