package io.github.backprop4j.core;

import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Base of every backend: validates each call (ownership, shapes, closed state) with messages that
 * name the operation, the backend and both shapes, then hands the work to the backend's
 * {@code do…} method. Device code is therefore never reached with an inconsistent operand.
 *
 * <p>It also enforces the threading contract of {@link Backend}: every public op marks the backend as
 * in use by the calling thread for its duration, and a second thread entering meanwhile gets a
 * {@link BackendException} naming the op and both threads instead of racing on device state.
 *
 * <p>It owns every matrix's storage until it is freed: {@link Matrix#close()}, this backend's
 * {@link #close()}, or, for a matrix dropped without close(), the next {@link #allocate} after the
 * garbage collector has found it unreachable. Freeing always happens on the thread using the backend,
 * inside an op, never on a GC or cleaner thread: backends are thread-confined, and a recorded step (a
 * CUDA graph) may hold raw pointers that must not be freed under it.
 */
public abstract class AbstractBackend implements Backend {

    private final String name;
    private final Precision precision;
    /** Every allocation not yet freed, reachable or not; its Matrix is held weakly. */
    private final Set<Allocation> allocations = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Allocations whose Matrix the GC found unreachable: freed at the next allocate. */
    private final ReferenceQueue<Matrix> unreachable = new ReferenceQueue<>();
    private volatile boolean closed;
    /** The thread inside a public op right now, or null: one compare-and-set per call. */
    private final AtomicReference<Thread> user = new AtomicReference<>();
    /** True while {@link #replay} runs a body (only the thread inside reads or writes it). */
    private boolean inReplayBody;

    protected AbstractBackend(String name, Precision precision) {
        this.name = name;
        this.precision = precision;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final Precision precision() {
        return precision;
    }

    // ---- what a backend implements (operands already validated) ----

    protected abstract Matrix doAllocate(int rows, int cols);

    protected abstract void doUpload(float[] src, Matrix dst);

    protected abstract void doDownload(Matrix src, float[] dst);

    protected abstract void doGemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c);

    protected abstract void doActivate(Activation f, Matrix z, Matrix bias, Matrix out);

    protected abstract void doActivationBackward(Activation f, Matrix z, Matrix out, Matrix delta);

    protected abstract void doColumnSum(Matrix m, float alpha, float beta, Matrix out);

    protected abstract void doLossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum);

    protected abstract void doUpdate(Optimizer.State state, Matrix param, Matrix grad);

    protected abstract void doSynchronize();

    /** Unfused by default: gemm, then bias + activation. */
    protected void doDenseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out) {
        doGemm(false, false, 1f, input, weights, 0f, z);
        doActivate(f, z, bias, out);
    }

    /** Unfused by default: dW = inputᵀ·delta, then db = column sum of delta. */
    protected void doDenseGradients(Matrix input, Matrix delta, Matrix dW, Matrix db) {
        doGemm(true, false, 1f, input, delta, 0f, dW);
        doColumnSum(delta, 1f, 0f, db);
    }

    /**
     * Row gather on the device. Abstract on purpose: a host round trip here would copy the whole
     * resident data set for every batch.
     */
    protected abstract void doGatherRows(Matrix src, Matrix order, int offset, Matrix dst);

    /** Runs body every time by default; a backend that can record work (CUDA graphs) overrides this. */
    protected void doReplay(Object key, Runnable body) {
        body.run();
    }

    protected void doForget(Object key) {
    }

    /** Advances a state's step counter for a replayed update whose ops did not run through {@link #update}. */
    protected static void advanceStep(Optimizer.State state) {
        state.advance();
    }

    /** Frees backend-wide resources after every matrix's storage has been freed. */
    protected abstract void doClose();

    /** One matrix's storage, held strongly until freed, and the Matrix, held weakly. */
    static final class Allocation extends WeakReference<Matrix> {
        final Matrix.Storage storage;
        final long bytes;
        boolean freed;

        Allocation(Matrix m, ReferenceQueue<Matrix> queue) {
            super(m, queue);
            this.storage = m.storage();
            this.bytes = m.size() * Float.BYTES;
        }
    }

    // ---- validated SPI ----

    @Override
    public final Matrix allocate(int rows, int cols) {
        boolean entered = enter("allocate");
        try {
        ensureOpen("allocate");
        outsideReplay("allocate");
        reclaimUnreachable();
        if (rows <= 0 || cols <= 0)
            throw new ShapeException(name + ": allocate " + rows + "×" + cols + ": both dimensions must be >= 1");
        if ((long) rows * cols > Integer.MAX_VALUE - 8)
            throw new ShapeException(name + ": allocate " + rows + "×" + cols + ": " + ((long) rows * cols)
                    + " elements exceed the 2^31-1 limit of one matrix");
        Matrix m = doAllocate(rows, cols);
        if (m.owner() != this) throw new IllegalStateException(name + ": doAllocate returned a matrix of another backend");
        Allocation a = new Allocation(m, unreachable);
        m.allocation = a;
        synchronized (allocations) {
            allocations.add(a);
        }
        return m;
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void upload(float[] src, Matrix dst) {
        boolean entered = enter("upload");
        try {
        ensureOpen("upload");
        outsideReplay("upload");
        own("upload", "dst", dst);
        if (src == null) throw new IllegalArgumentException(name + ": upload: source array is null");
        if (src.length != dst.size())
            throw new ShapeException(name + ": upload: source has " + src.length + " floats but destination "
                    + dst.shape() + " holds " + dst.size());
        doUpload(src, dst);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void download(Matrix src, float[] dst) {
        boolean entered = enter("download");
        try {
        ensureOpen("download");
        outsideReplay("download");
        own("download", "src", src);
        if (dst == null) throw new IllegalArgumentException(name + ": download: destination array is null");
        if (dst.length != src.size())
            throw new ShapeException(name + ": download: source " + src.shape() + " holds " + src.size()
                    + " floats but destination array has " + dst.length);
        doDownload(src, dst);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void gemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        boolean entered = enter("gemm");
        try {
        ensureOpen("gemm");
        own("gemm", "A", a);
        own("gemm", "B", b);
        own("gemm", "C", c);
        finite("gemm", "alpha", alpha);
        finite("gemm", "beta", beta);
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        String desc = "gemm " + (transA ? "Aᵀ" : "A") + "·" + (transB ? "Bᵀ" : "B") + ": A is " + a.shape()
                + ", B is " + b.shape() + ", C is " + c.shape();
        if (k != kb)
            throw new ShapeException(name + ": " + desc + ": inner dimensions differ (" + k + " vs " + kb + ")");
        if (c.rows() != m || c.cols() != n)
            throw new ShapeException(name + ": " + desc + ": C must be " + m + "×" + n);
        if (c == a || c == b)
            throw new IllegalArgumentException(name + ": " + desc + ": C must not alias A or B");
        doGemm(transA, transB, alpha, a, b, beta, c);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void activate(Activation f, Matrix z, Matrix bias, Matrix out) {
        boolean entered = enter("activate");
        try {
        ensureOpen("activate");
        notNull("activate", "activation", f);
        own("activate", "z", z);
        own("activate", "bias", bias);
        own("activate", "out", out);
        if (bias.rows() != 1 || bias.cols() != z.cols())
            throw new ShapeException(name + ": activate " + f + ": bias is " + bias.shape() + " but z is " + z.shape()
                    + ": bias must be 1×" + z.cols());
        sameShape("activate " + f, "z", z, "out", out);
        doActivate(f, z, bias, out);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void activationBackward(Activation f, Matrix z, Matrix out, Matrix delta) {
        boolean entered = enter("activationBackward");
        try {
        ensureOpen("activationBackward");
        notNull("activationBackward", "activation", f);
        if (!f.isElementWise())
            throw new IllegalArgumentException(name + ": activationBackward: " + f
                    + " has no element-wise derivative; pair softmax with categorical cross-entropy");
        own("activationBackward", "z", z);
        own("activationBackward", "out", out);
        own("activationBackward", "delta", delta);
        sameShape("activationBackward " + f, "z", z, "out", out);
        sameShape("activationBackward " + f, "z", z, "delta", delta);
        doActivationBackward(f, z, out, delta);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void columnSum(Matrix m, float alpha, float beta, Matrix out) {
        boolean entered = enter("columnSum");
        try {
        ensureOpen("columnSum");
        own("columnSum", "m", m);
        own("columnSum", "out", out);
        finite("columnSum", "alpha", alpha);
        finite("columnSum", "beta", beta);
        if (out.rows() != 1 || out.cols() != m.cols())
            throw new ShapeException(name + ": columnSum: m is " + m.shape() + " but out is " + out.shape()
                    + ": out must be 1×" + m.cols());
        doColumnSum(m, alpha, beta, out);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void lossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) {
        boolean entered = enter("lossGradient");
        try {
        ensureOpen("lossGradient");
        notNull("lossGradient", "loss", loss);
        own("lossGradient", "yHat", yHat);
        own("lossGradient", "y", y);
        own("lossGradient", "delta", delta);
        own("lossGradient", "lossSum", lossSum);
        sameShape("lossGradient " + loss, "yHat", yHat, "y", y);
        sameShape("lossGradient " + loss, "yHat", yHat, "delta", delta);
        if (lossSum.rows() != 1 || lossSum.cols() != 1)
            throw new ShapeException(name + ": lossGradient: lossSum is " + lossSum.shape() + ", must be 1×1");
        doLossGradient(loss, yHat, y, delta, lossSum);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void update(Optimizer.State state, Matrix param, Matrix grad) {
        boolean entered = enter("update");
        try {
        ensureOpen("update");
        notNull("update", "state", state);
        own("update", "param", param);
        own("update", "grad", grad);
        sameShape("update", "param", param, "grad", grad);
        for (int i = 0; i < state.slotCount(); i++) {
            own("update", "optimizer slot " + i, state.slot(i));
            sameShape("update", "param", param, "optimizer slot " + i, state.slot(i));
        }
        state.advance();
        doUpdate(state, param, grad);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void denseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out) {
        boolean entered = enter("denseForward");
        try {
            ensureOpen("denseForward");
            notNull("denseForward", "activation", f);
            own("denseForward", "input", input);
            own("denseForward", "weights", weights);
            own("denseForward", "bias", bias);
            own("denseForward", "z", z);
            own("denseForward", "out", out);
            String desc = "denseForward " + f + ": input is " + input.shape() + ", weights " + weights.shape()
                    + ", bias " + bias.shape() + ", z " + z.shape();
            if (input.cols() != weights.rows())
                throw new ShapeException(name + ": " + desc + ": input has " + input.cols() + " columns but weights have "
                        + weights.rows() + " rows");
            if (z.rows() != input.rows() || z.cols() != weights.cols())
                throw new ShapeException(name + ": " + desc + ": z must be " + input.rows() + "×" + weights.cols());
            if (bias.rows() != 1 || bias.cols() != weights.cols())
                throw new ShapeException(name + ": " + desc + ": bias must be 1×" + weights.cols());
            sameShape("denseForward " + f, "z", z, "out", out);
            if (z == input || z == weights || out == input || out == weights)
                throw new IllegalArgumentException(name + ": " + desc + ": z and out must not alias input or weights");
            doDenseForward(f, input, weights, bias, z, out);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void denseGradients(Matrix input, Matrix delta, Matrix dW, Matrix db) {
        boolean entered = enter("denseGradients");
        try {
            ensureOpen("denseGradients");
            own("denseGradients", "input", input);
            own("denseGradients", "delta", delta);
            own("denseGradients", "dW", dW);
            own("denseGradients", "db", db);
            String desc = "denseGradients: input is " + input.shape() + ", delta " + delta.shape() + ", dW " + dW.shape()
                    + ", db " + db.shape();
            if (input.rows() != delta.rows())
                throw new ShapeException(name + ": " + desc + ": input and delta must have the same number of rows");
            if (dW.rows() != input.cols() || dW.cols() != delta.cols())
                throw new ShapeException(name + ": " + desc + ": dW must be " + input.cols() + "×" + delta.cols());
            if (db.rows() != 1 || db.cols() != delta.cols())
                throw new ShapeException(name + ": " + desc + ": db must be 1×" + delta.cols());
            if (dW == input || dW == delta || db == delta || db == dW)
                throw new IllegalArgumentException(name + ": " + desc + ": outputs must not alias inputs or each other");
            doDenseGradients(input, delta, dW, db);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void gatherRows(Matrix src, Matrix order, int offset, Matrix dst) {
        boolean entered = enter("gatherRows");
        try {
            ensureOpen("gatherRows");
            own("gatherRows", "src", src);
            own("gatherRows", "order", order);
            own("gatherRows", "dst", dst);
            String desc = "gatherRows: src is " + src.shape() + ", order " + order.shape() + ", offset " + offset
                    + ", dst " + dst.shape();
            if (order.rows() != 1)
                throw new ShapeException(name + ": " + desc + ": order must be one row (1×N)");
            if (src.cols() != dst.cols())
                throw new ShapeException(name + ": " + desc + ": src and dst must have the same number of columns");
            if (offset < 0 || (long) offset + dst.rows() > order.cols())
                throw new ShapeException(name + ": " + desc + ": rows " + offset + ".." + ((long) offset + dst.rows())
                        + " are outside order");
            if (src == dst || order == dst)
                throw new IllegalArgumentException(name + ": " + desc + ": dst must not alias src or order");
            doGatherRows(src, order, offset, dst);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void replay(Object key, Runnable body) {
        boolean entered = enter("replay");
        try {
            ensureOpen("replay");
            outsideReplay("replay");
            notNull("replay", "key", key);
            notNull("replay", "body", body);
            inReplayBody = true;
            try {
                doReplay(key, body);
            } finally {
                inReplayBody = false;
            }
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void forget(Object key) {
        if (closed || key == null) return;
        boolean entered = enter("forget");
        try {
            if (closed) return;
            outsideReplay("forget");
            doForget(key);
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void synchronize() {
        boolean entered = enter("synchronize");
        try {
        ensureOpen("synchronize");
        outsideReplay("synchronize");
        doSynchronize();
        } finally {
            exit(entered);
        }
    }

    @Override
    public final void close() {
        if (closed) return;
        boolean entered = enter("close");
        try {
            outsideReplay("close");
            closeAll();
        } finally {
            exit(entered);
        }
    }

    /** Frees every allocation, reachable or not, then the backend; the first failure is thrown at the end. */
    private void closeAll() {
        if (closed) return;
        closed = true;
        List<Allocation> all;
        synchronized (allocations) {
            all = new ArrayList<>(allocations);
        }
        RuntimeException first = null;
        for (Allocation a : all) {
            Matrix m = a.get();
            if (m != null) m.markReleased();
            try {
                release(a);
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        try {
            doClose();
        } catch (RuntimeException e) {
            if (first == null) first = e;
            else first.addSuppressed(e);
        }
        if (first != null) throw first;
    }

    /** Matrix.close(): frees one matrix's storage on the calling thread, under the thread guard. */
    final void free(Matrix m) {
        if (closed) {
            m.markReleased();   // close() freed it
            return;
        }
        boolean entered = enter("close of a " + m.shape() + " matrix");
        try {
            if (m.isReleased()) return;
            outsideReplay("close of a " + m.shape() + " matrix");
            m.markReleased();
            release(m.allocation);
        } finally {
            exit(entered);
        }
    }

    private void release(Allocation a) {
        if (a == null || a.freed) return;
        a.freed = true;
        a.clear();
        synchronized (allocations) {
            allocations.remove(a);
        }
        a.storage.free();
    }

    /** Frees the storage of every matrix the GC has found unreachable since the last call. */
    private void reclaimUnreachable() {
        for (Reference<? extends Matrix> r; (r = unreachable.poll()) != null; ) release((Allocation) r);
    }

    /**
     * For a backend short of device memory inside {@link #doAllocate}: asks the GC for the matrices
     * dropped without close() and frees their storage here. Device memory is invisible to the GC, so a
     * loop that drops matrices could run out of it long before the heap needs a collection (java.nio
     * does the same for direct buffers). True when anything was freed; then the allocation is worth
     * retrying.
     */
    protected final boolean reclaimUnreachableAfterGc() {
        int heldBefore = allocationsHeld();
        reclaimUnreachable();
        if (allocationsHeld() < heldBefore) return true;
        System.gc();
        try {
            // the GC clears the references at once but another thread enqueues them: wait a little
            Reference<? extends Matrix> first = unreachable.remove(200);
            if (first == null) return false;
            release((Allocation) first);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        reclaimUnreachable();
        return true;
    }

    private int allocationsHeld() {
        synchronized (allocations) {
            return allocations.size();
        }
    }

    public final boolean isClosed() {
        return closed;
    }

    /**
     * Bytes held by this backend's matrices not yet freed, including those dropped without close()
     * that have not been reclaimed yet. Backends with device scratch buffers of their own override
     * this to count them too.
     */
    @Override
    public long memoryInUse() {
        long bytes = 0;
        synchronized (allocations) {
            for (Allocation a : allocations) bytes += a.bytes;
        }
        return bytes;
    }

    // ---- checks ----

    /**
     * Marks this backend as in use by the current thread; false when that thread is already inside
     * (a nested call from a backend's own code), so that only the outermost call clears the mark.
     */
    private boolean enter(String op) {
        Thread me = Thread.currentThread();
        Thread holder = user.compareAndExchange(null, me);
        if (holder == null) return true;
        if (holder == me) return false;
        throw new BackendException(name + ": " + op + " called from thread '" + me.getName() + "' while thread '"
                + holder.getName() + "' is inside another call on this backend; a Backend is confined to one thread "
                + "at a time (hand it over between calls, or give each thread its own backend)");
    }

    private void exit(boolean entered) {
        if (entered) user.setRelease(null);   // release suffices: the next owner acquires with a CAS
    }

    /**
     * A replayed body must enqueue the same device work every time (a backend may record it once and
     * launch the recording), so it cannot move data to or from the host, allocate, free, wait, or
     * replay or forget a recording: refused before any device call.
     */
    private void outsideReplay(String op) {
        if (inReplayBody)
            throw new BackendException(name + ": " + op + " inside a replay body: a recorded step must enqueue the "
                    + "same device work every time, so it cannot upload, download, allocate, free, synchronize, "
                    + "replay or forget; do it before or after replay");
    }

    protected final void ensureOpen(String op) {
        if (closed) throw new IllegalStateException(name + ": " + op + " called after the backend was closed");
    }

    private void own(String op, String what, Matrix m) {
        if (m == null) throw new IllegalArgumentException(name + ": " + op + ": " + what + " is null");
        if (m.owner() != this)
            throw new IllegalArgumentException(name + ": " + op + ": " + what + " (" + m.shape()
                    + ") belongs to backend '" + m.owner().name() + "', not to this one");
        if (m.isReleased())
            throw new IllegalStateException(name + ": " + op + ": " + what + " (" + m.shape() + ") was already closed");
    }

    private void sameShape(String op, String an, Matrix a, String bn, Matrix b) {
        if (a.rows() != b.rows() || a.cols() != b.cols())
            throw new ShapeException(name + ": " + op + ": " + an + " is " + a.shape() + " but " + bn + " is "
                    + b.shape() + "; they must have the same shape");
    }

    private void notNull(String op, String what, Object o) {
        if (o == null) throw new IllegalArgumentException(name + ": " + op + ": " + what + " is null");
    }

    private void finite(String op, String what, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(name + ": " + op + ": " + what + " is " + v);
    }
}
