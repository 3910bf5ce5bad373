package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Loss;

/**
 * What a new device implements: memory, transfers and one entry per op, over its own buffer type
 * {@code B} (cpu: {@code float[]}, OpenCL: {@code cl_mem}, CUDA: a device pointer). A device never
 * validates: the {@link io.github.backprop4j.core.Backend} handle that wraps it has already checked
 * shapes, ownership, aliasing, finite scalars, open state and the calling thread, and passes plain
 * dimensions. Every buffer holds row-major float32; {@code rows × cols} below is at most 2³¹−9.
 *
 * <p>Each op's contract is written once, here; the conformance suite in core's test-jar checks every
 * clause on every backend. "Reads"/"writes" list every buffer the op may touch: a device must not read
 * a buffer an op does not list (callers may pass garbage there), and must leave unlisted ones intact.
 * Calls may be asynchronous; {@link #download} and {@link #synchronize} wait.
 *
 * <p>The scalar math of the element-wise ops (activations and derivatives, loss terms, optimizer
 * updates) is defined once in {@code kernels/src/main/common/*.h}, compiled into the CUDA and OpenCL
 * kernels alike; the cpu backend mirrors those definitions in Java.
 *
 * <pre>
 * final class MyDevice implements Device&lt;MyBuffer&gt; {   // plus a BackendProvider whose open() returns it
 *     public MyBuffer allocate(long floats) { ... }
 *     public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
 *                      MyBuffer a, MyBuffer b, float beta, MyBuffer c) { ... }
 *     ...
 * }
 * </pre>
 *
 * @param <B> the device's buffer handle
 */
public interface Device<B> extends AutoCloseable {

    /**
     * The device, human readable.
     *
     * @return e.g. "NVIDIA H100 80GB HBM3 (79.1 GiB)"
     */
    String description();

    /**
     * Driver and runtime versions for benchmark reports.
     *
     * @return the versions; "" when there is nothing to add
     */
    default String runtimeVersion() {
        return "";
    }

    // ---- memory ----

    /**
     * A zero-filled buffer of {@code floats} floats (≥ 1). A request the device cannot hold is a
     * {@link io.github.backprop4j.core.BackendException} saying why, with the size and the limit (the
     * handle prefixes the backend, the op and the shape).
     *
     * @param floats the buffer's length
     * @return the buffer
     */
    B allocate(long floats);

    /**
     * Releases a buffer from {@link #allocate}: called exactly once per buffer, never inside
     * {@link #replay}, possibly while queued ops still use it (the device waits for them or defers).
     *
     * @param buffer a buffer of this device
     */
    void free(B buffer);

    /**
     * dst[0 .. src.length) ← src. The caller may overwrite src as soon as this returns.
     *
     * @param src the values
     * @param dst a buffer of at least src.length floats
     */
    void upload(float[] src, B dst);

    /**
     * dst ← src[0 .. dst.length), after every queued op that writes src has finished.
     *
     * @param src a buffer of at least dst.length floats
     * @param dst receives the values
     */
    void download(B src, float[] dst);

    /**
     * Device memory held beyond the buffers of {@link #allocate} (workspaces, scratch).
     *
     * @return bytes
     */
    default long scratchBytes() {
        return 0;
    }

    // ---- ops ----

    /**
     * C ← alpha·op(A)·op(B) + beta·C with op(A) m × k, op(B) k × n, C m × n. A is stored m × k, or
     * k × m when {@code transA}; B is stored k × n, or n × k when {@code transB} (row-major, leading
     * dimension = stored columns). C aliases neither. With beta = 0, C's old contents are not read
     * (NaN in C does not propagate). Reads a, b, c (beta ≠ 0); writes c.
     *
     * @param transA whether op(A) = Aᵀ
     * @param transB whether op(B) = Bᵀ
     * @param m      rows of op(A) and C
     * @param n      columns of op(B) and C
     * @param k      columns of op(A), rows of op(B)
     * @param alpha  the product's scale
     * @param a      A
     * @param b      B
     * @param beta   C's scale (0: C is not read)
     * @param c      C
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, B a, B b, float beta, B c);

    /**
     * z ← z + 1·biasᵀ, then out ← f(z). {@code bias} is 1 × cols, or null when the caller already
     * added it (a GEMM epilogue): then z is only read. Element-wise f is {@code activation_forward} of
     * activation_math.h; SOFTMAX is row-wise, computed as exp(z − max of the row) / Σ of those, so no
     * row overflows. {@code out} may be z itself. NaN passes through every f. Reads z, bias; writes z
     * (only with a bias), out.
     *
     * @param f    the activation
     * @param z    rows × cols pre-activations
     * @param bias 1 × cols, or null
     * @param out  rows × cols, may be z
     * @param rows rows
     * @param cols columns
     */
    void activationForward(Activation f, B z, B bias, B out, int rows, int cols);

    /**
     * delta ← delta ⊙ f′, with f′ from {@code activation_derivative} of activation_math.h: computed from
     * {@code out} = f(z) alone for RELU (out &gt; 0), LEAKY_RELU (out &gt; 0, else the slope), SIGMOID
     * (out·(1−out)) and TANH (1−out²), so a fused forward that never wrote z back-propagates the same;
     * from {@code z} alone for GELU and GELU_TANH. Never called with IDENTITY (the handle skips it: f′ = 1) or
     * SOFTMAX (refused: pair it with categorical cross-entropy). Reads out (or z for the GELUs), delta; writes
     * delta.
     *
     * @param f     the activation
     * @param z     rows × cols pre-activations
     * @param out   rows × cols activations
     * @param delta rows × cols, multiplied in place
     * @param rows  rows
     * @param cols  columns
     */
    void activationBackward(Activation f, B z, B out, B delta, int rows, int cols);

    /**
     * Inverted dropout of a rows × cols activation for training: mask[i] ← 1/(1 − p) or 0, output[i] ←
     * input[i]·mask[i]. Element i is kept when lane i % 4 of Philox4x32-10 with key (seed lo, seed hi) and
     * counter (i / 4, layer, t, 0) is below round((1 − p)·2³²), t being the optimizer step count held in
     * {@code step} (an int32 in the float's bits, as {@link #optimizerUpdate} keeps it): dropout_math.h, whose
     * Java twin {@link DropoutMath} also computes the threshold and the scale a device passes to its kernels,
     * so the mask is the same bits on every backend. output may be input; mask is neither. NaN in input stays
     * NaN where dropped (0·NaN). Reads input, step; writes output, mask.
     *
     * @param input           rows × cols activations
     * @param output          rows × cols, may be input
     * @param mask            rows × cols, receives 1/(1 − p) or 0
     * @param rows            rows
     * @param cols            columns
     * @param dropProbability p in [0, 1)
     * @param seed            the Philox key
     * @param layer           the layer index (a counter word)
     * @param step            1 × 1, the optimizer's t as an int32 in the float's bits
     */
    void dropoutForward(B input, B output, B mask, int rows, int cols, float dropProbability, long seed, int layer,
                        B step);

    /**
     * delta ← delta ⊙ mask, the mask {@link #dropoutForward} wrote. Reads delta, mask; writes delta.
     *
     * @param delta rows × cols, multiplied in place
     * @param mask  rows × cols
     * @param rows  rows
     * @param cols  columns
     */
    void dropoutBackward(B delta, B mask, int rows, int cols);

    /**
     * out ← alpha·1ᵀ·m + beta·out (out is 1 × cols): the column sum, e.g. db = 1ᵀδ. Each column is
     * reduced in an order fixed by the shape alone, never by scheduling or atomics, so the same input
     * gives the same bits on every run. With beta = 0, out's old contents are not read. Reads m, out
     * (beta ≠ 0); writes out.
     *
     * @param m     rows × cols
     * @param rows  rows
     * @param cols  columns
     * @param alpha the sum's scale
     * @param beta  out's scale (0: out is not read)
     * @param out   1 × cols
     */
    void columnSum(B m, int rows, int cols, float alpha, float beta, B out);

    /**
     * The output layer's error for a batch of n = rows samples: delta ← (ŷ − y)/n, and
     * lossSum (1 × 1) ← lossSum + Σ_rows ℓ_row, where ℓ_row = Σ_j {@code loss_term}(ŷ, y) of
     * loss_math.h. Every sum runs in an order fixed by the shape and the device (a GPU's grid size),
     * never by scheduling or atomics: the same input gives the same bits on every run. A NaN in ŷ makes
     * the loss NaN, never a clamped finite value. Reads yHat, y, lossSum; writes delta, lossSum.
     *
     * @param loss    the loss
     * @param yHat    rows × cols outputs
     * @param y       rows × cols targets
     * @param delta   rows × cols, receives δ
     * @param lossSum 1 × 1 running sum
     * @param rows    n, the batch's rows
     * @param cols    outputs per row
     */
    void lossGradient(Loss loss, B yHat, B y, B delta, B lossSum, int rows, int cols);

    /**
     * One optimizer update of n parameters, by {@code rule} (the element updates of optimizer_math.h).
     * {@code step} holds the state's update count t as an int32 in the float's bits; the update uses
     * t + 1 (Adam's bias correction is computed on the device from it) and then writes t + 1, so the
     * update has no host-side effect and a recorded step replays correctly. slot0 is the velocity
     * (momentum) or first moment (Adam), slot1 the second moment; unused slots are null.
     *
     * <p>Clipping by global norm: with a {@code sumOfSquares} buffer (1 × 1, from {@link #sumOfSquares}
     * over every gradient), grad is scaled by {@code gradient_clip_scale} = min(1, maxNorm/√sumOfSquares),
     * computed on the device, before L2 decay is added; a NaN or infinite norm makes the scale, and so the
     * update, NaN (never "no clipping"). Null: no clipping, maxNorm unused. Reads and writes param, the
     * slots, step; reads grad, sumOfSquares.
     *
     * @param rule         the update and its coefficients
     * @param param        n parameters
     * @param grad         n gradients
     * @param slot0        n values, or null
     * @param slot1        n values, or null
     * @param step         1 × 1, t as an int32 in the float's bits
     * @param sumOfSquares 1 × 1, the squared global gradient norm, or null (no clipping)
     * @param maxNorm      the clipping norm c (used only with sumOfSquares)
     * @param n            the parameter count
     */
    void optimizerUpdate(UpdateRule rule, B param, B grad, B slot0, B slot1, B step, B sumOfSquares, float maxNorm,
                         long n);

    /**
     * out (1 × 1) ← Σ m[i]² over n elements, plus out's old value when {@code accumulate}: the squared
     * global gradient norm, summed over every dW and db by one call per gradient. The order of the sum is
     * fixed by n and the device, never by scheduling or atomics: the same bits on every run. Reads m, out
     * (only when accumulating); writes out.
     *
     * @param m          n values
     * @param n          the element count
     * @param accumulate whether out's old value is added
     * @param out        1 × 1
     */
    void sumOfSquares(B m, long n, boolean accumulate, B out);

    /**
     * dst row r ← src row order[offset + r] for r in [0, rows), with src srcRows × cols and order a row
     * of indices stored as floats (exact below 2²⁴). An index outside [0, srcRows) gives a row of NaN,
     * never an out-of-bounds read. Reads src, order; writes dst.
     *
     * @param src     srcRows × cols
     * @param srcRows rows of src
     * @param order   row indices as floats
     * @param offset  the first position of order to take
     * @param dst     rows × cols
     * @param rows    rows to gather
     * @param cols    columns
     */
    void gatherRows(B src, int srcRows, B order, int offset, B dst, int rows, int cols);

    /**
     * One dense layer: z ← input·weights + 1·biasᵀ, out ← f(z), input rows × in, weights in × outs.
     * The same result as {@link #gemm} then {@link #activationForward}, which is what this default does;
     * a device may fuse them (a GEMM epilogue), and when {@link Activation#derivativeFromOutput()}
     * holds it may then leave z unwritten. out may be z.
     *
     * @param f       the activation
     * @param input   rows × in
     * @param weights in × outs
     * @param bias    1 × outs
     * @param z       rows × outs
     * @param out     rows × outs
     * @param rows    rows
     * @param in      input width
     * @param outs    output width
     */
    default void denseForward(Activation f, B input, B weights, B bias, B z, B out, int rows, int in, int outs) {
        gemm(false, false, rows, outs, in, 1f, input, weights, 0f, z);
        activationForward(f, z, bias, out, rows, outs);
    }

    /**
     * A dense layer's parameter gradients: dW ← inputᵀ·delta (in × outs), db ← 1ᵀ·delta (1 × outs),
     * input rows × in, delta rows × outs. This default is {@link #gemm} then {@link #columnSum}; a device
     * may compute db inside the GEMM, as long as db stays deterministic.
     *
     * @param input rows × in
     * @param delta rows × outs
     * @param dW    in × outs
     * @param db    1 × outs
     * @param rows  rows
     * @param in    input width
     * @param outs  output width
     */
    default void denseGradients(B input, B delta, B dW, B db, int rows, int in, int outs) {
        gemm(true, false, in, outs, rows, 1f, input, delta, 0f, dW);
        columnSum(delta, rows, outs, 1f, 0f, db);
    }

    /**
     * Runs {@code body}, a sequence of this device's ops (through the handle) that enqueues the same work
     * on the same buffers every time it is called with {@code key}. A device may record it once and
     * replay the recording instead (CUDA graphs); the body has no host-side effects to repeat. The
     * handle refuses nesting and every transfer, allocation, free and synchronization inside body.
     *
     * @param key  names the recording
     * @param body the ops
     */
    default void replay(Object key, Runnable body) {
        body.run();
    }

    /** Blocks until every queued op has finished. */
    void synchronize();

    /** Releases the device; the handle has freed every buffer first. Called once. */
    @Override
    void close();
}
