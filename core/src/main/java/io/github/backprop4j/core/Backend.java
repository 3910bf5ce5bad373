package io.github.backprop4j.core;

/**
 * The device a network trains on: memory plus the handful of ops a whole training step needs, so
 * that parameters, optimizer state, activations and gradients never leave the device.
 *
 * <p>All matrices are float32, row-major, one sample per row. Calls are asynchronous where the
 * device allows it; {@link #download} and {@link #synchronize} wait. Every implementation extends
 * {@link AbstractBackend}, which checks shapes, ownership and use-after-close before any device call.
 *
 * <p>Threading: a Backend and its matrices are confined to one thread at a time (like a CUDA stream).
 * Handing one over between threads is allowed (with the usual happens-before, e.g. a queue or a join);
 * calls that overlap from two threads are detected and the later one fails with a
 * {@link BackendException} naming the op and both threads, before it touches the device.
 */
public interface Backend extends AutoCloseable {

    /** The provider's name: "cuda", "opencl", "cpu". */
    String name();

    /** Human-readable device description, e.g. "NVIDIA H100 80GB HBM3 (79.1 GiB)". */
    String device();

    Precision precision();

    /** Driver and runtime versions, human readable, for benchmark reports; "" when there is nothing to add. */
    default String runtimeVersion() {
        return "";
    }

    /**
     * A zero-filled rows × cols matrix on the device. Frees first the storage of matrices dropped
     * without close() that the GC has found unreachable (and, when the device is short of memory, asks
     * the GC for more of them before giving up).
     */
    Matrix allocate(int rows, int cols);

    /** dst ← src (src.length must equal rows·cols, row-major). */
    void upload(float[] src, Matrix dst);

    /** dst ← src, waiting for every queued op that writes src. */
    void download(Matrix src, float[] dst);

    /** C ← alpha·op(A)·op(B) + beta·C, op(X) = Xᵀ when the flag is set. */
    void gemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c);

    /**
     * Fused bias + activation: z ← z + 1·biasᵀ (z keeps the pre-activation for the backward pass),
     * out ← f(z). bias is 1 × cols. out may be z itself. SOFTMAX is applied row-wise.
     */
    void activate(Activation f, Matrix z, Matrix bias, Matrix out);

    /**
     * delta ← delta ⊙ f'(z), where z is the pre-activation and out = f(z). When
     * {@link Activation#derivativeFromOutput()} holds, only out is read (see {@link #denseForward}).
     */
    void activationBackward(Activation f, Matrix z, Matrix out, Matrix delta);

    /**
     * One dense layer forward: z ← input·weights + 1·biasᵀ, out ← f(z). The same result as
     * {@link #gemm} then {@link #activate}, which is what a backend does unless it can fuse the bias
     * and activation into the GEMM (cuBLASLt epilogues). When {@link Activation#derivativeFromOutput()}
     * holds, such a backend may leave z unwritten. out may be z itself.
     */
    void denseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out);

    /**
     * A dense layer's parameter gradients for a batch: dW ← inputᵀ·delta and db ← 1ᵀ·delta. The same
     * result as a transposed {@link #gemm} and {@link #columnSum}; a backend may compute db inside the
     * GEMM (cuBLASLt's bias-gradient epilogue).
     */
    void denseGradients(Matrix input, Matrix delta, Matrix dW, Matrix db);

    /** out (1 × cols) ← alpha·1ᵀ·m + beta·out: the batch (column) sum, e.g. db = 1ᵀδ. */
    void columnSum(Matrix m, float alpha, float beta, Matrix out);

    /**
     * The loss gradient at the output, for a batch of n = yHat.rows() samples. delta ← (Ŷ − Y)/n
     * (∂J/∂Z for cross-entropy on its matching activation, ∂J/∂Ŷ for MSE, see {@link Loss}), and
     * lossSum (1 × 1) ← lossSum + n·J, the batch's summed per-sample loss, left on the device until
     * the caller downloads it.
     */
    void lossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum);

    /** One optimizer step on param with gradient grad, using and updating the state's device slots. */
    void update(Optimizer.State state, Matrix param, Matrix grad);

    /**
     * Batch assembly on the device: dst row r ← src row order[offset + r], for a data set kept resident
     * on the device. order (1 × N) holds row indices as floats, exact below 2^24; an index outside src
     * yields a row of NaN (caught by the trainer's loss check), never an out-of-bounds read.
     */
    void gatherRows(Matrix src, Matrix order, int offset, Matrix dst);

    /**
     * Runs {@code body}, a sequence of this backend's ops that enqueues the same work on the same
     * matrices every time it is called with {@code key} (the trainer's step on one workspace). A
     * backend may record it once and from then on replay the recording instead of running body (CUDA
     * graphs: one launch per step). The host-side effects of the ops (optimizer step counters) happen
     * either way. Freeing a matrix discards recordings. Inside body, upload, download, allocate,
     * synchronize, forget, replay and closing a matrix or the backend are refused with a
     * BackendException before any device call. A body that throws is not kept as the recording.
     */
    void replay(Object key, Runnable body);

    /** Discards whatever {@link #replay} recorded for {@code key}. */
    void forget(Object key);

    /** Blocks until every queued op has finished. */
    void synchronize();

    /**
     * Device bytes this backend holds for matrices not yet freed and its own scratch (leak checks, long
     * runs). A matrix dropped without close() counts until the next {@link #allocate} after the GC
     * found it unreachable frees it.
     */
    long memoryInUse();

    /**
     * Frees every matrix this backend allocated and has not freed, whether or not the Matrix object is
     * still reachable. Idempotent; any later call throws.
     */
    @Override
    void close();
}
