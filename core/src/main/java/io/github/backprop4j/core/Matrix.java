package io.github.backprop4j.core;

/**
 * A dense float32 row-major matrix living on a backend's device. Its contents are reached only
 * through {@link Backend#upload} / {@link Backend#download}; a matrix belongs to the backend that
 * allocated it and is freed by {@link #close()} or when that backend closes.
 */
public abstract class Matrix implements AutoCloseable {

    private final int rows;
    private final int cols;
    private final Backend owner;
    private volatile boolean released;

    protected Matrix(Backend owner, int rows, int cols) {
        this.owner = owner;
        this.rows = rows;
        this.cols = cols;
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

    /** "256×784", for messages. */
    public final String shape() {
        return rows + "×" + cols;
    }

    /** Frees the device memory. Idempotent. */
    @Override
    public final void close() {
        if (!released) {
            released = true;
            release();
        }
    }

    /** Backend-specific freeing of the storage; called once. */
    protected abstract void release();

    @Override
    public String toString() {
        return "Matrix[" + shape() + " on " + owner.name() + "]";
    }
}
