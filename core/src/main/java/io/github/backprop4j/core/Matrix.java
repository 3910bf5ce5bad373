package io.github.backprop4j.core;

/**
 * A dense float32 row-major matrix living on a backend's device. Its contents are reached only
 * through {@link Backend#upload} / {@link Backend#download}; a matrix belongs to the backend that
 * allocated it and is freed by {@link #close()}, when that backend closes, or (on the backend's thread,
 * at its next call) once it is no longer reachable.
 *
 * <pre>
 * try (Matrix a = backend.allocate(2, 3)) {
 *     backend.upload(new float[] {1, 2, 3, 4, 5, 6}, a);
 * }
 * </pre>
 */
public final class Matrix implements AutoCloseable {

    private final int rows;
    private final int cols;
    private final Backend owner;
    /** The device's handle, opaque here; only the owner's device knows its type. */
    final Object buffer;
    /** The owner's tracking entry for this matrix's buffer. */
    Backend.Allocation allocation;
    /** Set, under the owner's thread guard, when the buffer is freed. */
    volatile boolean released;

    Matrix(Backend owner, int rows, int cols, Object buffer) {
        this.owner = owner;
        this.rows = rows;
        this.cols = cols;
        this.buffer = buffer;
    }

    /**
     * Its rows.
     *
     * @return rows ≥ 1
     */
    public int rows() {
        return rows;
    }

    /**
     * Its columns.
     *
     * @return columns ≥ 1
     */
    public int cols() {
        return cols;
    }

    /**
     * Its element count.
     *
     * @return rows × cols
     */
    public long size() {
        return (long) rows * cols;
    }

    /**
     * The backend that allocated it, the only one whose ops take it.
     *
     * @return the owner
     */
    public Backend owner() {
        return owner;
    }

    /**
     * Whether its device memory was freed ({@link #close()}, or the backend's).
     *
     * @return true once freed
     */
    public boolean isReleased() {
        return released;
    }

    /**
     * For messages.
     *
     * @return e.g. "256×784"
     */
    public String shape() {
        return rows + "×" + cols;
    }

    /**
     * Frees the device memory, through the owner's thread guard: from another thread while the owner
     * is inside a call, it is a {@link BackendException} naming both threads. Idempotent, and a no-op
     * once the backend is closed.
     */
    @Override
    public void close() {
        if (!released) owner.free(this);
    }

    @Override
    public String toString() {
        return "Matrix[" + shape() + " on " + owner.name() + "]";
    }
}
