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

    /** A zero-filled rows × cols matrix on the device. */
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

    /** delta ← delta ⊙ f'(z), where z is the pre-activation and out = f(z) (either may be used). */
    void activationBackward(Activation f, Matrix z, Matrix out, Matrix delta);

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

    /** Blocks until every queued op has finished. */
    void synchronize();

    /** Device bytes this backend holds for live matrices and its own scratch (leak checks, long runs). */
    long memoryInUse();

    /** Frees every matrix this backend allocated. Idempotent; any later call throws. */
    @Override
    void close();
}
