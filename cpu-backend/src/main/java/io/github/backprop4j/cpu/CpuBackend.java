package io.github.backprop4j.cpu;

import io.github.backprop4j.core.AbstractBackend;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Precision;
import java.lang.ref.Cleaner;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SPI on the Java heap. GEMM lives in {@link Sgemm}; the element-wise ops below are vectorized
 * with the Vector API and split by rows across the backend's own pool when the matrix is large.
 * Everything is synchronous, so {@link #synchronize()} has nothing to wait for.
 */
final class CpuBackend extends AbstractBackend {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Element-wise work below this many elements stays on the calling thread. */
    private static final int PARALLEL_ELEMENTS = 1 << 16;
    /** Rows summed in float before folding into the double total: bounds rounding error to ~64 ulp. */
    private static final int SUM_CHUNK = 64;

    /** Stops the worker threads of a backend that was dropped without {@link #close()}. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final int threads;
    private final ParallelRows parallel;
    private final Cleaner.Cleanable workersCleanup;
    private final Sgemm sgemm;
    /** Scratch of {@link #doColumnSum}, grown on demand so that steady-state steps allocate nothing. */
    private double[] sumTotal = new double[0];
    private float[] sumChunk = new float[0];

    CpuBackend(int threads) {
        super("cpu", Precision.FP32);
        this.threads = threads;
        this.parallel = new ParallelRows(threads);
        this.workersCleanup = CLEANER.register(this, parallel::close);
        this.sgemm = new Sgemm(parallel);
    }

    static String describeMachine() {
        return System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + S.vectorBitSize() + "-bit vectors (" + S.length() + " floats)";
    }

    @Override
    public String device() {
        return describeMachine() + ", " + threads + " threads";
    }

    /** The JVM that runs the kernels and what the Vector API gives it here. */
    @Override
    public String runtimeVersion() {
        return "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), Vector API "
                + S.vectorBitSize() + "-bit (" + S.length() + " floats), " + threads + " threads";
    }

    private static float[] d(Matrix m) {
        return ((CpuMatrix) m).data;
    }

    @Override
    protected Matrix doAllocate(int rows, int cols) {
        long bytes = (long) rows * cols * Float.BYTES;
        Runtime rt = Runtime.getRuntime();
        long headroom = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        // Refuse what cannot fit even after a full GC, rather than let OutOfMemoryError hit other threads.
        if (bytes > rt.maxMemory())
            throw new io.github.backprop4j.core.BackendException("cpu: cannot allocate " + rows + "×" + cols
                    + " floats (" + (bytes >> 20) + " MiB): more than the whole Java heap (" + (rt.maxMemory() >> 20)
                    + " MiB, " + (headroom >> 20) + " MiB free; raise -Xmx)");
        try {
            return new CpuMatrix(this, rows, cols);
        } catch (OutOfMemoryError e) {
            throw new io.github.backprop4j.core.BackendException("cpu: cannot allocate " + rows + "×" + cols
                    + " floats (" + ((long) rows * cols * 4 >> 20) + " MiB): Java heap exhausted (raise -Xmx)", e);
        }
    }

    @Override
    protected void doUpload(float[] src, Matrix dst) {
        System.arraycopy(src, 0, d(dst), 0, src.length);
    }

    @Override
    protected void doDownload(Matrix src, float[] dst) {
        System.arraycopy(d(src), 0, dst, 0, dst.length);
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        int m = c.rows(), n = c.cols(), k = transA ? a.rows() : a.cols();
        sgemm.multiply(transA, transB, m, n, k, alpha, d(a), a.cols(), d(b), b.cols(), beta, d(c));
    }

    /** Z = input·W, then Z += bias and out = f(Z) on each tile of Z as the GEMM finishes it (softmax: after). */
    @Override
    protected void doDenseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out) {
        if (!Activations.elementWise(f)) {
            super.doDenseForward(f, input, weights, bias, z, out);
            return;
        }
        sgemm.multiply(false, false, z.rows(), z.cols(), input.cols(), 1f, d(input), input.cols(), d(weights),
                weights.cols(), 0f, d(z), f, d(bias), d(out));
    }

    // ---- activations ----

    @Override
    protected void doActivate(Activation f, Matrix z, Matrix bias, Matrix out) {
        float[] zd = d(z), bd = d(bias), od = d(out);
        int cols = z.cols();
        forRows(z.rows(), cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * cols;
                addBias(zd, off, bd, cols);
                if (f == Activation.SOFTMAX) softmaxRow(zd, od, off, cols);
                else applyRow(f, zd, od, off, cols);
            }
        });
    }

    private static void addBias(float[] z, int off, float[] b, int cols) {
        int j = 0;
        for (int upper = S.loopBound(cols); j < upper; j += V)
            FloatVector.fromArray(S, z, off + j).add(FloatVector.fromArray(S, b, j)).intoArray(z, off + j);
        for (; j < cols; j++) z[off + j] += b[j];
    }

    private static void applyRow(Activation f, float[] z, float[] out, int off, int cols) {
        Activations.biasActivate(f, z, off, null, 0, out, cols);
    }

    /** Numerically stable: exp(z − max), computed in double for the row's normalizer. */
    private static void softmaxRow(float[] z, float[] out, int off, int cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) max = Math.max(max, z[off + j]);
        double sum = 0;
        for (int j = 0; j < cols; j++) {
            float e = (float) Math.exp(z[off + j] - max);
            out[off + j] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int j = 0; j < cols; j++) out[off + j] *= inv;
    }

    @Override
    protected void doActivationBackward(Activation f, Matrix z, Matrix out, Matrix delta) {
        if (f == Activation.IDENTITY) return;
        float[] zd = d(z), od = d(out), dd = d(delta);
        int cols = z.cols();
        forRows(z.rows(), cols, (r0, r1) -> {
            int from = r0 * cols, to = r1 * cols;
            int i = from;
            int upper = from + S.loopBound(to - from);
            switch (f) {
                case RELU -> {
                    for (; i < upper; i += V) {
                        FloatVector x = FloatVector.fromArray(S, zd, i);
                        FloatVector g = FloatVector.fromArray(S, dd, i);
                        g.blend(0f, x.compare(VectorOperators.LE, 0f)).intoArray(dd, i);
                    }
                }
                case LEAKY_RELU -> {
                    for (; i < upper; i += V) {
                        FloatVector x = FloatVector.fromArray(S, zd, i);
                        FloatVector g = FloatVector.fromArray(S, dd, i);
                        g.blend(g.mul((float) Activation.LEAKY_SLOPE), x.compare(VectorOperators.LE, 0f)).intoArray(dd, i);
                    }
                }
                case SIGMOID -> {
                    for (; i < upper; i += V) {
                        FloatVector a = FloatVector.fromArray(S, od, i);
                        FloatVector.fromArray(S, dd, i).mul(a).mul(a.neg().add(1f)).intoArray(dd, i);
                    }
                }
                case TANH -> {
                    for (; i < upper; i += V) {
                        FloatVector a = FloatVector.fromArray(S, od, i);
                        FloatVector.fromArray(S, dd, i).mul(a.mul(a).neg().add(1f)).intoArray(dd, i);
                    }
                }
                default -> { } // GELU: scalar below, its derivative needs tanh of the pre-activation
            }
            for (; i < to; i++) {
                dd[i] = switch (f) {
                    case SIGMOID -> dd[i] * od[i] * (1f - od[i]);
                    case TANH -> dd[i] * (1f - od[i] * od[i]);
                    default -> (float) (dd[i] * f.derivative(zd[i]));
                };
            }
        });
    }

    // ---- reductions, loss, optimizer ----

    @Override
    protected void doColumnSum(Matrix m, float alpha, float beta, Matrix out) {
        float[] md = d(m), od = d(out);
        int rows = m.rows(), cols = m.cols();
        if (sumTotal.length < cols) {
            sumTotal = new double[cols];
            sumChunk = new float[cols];
        }
        double[] total = sumTotal;
        float[] chunk = sumChunk;
        java.util.Arrays.fill(total, 0, cols, 0.0);
        for (int r0 = 0; r0 < rows; r0 += SUM_CHUNK) {
            java.util.Arrays.fill(chunk, 0, cols, 0f);
            int r1 = Math.min(rows, r0 + SUM_CHUNK);
            for (int r = r0; r < r1; r++) {
                int off = r * cols, j = 0;
                for (int upper = S.loopBound(cols); j < upper; j += V)
                    FloatVector.fromArray(S, chunk, j).add(FloatVector.fromArray(S, md, off + j)).intoArray(chunk, j);
                for (; j < cols; j++) chunk[j] += md[off + j];
            }
            for (int j = 0; j < cols; j++) total[j] += chunk[j];
        }
        for (int j = 0; j < cols; j++) od[j] = (float) (alpha * total[j] + (beta == 0f ? 0 : beta * (double) od[j]));
    }

    @Override
    protected void doGatherRows(Matrix src, Matrix order, int offset, Matrix dst) {
        float[] s = d(src), o = d(order), t = d(dst);
        int cols = src.cols();
        for (int r = 0; r < dst.rows(); r++) {
            float from = o[offset + r];
            if (from >= 0 && from < src.rows()) System.arraycopy(s, (int) from * cols, t, r * cols, cols);
            else java.util.Arrays.fill(t, r * cols, (r + 1) * cols, Float.NaN);
        }
    }

    @Override
    protected void doLossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) {
        float[] p = d(yHat), t = d(y), g = d(delta);
        float invN = 1f / yHat.rows();
        double sum = 0;
        double lo = Loss.LOG_EPS, hi = 1 - Loss.LOG_EPS;
        for (int i = 0; i < p.length; i++) {
            float diff = p[i] - t[i];
            g[i] = diff * invN;
            switch (loss) {
                case MSE -> sum += 0.5 * diff * diff;
                case BINARY_CROSS_ENTROPY -> {
                    double q = Math.min(hi, Math.max(lo, p[i]));
                    sum -= t[i] * Math.log(q) + (1 - t[i]) * Math.log(1 - q);
                }
                case CATEGORICAL_CROSS_ENTROPY -> {
                    // zero targets are skipped, except that a NaN output must still make the loss NaN
                    if (t[i] != 0f || Float.isNaN(p[i])) sum -= t[i] * Math.log(Math.min(hi, Math.max(lo, p[i])));
                }
            }
        }
        d(lossSum)[0] += (float) sum;
    }

    /**
     * Element by element, split across the team for large tensors. Scalar on purpose: C2 vectorizes
     * these loops itself, they are bound by memory bandwidth, and scalar code stays fast before C2 has
     * compiled it (Vector API code is very slow until then, which lengthened the first epoch).
     */
    @Override
    protected void doUpdate(Optimizer.State state, Matrix param, Matrix grad) {
        float[] w = d(param), g = d(grad);
        Optimizer o = state.optimizer();
        float lr = o.learningRate(), l2 = state.l2();
        int len = w.length;
        switch (o.kind()) {
            case SGD -> forRange(len, (from, to) -> {
                for (int i = from; i < to; i++) w[i] -= lr * (g[i] + l2 * w[i]);
            });
            case MOMENTUM, NESTEROV -> {
                float[] v = d(state.slot(0));
                float mu = o.momentum();
                boolean nesterov = o.kind() == Optimizer.Kind.NESTEROV;
                forRange(len, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        float gi = g[i] + l2 * w[i];
                        float vi = mu * v[i] + gi;
                        v[i] = vi;
                        w[i] -= lr * (nesterov ? gi + mu * vi : vi);
                    }
                });
            }
            case ADAM, ADAMW -> {
                float[] m1 = d(state.slot(0)), m2 = d(state.slot(1));
                float b1 = o.beta1(), b2 = o.beta2(), eps = o.epsilon();
                long t = state.step();
                float c1 = (float) (1 / (1 - Math.pow(b1, t))), c2 = (float) (1 / (1 - Math.pow(b2, t)));
                float decay = 1f - lr * state.decoupledDecay();
                forRange(len, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        float gi = g[i] + l2 * w[i];
                        float mi = b1 * m1[i] + (1 - b1) * gi;
                        float vi = b2 * m2[i] + (1 - b2) * gi * gi;
                        m1[i] = mi;
                        m2[i] = vi;
                        w[i] = w[i] * decay - lr * (mi * c1) / ((float) Math.sqrt(vi * c2) + eps);
                    }
                });
            }
        }
    }

    @Override
    protected void doSynchronize() {
        // every op completed before it returned
    }

    @Override
    protected void doClose() {
        workersCleanup.clean();
    }

    // ---- row-parallel helper ----

    private interface RowRange {
        void run(int fromRow, int toRow);
    }

    /** Elements [0, len) in contiguous ranges, on the team when there are enough of them. */
    private void forRange(int len, RowRange body) {
        int parts = (int) Math.min(threads, Math.max(1, len / PARALLEL_ELEMENTS));
        if (parts <= 1) body.run(0, len);
        else parallel.run(parts, len, V, (worker, from, to) -> body.run(from, to));
    }

    private void forRows(int rows, int cols, RowRange body) {
        long elements = (long) rows * cols;
        int parts = (int) Math.min(threads, Math.max(1, Math.min(rows, elements / PARALLEL_ELEMENTS)));
        if (parts <= 1) body.run(0, rows);
        else parallel.run(parts, rows, 1, (worker, from, to) -> body.run(from, to));
    }
}
