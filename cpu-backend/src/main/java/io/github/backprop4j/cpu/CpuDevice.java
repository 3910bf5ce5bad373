package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.DropoutMath;
import io.github.backprop4j.core.spi.UpdateRule;
import java.lang.ref.Cleaner;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The device on the Java heap: a buffer is a {@code float[]}. GEMM lives in {@link Sgemm}; the
 * element-wise ops below are vectorized with the Vector API (the same expressions as
 * {@link ActivationMath}, {@link LossMath}, {@link OptimizerMath}, which mirror the kernels' headers)
 * and split by rows across the device's own worker team ({@link ParallelRows}) when the matrix is large. Everything is synchronous,
 * so {@link #synchronize()} has nothing to wait for.
 */
final class CpuDevice implements Device<float[]> {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** Element-wise work below this many elements stays on the calling thread. */
    private static final int PARALLEL_ELEMENTS = 1 << 16;
    /** Rows summed in float before folding into the double total: bounds rounding error to ~64 ulp. */
    private static final int SUM_CHUNK = 64;

    /** Stops the worker threads of a device that was dropped without {@link #close()}. */
    private static final Cleaner CLEANER = Cleaner.create();

    private final int threads;
    private final ParallelRows parallel;
    private final Cleaner.Cleanable workersCleanup;
    private final Sgemm sgemm;
    /** Scratch of {@link #columnSum}, grown on demand so that steady-state steps allocate nothing. */
    private double[] sumTotal = new double[0];
    private float[] sumChunk = new float[0];
    /** Made at the first dropout: its class loads the Vector API's long species (about 13 ms in a fresh JVM). */
    private DropoutLanes dropoutLanes;
    private final float[] squareLanes = new float[V];

    CpuDevice(int threads) {
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
    public String description() {
        return describeMachine() + ", " + threads + " threads";
    }

    /** The JVM that runs the kernels and what the Vector API gives it here. */
    @Override
    public String runtimeVersion() {
        return "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + "), Vector API "
                + S.vectorBitSize() + "-bit (" + S.length() + " floats), " + threads + " threads";
    }

    @Override
    public float[] allocate(long floats) {
        long bytes = floats * Float.BYTES;
        Runtime rt = Runtime.getRuntime();
        long headroom = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        // Refuse what cannot fit even after a full GC, rather than let OutOfMemoryError hit other threads.
        if (bytes > rt.maxMemory())
            throw new BackendException((bytes >> 20) + " MiB is more than the whole Java heap ("
                    + (rt.maxMemory() >> 20) + " MiB, " + (headroom >> 20) + " MiB free; raise -Xmx)");
        try {
            return new float[(int) floats];
        } catch (OutOfMemoryError e) {
            throw new BackendException((bytes >> 20) + " MiB: the Java heap is exhausted (raise -Xmx)", e);
        }
    }

    @Override
    public void free(float[] buffer) {
        // the GC reclaims it once the handle drops its last reference
    }

    @Override
    public void upload(float[] src, float[] dst) {
        System.arraycopy(src, 0, dst, 0, src.length);
    }

    @Override
    public void download(float[] src, float[] dst) {
        System.arraycopy(src, 0, dst, 0, dst.length);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta,
                     float[] c) {
        sgemm.multiply(transA, transB, m, n, k, alpha, a, transA ? m : k, b, transB ? k : n, beta, c);
    }

    /** z = input·W, then z += bias and out = f(z) on each tile of z as the GEMM finishes it (softmax: after). */
    @Override
    public void denseForward(Activation f, float[] input, float[] weights, float[] bias, float[] z, float[] out, int rows,
                             int in, int outs) {
        if (!Activations.elementWise(f) || bias == null) {
            Device.super.denseForward(f, input, weights, bias, z, out, rows, in, outs);
            return;
        }
        sgemm.multiply(false, false, rows, outs, in, 1f, input, in, weights, outs, 0f, z, f, bias, out);
    }

    // ---- activations ----

    @Override
    public void activationForward(Activation f, float[] zd, float[] bd, float[] od, int rows, int cols) {
        forRows(rows, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * cols;
                if (bd != null) addBias(zd, off, bd, cols);
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
    public void activationBackward(Activation f, float[] zd, float[] od, float[] dd, int rows, int cols) {
        boolean readsZ = ActivationMath.activationDerivativeReadsZ(f);
        forRows(rows, cols, (r0, r1) -> {
            int from = r0 * cols, to = r1 * cols;
            int i = from;
            int upper = from + S.loopBound(to - from);
            switch (f) {
                case RELU -> {
                    for (; i < upper; i += V) {
                        FloatVector a = FloatVector.fromArray(S, od, i);
                        FloatVector g = FloatVector.fromArray(S, dd, i);
                        g.blend(0f, a.compare(VectorOperators.GT, 0f).not()).intoArray(dd, i);
                    }
                }
                case LEAKY_RELU -> {
                    for (; i < upper; i += V) {
                        FloatVector a = FloatVector.fromArray(S, od, i);
                        FloatVector g = FloatVector.fromArray(S, dd, i);
                        g.blend(g.mul(ActivationMath.LEAKY_SLOPE), a.compare(VectorOperators.GT, 0f).not()).intoArray(dd, i);
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
                case GELU -> {
                    for (; i < upper; i += V) {
                        FloatVector x = FloatVector.fromArray(S, zd, i);
                        FloatVector cdf = ActivationMath.erfc(x.mul(-ActivationMath.SQRT_HALF)).mul(0.5f);
                        FloatVector pdf = ActivationMath.exp(x.mul(x).mul(-0.5f));
                        FloatVector.fromArray(S, dd, i).mul(cdf.add(x.mul(ActivationMath.INV_SQRT_2PI).mul(pdf)))
                                .intoArray(dd, i);
                    }
                }
                default -> { } // GELU_TANH: scalar below
            }
            for (; i < to; i++)
                dd[i] *= readsZ ? ActivationMath.activationDerivative(f, 0f, zd[i])
                        : ActivationMath.activationDerivative(f, od[i], 0f);
        });
    }

    // ---- reductions, loss, optimizer ----

    /** Each column summed in row order, in float chunks of {@link #SUM_CHUNK} rows folded into a double. */
    @Override
    public void columnSum(float[] md, int rows, int cols, float alpha, float beta, float[] od) {
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
    public void gatherRows(float[] s, int srcRows, float[] o, int offset, float[] t, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            float from = o[offset + r];
            if (from >= 0 && from < srcRows) System.arraycopy(s, (int) from * cols, t, r * cols, cols);
            else java.util.Arrays.fill(t, r * cols, (r + 1) * cols, Float.NaN);
        }
    }

    // ---- dropout: DropoutMath's mask, Philox blocks drawn DropoutLanes.BLOCKS at a time ----

    @Override
    public void dropoutForward(float[] in, float[] out, float[] mask, int rows, int cols, float dropProbability, long seed,
                               int layer, float[] step) {
        int n = rows * cols, t = Float.floatToRawIntBits(step[0]);
        long threshold = DropoutMath.keepThreshold(dropProbability);
        float scale = DropoutMath.keepScale(dropProbability);
        if (dropoutLanes == null) dropoutLanes = new DropoutLanes();
        for (int block = 0; 4L * block < n; block += DropoutLanes.BLOCKS)
            dropoutLanes.fill(mask, n, seed, t, layer, block, threshold, scale);
        for (int i = 0; i < n; i++) out[i] = in[i] * mask[i];
    }

    @Override
    public void dropoutBackward(float[] delta, float[] mask, int rows, int cols) {
        for (int i = 0, n = rows * cols; i < n; i++) delta[i] *= mask[i];
    }

    /** Each row's loss in float, columns in order; the rows summed in order in a double. */
    @Override
    public void lossGradient(Loss loss, float[] p, float[] t, float[] g, float[] lossSum, int rows, int cols) {
        float invN = 1f / rows;
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            float row = 0f;
            for (int i = r * cols, end = i + cols; i < end; i++) {
                g[i] = LossMath.lossGradientValue(p[i], t[i], invN);
                row += LossMath.lossTerm(loss, p[i], t[i]);
            }
            sum += row;
        }
        lossSum[0] += (float) sum;
    }

    /**
     * The step count t is an int32 in step[0]'s bits; this update uses t + 1 (and the schedule's rate
     * for it) and stores it. Clipping scales g by OptimizerMath.gradientClipScale (1 without a sum of
     * squares). Element by element, split across the team for large tensors; scalar on purpose (C2
     * vectorizes these loops, they are bound by memory bandwidth, and scalar code stays fast before C2 has
     * compiled it).
     */
    @Override
    public void optimizerUpdate(UpdateRule rule, float[] w, float[] g, float[] slot0, float[] slot1, float[] step,
                                float[] sumOfSquares, float maxNorm, long n) {
        int t = Float.floatToRawIntBits(step[0]) + 1;
        float lr = rule.schedule().learningRate(rule.learningRate(), t), l2 = rule.l2();
        float clip = sumOfSquares == null ? 1f : OptimizerMath.gradientClipScale(sumOfSquares[0], maxNorm);
        int len = (int) n;
        switch (rule.kind()) {
            case SGD -> forRange(len, (from, to) -> {
                for (int i = from; i < to; i++)
                    w[i] = OptimizerMath.sgdWeight(w[i], OptimizerMath.optimizerGradient(g[i], clip, w[i], l2), lr);
            });
            case MOMENTUM, NESTEROV -> {
                float mu = rule.momentum();
                boolean nesterov = rule.nesterov();
                forRange(len, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        float gi = OptimizerMath.optimizerGradient(g[i], clip, w[i], l2);
                        float vi = OptimizerMath.momentumVelocity(slot0[i], gi, mu);
                        slot0[i] = vi;
                        w[i] = OptimizerMath.momentumWeight(w[i], gi, vi, lr, mu, nesterov);
                    }
                });
            }
            case ADAM, ADAMW -> {
                float b1 = rule.beta1(), b2 = rule.beta2(), eps = rule.epsilon();
                float decay = OptimizerMath.decoupledDecay(lr, rule.weightDecay());
                float c1 = OptimizerMath.adamBiasCorrection(b1, t), c2 = OptimizerMath.adamBiasCorrection(b2, t);
                forRange(len, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        float gi = OptimizerMath.optimizerGradient(g[i], clip, w[i], l2);
                        float mi = OptimizerMath.adamFirstMoment(slot0[i], gi, b1);
                        float vi = OptimizerMath.adamSecondMoment(slot1[i], gi, b2);
                        slot0[i] = mi;
                        slot1[i] = vi;
                        w[i] = OptimizerMath.adamWeight(w[i], mi, vi, lr, eps, decay, c1, c2);
                    }
                });
            }
        }
        step[0] = Float.intBitsToFloat(t);
    }

    /**
     * Squares summed in float lanes over chunks of {@link #SUM_CHUNK}·V elements, the lanes then folded
     * into a double in order: the same bits run after run (the lanes' fused multiply-adds are exact per
     * the Vector API's definition, whoever compiles them).
     */
    @Override
    public void sumOfSquares(float[] m, long n, boolean accumulate, float[] out) {
        int len = (int) n, chunk = SUM_CHUNK * V;
        double total = 0;
        for (int c0 = 0; c0 < len; c0 += chunk) {
            int c1 = Math.min(len, c0 + chunk), i = c0;
            FloatVector lanes = FloatVector.zero(S);
            for (int upper = c0 + S.loopBound(c1 - c0); i < upper; i += V) {
                FloatVector x = FloatVector.fromArray(S, m, i);
                lanes = x.fma(x, lanes);
            }
            lanes.intoArray(squareLanes, 0);
            for (float lane : squareLanes) total += lane;
            for (; i < c1; i++) total += (double) m[i] * m[i];
        }
        out[0] = (float) (accumulate ? out[0] + total : total);
    }

    @Override
    public void synchronize() {
        // every op completed before it returned
    }

    @Override
    public void close() {
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
