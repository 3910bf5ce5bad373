package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.Device;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The device a network trains on: memory plus the handful of ops a whole training step needs, so
 * that parameters, optimizer state, activations and gradients never leave the device.
 *
 * <p>This class is the one validating handle over every backend's {@link Device}: each call is checked
 * here (shapes, ownership, aliasing, closed matrices, use after {@link #close()}, non-finite scalars,
 * sizes beyond 2³¹ elements) and fails with a message naming the backend, the op and the shapes before
 * the device sees it. The ops' contracts (what each reads, writes and how it reduces) are written on
 * {@link Device}.
 *
 * <p>All matrices are float32, row-major, one sample per row. Calls are asynchronous where the device
 * allows it; {@link #download} and {@link #synchronize} wait.
 *
 * <p>Threading: a Backend and everything allocated on it (matrices, models, trainers) are confined to
 * one thread at a time (like a CUDA stream). Handing one over between threads is allowed (with the
 * usual happens-before, e.g. a queue or a join); a call that overlaps another thread's call, including
 * {@link Matrix#close()} and the multi-call operations of {@link Model} and {@link Trainer} (a whole
 * epoch counts as one call), fails with a {@link BackendException} naming the op and both threads before
 * it touches the device.
 *
 * <p>Memory: every buffer is tracked until it is freed. {@link #close()} frees all of them, and a
 * matrix that became unreachable without {@link Matrix#close()} has its buffer freed on the owner
 * thread at the start of a later call.
 *
 * <pre>
 * try (Backend backend = Backends.best();
 *      Matrix a = backend.allocate(2, 3); Matrix b = backend.allocate(3, 2); Matrix c = backend.allocate(2, 2)) {
 *     backend.upload(new float[] {1, 2, 3, 4, 5, 6}, a);
 *     backend.upload(new float[] {1, 0, 0, 1, 1, 1}, b);
 *     backend.gemm(false, false, 1f, a, b, 0f, c);   // C = A·B on the device
 *     float[] result = new float[4];
 *     backend.download(c, result);
 * }
 * </pre>
 */
public final class Backend implements AutoCloseable {

    private static final String[] SLOT_NAMES = {"optimizer slot 0", "optimizer slot 1"};

    private final String name;
    private final Precision precision;
    private final Device<Object> device;
    /** The thread inside a call right now, or null: one compare-and-set per call. */
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private volatile boolean closed;
    /** Whether a {@link #replay} body is running (read and written only by the thread inside). */
    private boolean replaying;
    /** Every buffer not yet freed (touched only by the thread inside a call). */
    private final Set<Allocation> live = new HashSet<>();
    private final ReferenceQueue<Matrix> unreachable = new ReferenceQueue<>();
    private volatile long liveBytes;

    /** A live buffer, held strongly; its Matrix weakly, enqueued once unreachable without having been closed. */
    static final class Allocation extends WeakReference<Matrix> {
        final Object buffer;
        final long bytes;

        Allocation(Matrix m, Object buffer, ReferenceQueue<Matrix> queue) {
            super(m, queue);
            this.buffer = buffer;
            this.bytes = m.size() * Float.BYTES;
        }
    }

    @SuppressWarnings("unchecked")
    private Backend(String name, Precision precision, Device<?> device) {
        this.name = name;
        this.precision = precision;
        this.device = (Device<Object>) device;
    }

    /**
     * The handle over a freshly opened device (what {@link Backends#open} returns for a provider's
     * {@link io.github.backprop4j.core.spi.BackendProvider#open}). A device is wrapped once: the handle
     * owns it and closes it.
     *
     * @param name      the provider's name, used in every message
     * @param precision the precision the device was opened with
     * @param device    the open device
     * @return the handle
     */
    public static Backend of(String name, Precision precision, Device<?> device) {
        if (name == null || precision == null || device == null)
            throw new IllegalArgumentException("Backend.of: name, precision and device must not be null");
        return new Backend(name, precision, device);
    }

    /**
     * The provider's name.
     *
     * @return "cuda", "opencl", "cpu", ...
     */
    public String name() {
        return name;
    }

    /**
     * The device, human readable.
     *
     * @return e.g. "NVIDIA H100 80GB HBM3 (79.1 GiB)"
     */
    public String device() {
        return device.description();
    }

    /**
     * The GEMM arithmetic this backend was opened with.
     *
     * @return the precision
     */
    public Precision precision() {
        return precision;
    }

    /**
     * Driver and runtime versions, for benchmark reports.
     *
     * @return the versions, human readable; "" when there is nothing to add
     */
    public String runtimeVersion() {
        return device.runtimeVersion();
    }

    // ---------------------------------------------------------------------------------------------
    // Memory and transfers
    // ---------------------------------------------------------------------------------------------

    /**
     * A zero-filled matrix on the device.
     *
     * @param rows ≥ 1
     * @param cols ≥ 1, with rows × cols below 2³¹ − 8
     * @return the matrix, to close when done (or freed with this backend)
     * @throws BackendException naming size and limit when the device cannot hold it
     */
    public Matrix allocate(int rows, int cols) {
        try (Call call = enterHost("allocate")) {
            if (rows <= 0 || cols <= 0)
                throw call.shape(" " + rows + "×" + cols + ": both dimensions must be >= 1");
            if ((long) rows * cols > Integer.MAX_VALUE - 8)
                throw call.shape(" " + rows + "×" + cols + ": " + ((long) rows * cols)
                        + " elements exceed the 2^31-1 limit of one matrix");
            Object buffer;
            try {
                buffer = device.allocate((long) rows * cols);
            } catch (BackendException e) {
                // short of memory: matrices dropped without close() may be what holds it
                if (!reclaimAfterGc())
                    throw new BackendException(name + ": allocate " + rows + "×" + cols + ": " + e.getMessage(), e);
                try {
                    buffer = device.allocate((long) rows * cols);
                } catch (BackendException again) {
                    throw new BackendException(name + ": allocate " + rows + "×" + cols + ": " + again.getMessage(), again);
                }
            }
            Matrix m = new Matrix(this, rows, cols, buffer);
            m.allocation = new Allocation(m, buffer, unreachable);
            live.add(m.allocation);
            liveBytes += m.allocation.bytes;
            return m;
        }
    }

    /**
     * dst ← src; the caller may reuse src as soon as this returns.
     *
     * @param src rows·cols values, row-major
     * @param dst a matrix of this backend
     */
    public void upload(float[] src, Matrix dst) {
        try (Call call = enterHost("upload")) {
            Object to = call.buffer("dst", dst);
            call.notNull("source array", src);
            if (src.length != dst.size())
                throw call.shape(": source has " + src.length + " floats but destination " + dst.shape() + " holds "
                        + dst.size());
            device.upload(src, to);
        }
    }

    /**
     * dst ← src, waiting for every queued op that writes src.
     *
     * @param src a matrix of this backend
     * @param dst rows·cols floats, receiving the values row-major
     */
    public void download(Matrix src, float[] dst) {
        try (Call call = enterHost("download")) {
            Object from = call.buffer("src", src);
            call.notNull("destination array", dst);
            if (dst.length != src.size())
                throw call.shape(": source " + src.shape() + " holds " + src.size()
                        + " floats but destination array has " + dst.length);
            device.download(from, dst);
        }
    }

    /** Called by {@link Matrix#close()}: frees the buffer (a no-op once freed or after {@link #close()}). */
    void free(Matrix m) {
        try (var _ = enterRelease("close of a " + m.shape() + " matrix")) {
            if (m.released) return;
            m.released = true;
            if (!closed) release(m.allocation);
        }
    }

    private void release(Allocation a) {
        if (!live.remove(a)) return;
        a.clear();
        liveBytes -= a.bytes;
        device.free(a.buffer);
    }

    /** Frees the buffers of matrices that were dropped without close(); runs on the owner thread. */
    private void reclaimUnreachable() {
        for (var r = unreachable.poll(); r != null; r = unreachable.poll()) release((Allocation) r);
    }

    /**
     * For an allocation the device refused: asks the GC for matrices dropped without close() and frees
     * their buffers. Device memory is invisible to the GC, so a loop that drops matrices could exhaust it
     * long before the heap needs a collection (java.nio does the same for direct buffers). True when
     * anything was freed, so that the allocation is worth one more try.
     */
    private boolean reclaimAfterGc() {
        System.gc();
        try {
            var first = unreachable.remove(200); // the GC clears at once, but another thread enqueues
            if (first == null) return false;
            release((Allocation) first);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        reclaimUnreachable();
        return true;
    }

    /**
     * Device memory this backend holds: live matrices plus the device's own workspaces (leak checks,
     * long runs).
     *
     * @return bytes
     */
    public long memoryInUse() {
        return liveBytes + device.scratchBytes();
    }

    // ---------------------------------------------------------------------------------------------
    // Ops: checked here, contracts on Device
    // ---------------------------------------------------------------------------------------------

    /**
     * C ← alpha·op(A)·op(B) + beta·C, row-major ({@link Device#gemm}).
     *
     * @param transA whether op(A) = Aᵀ
     * @param transB whether op(B) = Bᵀ
     * @param alpha  finite
     * @param a      A
     * @param b      B
     * @param beta   finite; with 0, C's old contents are not read
     * @param c      C, aliasing neither A nor B
     */
    public void gemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        try (Call call = enter("gemm")) {
            Object pa = call.buffer("A", a), pb = call.buffer("B", b), pc = call.buffer("C", c);
            call.finite("alpha", alpha);
            call.finite("beta", beta);
            int m = transA ? a.cols() : a.rows();
            int k = transA ? a.rows() : a.cols();
            int kb = transB ? b.cols() : b.rows();
            int n = transB ? b.rows() : b.cols();
            if (k != kb)
                throw call.shape(gemmOperands(transA, transB, a, b, c) + ": inner dimensions differ (" + k + " vs " + kb + ")");
            if (c.rows() != m || c.cols() != n)
                throw call.shape(gemmOperands(transA, transB, a, b, c) + ": C must be " + m + "×" + n);
            if (c == a || c == b)
                throw call.argument(gemmOperands(transA, transB, a, b, c) + ": C must not alias A or B");
            device.gemm(transA, transB, m, n, k, alpha, pa, pb, beta, pc);
        }
    }

    private static String gemmOperands(boolean transA, boolean transB, Matrix a, Matrix b, Matrix c) {
        return " " + (transA ? "Aᵀ" : "A") + "·" + (transB ? "Bᵀ" : "B") + ": A is " + a.shape() + ", B is "
                + b.shape() + ", C is " + c.shape();
    }

    /**
     * Bias and activation: z ← z + 1·biasᵀ (z keeps the pre-activation), out ← f(z); bias is 1 × cols,
     * out may be z itself ({@link Device#activationForward}).
     *
     * @param f    the activation
     * @param z    rows × cols, the pre-activation (the bias is added in place)
     * @param bias 1 × cols
     * @param out  rows × cols, receives f(z)
     */
    public void activationForward(Activation f, Matrix z, Matrix bias, Matrix out) {
        try (Call call = enter("activationForward")) {
            call.notNull("activation", f);
            Object pz = call.buffer("z", z), pb = call.buffer("bias", bias), po = call.buffer("out", out);
            if (bias.rows() != 1 || bias.cols() != z.cols())
                throw call.shape(" " + f + ": bias is " + bias.shape() + " but z is " + z.shape() + ": bias must be 1×"
                        + z.cols());
            call.sameShape("z", z, "out", out);
            device.activationForward(f, pz, pb, po, z.rows(), z.cols());
        }
    }

    /**
     * delta ← delta ⊙ f'(·) ({@link Device#activationBackward}: out is read for ReLU, leaky ReLU, sigmoid
     * and tanh, z for both GELUs). Identity returns at once; softmax is refused (pair it with categorical
     * cross-entropy).
     *
     * @param f     the activation
     * @param z     the pre-activation (read for GELU)
     * @param out   f(z) (read for the others)
     * @param delta multiplied by f′ in place
     */
    public void activationBackward(Activation f, Matrix z, Matrix out, Matrix delta) {
        try (Call call = enter("activationBackward")) {
            call.notNull("activation", f);
            if (!f.isElementWise())
                throw call.argument(": " + f + " has no element-wise derivative; pair softmax with categorical "
                        + "cross-entropy");
            Object pz = call.buffer("z", z), po = call.buffer("out", out), pd = call.buffer("delta", delta);
            call.sameShape("z", z, "out", out);
            call.sameShape("z", z, "delta", delta);
            if (f == Activation.IDENTITY) return; // f' = 1
            device.activationBackward(f, pz, po, pd, z.rows(), z.cols());
        }
    }

    /**
     * Inverted dropout for training ({@link Device#dropoutForward}): each element of input is kept with
     * probability 1 − p and scaled by 1/(1 − p), else zeroed; output ← input ⊙ mask, and mask keeps the
     * factors for {@link #dropoutBackward}. The draws are Philox4x32-10 of (seed, t, layer, element), t
     * being {@code counter}'s device step count, so the same seed, step and layer give the same mask on
     * every backend, and each optimizer step a fresh one with no host work. output may be input.
     *
     * @param input           the activations
     * @param output          input's shape; may be input
     * @param mask            input's shape, receives the factors; neither input nor output
     * @param dropProbability p, in [0, 1)
     * @param seed            the generator's key
     * @param layer           which layer's activation (≥ 0): layers draw independent masks
     * @param counter         the optimizer state whose device step count t keys the draw
     */
    public void dropoutForward(Matrix input, Matrix output, Matrix mask, float dropProbability, long seed, int layer,
                               Optimizer.State counter) {
        try (Call call = enter("dropoutForward")) {
            Object pi = call.buffer("input", input), po = call.buffer("output", output), pm = call.buffer("mask", mask);
            call.notNull("counter", counter);
            Object step = call.buffer("optimizer step count", counter.stepCount());
            if (!(dropProbability >= 0 && dropProbability < 1))
                throw call.argument(": drop probability must be in [0, 1), got " + dropProbability);
            if (layer < 0) throw call.argument(": layer must be >= 0, got " + layer);
            call.sameShape("input", input, "output", output);
            call.sameShape("input", input, "mask", mask);
            if (mask == input || mask == output) throw call.argument(": mask must not alias input or output");
            device.dropoutForward(pi, po, pm, input.rows(), input.cols(), dropProbability, seed, layer, step);
        }
    }

    /**
     * delta ← delta ⊙ mask, with the mask of {@link #dropoutForward} ({@link Device#dropoutBackward}).
     *
     * @param delta the gradient, multiplied in place
     * @param mask  the mask dropoutForward wrote, delta's shape
     */
    public void dropoutBackward(Matrix delta, Matrix mask) {
        try (Call call = enter("dropoutBackward")) {
            Object pd = call.buffer("delta", delta), pm = call.buffer("mask", mask);
            call.sameShape("delta", delta, "mask", mask);
            if (delta == mask) throw call.argument(": delta must not alias mask");
            device.dropoutBackward(pd, pm, delta.rows(), delta.cols());
        }
    }

    /**
     * out ← alpha·1ᵀ·m + beta·out: the batch (column) sum, e.g. db = 1ᵀδ ({@link Device#columnSum}).
     *
     * @param m     rows × cols
     * @param alpha finite
     * @param beta  finite; with 0, out's old contents are not read
     * @param out   1 × cols
     */
    public void columnSum(Matrix m, float alpha, float beta, Matrix out) {
        try (Call call = enter("columnSum")) {
            Object pm = call.buffer("m", m), po = call.buffer("out", out);
            call.finite("alpha", alpha);
            call.finite("beta", beta);
            if (out.rows() != 1 || out.cols() != m.cols())
                throw call.shape(": m is " + m.shape() + " but out is " + out.shape() + ": out must be 1×" + m.cols());
            device.columnSum(pm, m.rows(), m.cols(), alpha, beta, po);
        }
    }

    /**
     * The loss gradient at the output for a batch of n = yHat.rows() samples: delta ← (Ŷ − Y)/n (∂J/∂Z
     * for cross-entropy on its matching activation, ∂J/∂Ŷ for MSE, see {@link Loss}), and lossSum (1 × 1)
     * ← lossSum + n·J, the batch's summed per-sample loss, left on the device until the caller downloads
     * it ({@link Device#lossGradient}: deterministic).
     *
     * @param loss    the loss
     * @param yHat    the outputs Ŷ, n × outputs
     * @param y       the targets, n × outputs
     * @param delta   receives the output layer's δ
     * @param lossSum 1 × 1, the running sum the batch's loss is added to
     */
    public void lossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) {
        try (Call call = enter("lossGradient")) {
            call.notNull("loss", loss);
            Object pp = call.buffer("yHat", yHat), py = call.buffer("y", y), pd = call.buffer("delta", delta);
            Object ps = call.buffer("lossSum", lossSum);
            call.sameShape("yHat", yHat, "y", y);
            call.sameShape("yHat", yHat, "delta", delta);
            if (lossSum.rows() != 1 || lossSum.cols() != 1)
                throw call.shape(": lossSum is " + lossSum.shape() + ", must be 1×1");
            device.lossGradient(loss, pp, py, pd, ps, yHat.rows(), yHat.cols());
        }
    }

    /**
     * One optimizer step on param with gradient grad, using and updating the state's device slots and
     * its step count, all on the device ({@link Device#optimizerUpdate}): nothing changes on the host.
     *
     * @param state the parameter's optimizer state ({@link Optimizer#newState})
     * @param param the parameter, updated in place
     * @param grad  its gradient, param's shape
     */
    public void optimizerUpdate(Optimizer.State state, Matrix param, Matrix grad) {
        try (Call call = enter("optimizerUpdate")) {
            update(call, state, param, grad, null, 0f);
        }
    }

    /**
     * As {@link #optimizerUpdate(Optimizer.State, Matrix, Matrix)}, with the gradient clipped by global norm:
     * scaled by min(1, maxNorm/‖g‖), ‖g‖² being the 1 × 1 {@code sumOfSquares} (from {@link #sumOfSquares}
     * over every gradient of the step), read on the device: no host read, no extra pass. A NaN or infinite
     * norm makes the update NaN, which the trainer reports as divergence.
     *
     * @param state        the parameter's optimizer state ({@link Optimizer#newState})
     * @param param        the parameter, updated in place
     * @param grad         its gradient, param's shape
     * @param sumOfSquares 1 × 1, the step's squared global gradient norm
     * @param maxNorm      the largest global norm left unscaled, finite and &gt; 0
     */
    public void optimizerUpdate(Optimizer.State state, Matrix param, Matrix grad, Matrix sumOfSquares, float maxNorm) {
        try (Call call = enter("optimizerUpdate")) {
            Object norm = call.buffer("sumOfSquares", sumOfSquares);
            if (sumOfSquares.rows() != 1 || sumOfSquares.cols() != 1)
                throw call.shape(": sumOfSquares is " + sumOfSquares.shape() + ", must be 1×1");
            if (!(maxNorm > 0) || !Float.isFinite(maxNorm))
                throw call.argument(": maxNorm must be finite and > 0, got " + maxNorm);
            if (sumOfSquares == param) throw call.argument(": sumOfSquares must not alias param");
            update(call, state, param, grad, norm, maxNorm);
        }
    }

    private void update(Call call, Optimizer.State state, Matrix param, Matrix grad, Object sumOfSquares, float maxNorm) {
        call.notNull("state", state);
        Object pp = call.buffer("param", param), pg = call.buffer("grad", grad);
        call.sameShape("param", param, "grad", grad);
        Object slot0 = state.slotCount() > 0 ? call.slot(state, 0, param) : null;
        Object slot1 = state.slotCount() > 1 ? call.slot(state, 1, param) : null;
        Object step = call.buffer("optimizer step count", state.stepCount());
        device.optimizerUpdate(state.rule(), pp, pg, slot0, slot1, step, sumOfSquares, maxNorm, param.size());
    }

    /**
     * out (1 × 1) ← Σ m², or out + Σ m² when {@code accumulate}: one gradient's share of the squared global
     * norm that {@link #optimizerUpdate(Optimizer.State, Matrix, Matrix, Matrix, float) clipping} reads
     * ({@link Device#sumOfSquares}: deterministic).
     *
     * @param m          any matrix
     * @param accumulate whether out's old value is added
     * @param out        1 × 1, not m
     */
    public void sumOfSquares(Matrix m, boolean accumulate, Matrix out) {
        try (Call call = enter("sumOfSquares")) {
            Object pm = call.buffer("m", m), po = call.buffer("out", out);
            if (out.rows() != 1 || out.cols() != 1) throw call.shape(": out is " + out.shape() + ", must be 1×1");
            if (out == m) throw call.argument(": out must not alias m");
            device.sumOfSquares(pm, m.size(), accumulate, po);
        }
    }

    /**
     * One dense layer forward: z ← input·weights + 1·biasᵀ, out ← f(z) ({@link Device#denseForward}:
     * fused where the device can; z may then be left unwritten when
     * {@link Activation#derivativeFromOutput()} holds). out may be z itself.
     *
     * @param f       the activation
     * @param input   rows × in
     * @param weights in × outs
     * @param bias    1 × outs
     * @param z       rows × outs, the pre-activation
     * @param out     rows × outs, f(z)
     */
    public void denseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out) {
        try (Call call = enter("denseForward")) {
            call.notNull("activation", f);
            Object px = call.buffer("input", input), pw = call.buffer("weights", weights);
            Object pb = call.buffer("bias", bias), pz = call.buffer("z", z), po = call.buffer("out", out);
            if (input.cols() != weights.rows())
                throw call.shape(denseOperands(f, input, weights, bias, z) + ": input has " + input.cols()
                        + " columns but weights have " + weights.rows() + " rows");
            if (z.rows() != input.rows() || z.cols() != weights.cols())
                throw call.shape(denseOperands(f, input, weights, bias, z) + ": z must be " + input.rows() + "×"
                        + weights.cols());
            if (bias.rows() != 1 || bias.cols() != weights.cols())
                throw call.shape(denseOperands(f, input, weights, bias, z) + ": bias must be 1×" + weights.cols());
            call.sameShape("z", z, "out", out);
            if (z == input || z == weights || out == input || out == weights)
                throw call.argument(denseOperands(f, input, weights, bias, z)
                        + ": z and out must not alias input or weights");
            device.denseForward(f, px, pw, pb, pz, po, input.rows(), input.cols(), weights.cols());
        }
    }

    private static String denseOperands(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z) {
        return " " + f + ": input is " + input.shape() + ", weights " + weights.shape() + ", bias " + bias.shape()
                + ", z " + z.shape();
    }

    /**
     * A dense layer's parameter gradients for a batch: dW ← inputᵀ·delta and db ← 1ᵀ·delta
     * ({@link Device#denseGradients}).
     *
     * @param input the layer's input, rows × in
     * @param delta its δ, rows × outs
     * @param dW    receives inputᵀ·δ, in × outs
     * @param db    receives 1ᵀ·δ, 1 × outs
     */
    public void denseGradients(Matrix input, Matrix delta, Matrix dW, Matrix db) {
        try (Call call = enter("denseGradients")) {
            Object px = call.buffer("input", input), pd = call.buffer("delta", delta);
            Object pw = call.buffer("dW", dW), pb = call.buffer("db", db);
            if (input.rows() != delta.rows())
                throw call.shape(gradientOperands(input, delta, dW, db)
                        + ": input and delta must have the same number of rows");
            if (dW.rows() != input.cols() || dW.cols() != delta.cols())
                throw call.shape(gradientOperands(input, delta, dW, db) + ": dW must be " + input.cols() + "×"
                        + delta.cols());
            if (db.rows() != 1 || db.cols() != delta.cols())
                throw call.shape(gradientOperands(input, delta, dW, db) + ": db must be 1×" + delta.cols());
            if (dW == input || dW == delta || db == delta || db == dW)
                throw call.argument(gradientOperands(input, delta, dW, db)
                        + ": outputs must not alias inputs or each other");
            device.denseGradients(px, pd, pw, pb, input.rows(), input.cols(), delta.cols());
        }
    }

    private static String gradientOperands(Matrix input, Matrix delta, Matrix dW, Matrix db) {
        return ": input is " + input.shape() + ", delta " + delta.shape() + ", dW " + dW.shape() + ", db " + db.shape();
    }

    /**
     * Batch assembly on the device: dst row r ← src row order[offset + r], for a data set kept resident
     * on the device ({@link Device#gatherRows}: an index outside src yields a row of NaN).
     *
     * @param src    the rows to gather from
     * @param order  1 × N row indices, stored as floats
     * @param offset the first position of order to take
     * @param dst    receives dst.rows() rows
     */
    public void gatherRows(Matrix src, Matrix order, int offset, Matrix dst) {
        try (Call call = enter("gatherRows")) {
            Object ps = call.buffer("src", src), po = call.buffer("order", order), pd = call.buffer("dst", dst);
            if (order.rows() != 1)
                throw call.shape(gatherOperands(src, order, offset, dst) + ": order must be one row (1×N)");
            if (src.cols() != dst.cols())
                throw call.shape(gatherOperands(src, order, offset, dst)
                        + ": src and dst must have the same number of columns");
            if (offset < 0 || (long) offset + dst.rows() > order.cols())
                throw call.shape(gatherOperands(src, order, offset, dst) + ": rows " + offset + ".."
                        + ((long) offset + dst.rows()) + " are outside order");
            if (src == dst || order == dst)
                throw call.argument(gatherOperands(src, order, offset, dst) + ": dst must not alias src or order");
            device.gatherRows(ps, src.rows(), po, offset, pd, dst.rows(), dst.cols());
        }
    }

    private static String gatherOperands(Matrix src, Matrix order, int offset, Matrix dst) {
        return ": src is " + src.shape() + ", order " + order.shape() + ", offset " + offset + ", dst " + dst.shape();
    }

    /**
     * Runs {@code body}, a sequence of this backend's ops that enqueues the same work on the same
     * matrices every time it is called with {@code key} (the trainer's step on one workspace). The
     * device may record it once and from then on replay the recording instead of running body (CUDA
     * graphs: one launch per step); the ops have no host-side effects, so either way is the same.
     * Freeing a matrix discards recordings that use it. Must not be nested; body must not transfer,
     * allocate, free, synchronize or close.
     *
     * @param key  names the recording (the same key, the same work)
     * @param body the ops
     */
    public void replay(Object key, Runnable body) {
        try (Call call = enterHost("replay")) {
            call.notNull("key", key);
            call.notNull("body", body);
            replaying = true;
            try {
                device.replay(key, body);
            } finally {
                replaying = false;
            }
        }
    }

    /** Blocks until every queued op has finished. */
    public void synchronize() {
        try (var _ = enterHost("synchronize")) {
            device.synchronize();
        }
    }

    /**
     * Frees every buffer this backend allocated (closed, open or dropped) and closes the device.
     * Idempotent; any later call but {@link Matrix#close()} throws.
     */
    @Override
    public void close() {
        if (closed) return;
        try (var _ = enterRelease("close")) {
            if (closed) return;
            closed = true;
            List<RuntimeException> failures = new ArrayList<>();
            for (Allocation a : live) {
                Matrix m = a.get();
                if (m != null) m.released = true;
                a.clear();
                try {
                    device.free(a.buffer);
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
            live.clear();
            liveBytes = 0;
            try {
                device.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
            if (!failures.isEmpty()) {
                RuntimeException first = failures.getFirst();
                failures.stream().skip(1).forEach(first::addSuppressed);
                throw first;
            }
        }
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String toString() {
        return "Backend[" + name + ", " + precision.name().toLowerCase(java.util.Locale.ROOT) + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // The guard: one thread at a time, open, not inside a replay body where refused
    // ---------------------------------------------------------------------------------------------

    /** What a call does, which decides where it is allowed. */
    private enum Work {
        /** Device ops: allowed inside a {@link #replay} body. */
        DEVICE,
        /** Transfers, allocation, synchronization, replay, multi-call operations: refused inside a replay body. */
        HOST,
        /** Freeing: refused inside a replay body, allowed after {@link #close()} (which freed everything already). */
        RELEASE
    }

    /** An op that may run inside a {@link #replay} body (device work). */
    Call enter(String op) {
        return enter(op, Work.DEVICE);
    }

    /** An op refused inside a replay body: transfers, allocation, synchronization, replay, multi-call operations. */
    Call enterHost(String op) {
        return enter(op, Work.HOST);
    }

    /** Freeing: refused inside a replay body, allowed after {@link #close()} (which freed everything already). */
    Call enterRelease(String op) {
        return enter(op, Work.RELEASE);
    }

    /**
     * Marks this backend as in use by the current thread until the returned call is closed. A nested
     * call by the same thread (the trainer's ops inside one epoch) shares the outer call's mark. A
     * call from another thread meanwhile is a BackendException naming both threads.
     */
    private Call enter(String op, Work work) {
        Thread me = Thread.currentThread();
        Thread holder = user.compareAndExchange(null, me);
        if (holder != null && holder != me)
            throw new BackendException(name + ": " + op + " called from thread '" + me.getName() + "' while thread '"
                    + holder.getName() + "' is inside another call on this backend; a Backend is confined to one "
                    + "thread at a time (hand it over between calls, or give each thread its own backend)");
        Call call = new Call(this, op, holder == null);
        try {
            if (closed && work != Work.RELEASE)
                throw new IllegalStateException(name + ": " + op + " called after the backend was closed");
            if (replaying && work != Work.DEVICE)
                throw new BackendException(name + ": " + op + " inside a replay body: a recorded step must enqueue the "
                        + "same device work every time, so it cannot upload, download, allocate, free, synchronize "
                        + "or replay; do it before or after replay");
            if (!replaying && !closed) reclaimUnreachable();
            return call;
        } catch (RuntimeException | Error e) {
            call.close();
            throw e;
        }
    }

    /** One call in progress: the op's name for messages and the checks every op makes. */
    record Call(Backend backend, String op, boolean outermost) implements AutoCloseable {

        @Override
        public void close() {
            if (outermost) backend.user.setRelease(null); // release suffices: the next owner acquires with a CAS
        }

        /** The device buffer of an operand of this backend that is still open. */
        Object buffer(String what, Matrix m) {
            notNull(what, m);
            if (m.owner() != backend)
                throw argument(": " + what + " (" + m.shape() + ") belongs to backend '" + m.owner().name()
                        + "', not to this one");
            if (m.released) throw new IllegalStateException(backend.name + ": " + op + ": " + what + " (" + m.shape()
                    + ") was already closed");
            return m.buffer;
        }

        /** The buffer of optimizer slot i, which must have param's shape. */
        Object slot(Optimizer.State state, int i, Matrix param) {
            Object buffer = buffer(SLOT_NAMES[i], state.slot(i));
            sameShape("param", param, SLOT_NAMES[i], state.slot(i));
            return buffer;
        }

        void notNull(String what, Object o) {
            if (o == null) throw argument(": " + what + " is null");
        }

        void finite(String what, float v) {
            if (!Float.isFinite(v)) throw argument(": " + what + " is " + v);
        }

        void sameShape(String an, Matrix a, String bn, Matrix b) {
            if (a.rows() != b.rows() || a.cols() != b.cols())
                throw shape(": " + an + " is " + a.shape() + " but " + bn + " is " + b.shape()
                        + "; they must have the same shape");
        }

        ShapeException shape(String detail) {
            return new ShapeException(backend.name + ": " + op + detail);
        }

        IllegalArgumentException argument(String detail) {
            return new IllegalArgumentException(backend.name + ": " + op + detail);
        }
    }
}
