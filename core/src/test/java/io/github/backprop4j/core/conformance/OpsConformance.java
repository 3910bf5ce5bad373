package io.github.backprop4j.core.conformance;

import static io.github.backprop4j.core.conformance.Check.download;
import static io.github.backprop4j.core.conformance.Check.random;
import static io.github.backprop4j.core.conformance.Check.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.spi.DropoutMath;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every SPI op against a float64 reference written here: gemm (four transpose combinations,
 * awkward sizes, alpha/beta), each activation forward and backward, softmax, column sum, each loss,
 * each optimizer.
 */
public abstract class OpsConformance extends ConformanceBase {

    static Stream<Arguments> gemmCases() {
        int[][] shapes = {{1, 1, 1}, {7, 7, 7}, {33, 33, 33}, {257, 257, 257}, {1000, 1000, 1000}, {7, 33, 1},
                {1, 257, 33}, {1000, 7, 33}, {33, 1000, 7}, {64, 65, 63},
                // an output layer's shapes (at most 16 columns or rows of C, k long, nothing a multiple of 8)
                {300, 129, 10}, {129, 1001, 10}, {10, 300, 129}, {16, 77, 17}, {17, 40, 16}, {5, 3000, 3},
                {200, 70, 64}, {65, 20, 65}};
        float[][] ab = {{1f, 0f}, {0.5f, 2f}, {-1.5f, 0.25f}};
        Stream.Builder<Arguments> s = Stream.builder();
        int i = 0;
        for (int[] sh : shapes)
            for (int t = 0; t < 4; t++) {
                float[] c = ab[i++ % ab.length];
                s.add(Arguments.of(sh[0], sh[1], sh[2], (t & 1) != 0, (t & 2) != 0, c[0], c[1]));
            }
        return s.build();
    }

    @ParameterizedTest(name = "gemm m={0} k={1} n={2} transA={3} transB={4} alpha={5} beta={6}")
    @MethodSource("gemmCases")
    void gemmMatchesFloat64(int m, int k, int n, boolean ta, boolean tb, float alpha, float beta) {
        checkGemm(backend, m, k, n, ta, tb, alpha, beta);
    }

    /**
     * C ← alpha·op(A)·op(B) + beta·C on {@code backend} against float64, for random inputs seeded by the
     * case; shared with backend tests that run the GEMM under a switch of their own (OpenCL's split K).
     */
    public static void checkGemm(Backend backend, int m, int k, int n, boolean ta, boolean tb, float alpha, float beta) {
        SplittableRandom rng = new SplittableRandom(m * 31L + k * 7L + n + (ta ? 1000 : 0) + (tb ? 2000 : 0));
        float[] a = random(rng, m * k, -1, 1), b = random(rng, k * n, -1, 1), c = random(rng, m * n, -1, 1);
        Matrix ma = ta ? upload(backend, k, m, a) : upload(backend, m, k, a);
        Matrix mb = tb ? upload(backend, n, k, b) : upload(backend, k, n, b);
        Matrix mc = upload(backend, m, n, c);
        backend.gemm(ta, tb, alpha, ma, mb, beta, mc);
        // op(A) by rows and op(B) by columns, both k-contiguous, so that the float64 loop below walks two
        // arrays in order whatever the transposes (a strided walk made a 1000³ case with Aᵀ take seconds)
        double[] rowsOfA = new double[m * k], columnsOfB = new double[n * k];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) rowsOfA[i * k + p] = ta ? a[p * m + i] : a[i * k + p];
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++) columnsOfB[j * k + p] = tb ? b[j * k + p] : b[p * n + j];
        double[] ref = new double[m * n], scale = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double acc = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double product = rowsOfA[i * k + p] * columnsOfB[j * k + p];
                    acc += product;
                    mag += Math.abs(product);
                }
                ref[i * n + j] = alpha * acc + beta * c[i * n + j];
                scale[i * n + j] = Math.abs(alpha) * mag + Math.abs(beta * c[i * n + j]);
            }
        Check.close("gemm " + m + "×" + k + "×" + n + (ta ? " Aᵀ" : "") + (tb ? " Bᵀ" : "") + " alpha " + alpha + " beta "
                + beta, ref, download(backend, mc), scale, 1e-5, 1e-6);
        ma.close();
        mb.close();
        mc.close();
    }

    // ---- activations: reference formulas written out independently of Activation.apply ----

    static double f(Activation act, double z) {
        return switch (act) {
            case IDENTITY -> z;
            case RELU -> Math.max(0, z);
            case LEAKY_RELU -> z > 0 ? z : 0.01 * z;
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case GELU -> ReferenceErfc.gelu(z);
            case GELU_TANH -> 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z * z * z)));
            case SOFTMAX -> throw new AssertionError();
        };
    }

    static double df(Activation act, double z) {
        return switch (act) {
            case IDENTITY -> 1;
            case RELU -> z > 0 ? 1 : 0;
            case LEAKY_RELU -> z > 0 ? 1 : 0.01;
            case SIGMOID -> f(act, z) * (1 - f(act, z));
            case TANH -> 1 - Math.tanh(z) * Math.tanh(z);
            case GELU -> ReferenceErfc.geluDerivative(z);
            case GELU_TANH -> { // derivative by central difference of the reference f, in float64
                double h = 1e-5;
                yield (f(act, z + h) - f(act, z - h)) / (2 * h);
            }
            case SOFTMAX -> throw new AssertionError();
        };
    }

    static Stream<Arguments> activationCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (Activation a : Activation.values())
            if (a.isElementWise())
                for (int[] sh : new int[][]{{1, 1}, {7, 33}, {257, 10}}) s.add(Arguments.of(a, sh[0], sh[1]));
        return s.build();
    }

    @ParameterizedTest(name = "{0} forward and backward {1}×{2}")
    @MethodSource("activationCases")
    void activationForwardAndBackward(Activation act, int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(act.ordinal() * 100L + rows + cols);
        float[] z = random(rng, rows * cols, -4, 4), bias = random(rng, cols, -1, 1), g = random(rng, rows * cols, -1, 1);
        Matrix mz = upload(backend, rows, cols, z), mb = upload(backend, 1, cols, bias), out = backend.allocate(rows, cols);
        backend.activationForward(act, mz, mb, out);
        double[] pre = new double[z.length], post = new double[z.length], grad = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            pre[i] = (double) (z[i] + bias[i % cols]); // the backend adds in fp32 too
            post[i] = f(act, pre[i]);
            grad[i] = g[i] * df(act, pre[i]);
        }
        Check.close(act + " keeps z + bias", pre, download(backend, mz), 1e-6);
        Check.close(act + " forward", post, download(backend, out), 1e-5);
        Matrix delta = upload(backend, rows, cols, g);
        backend.activationBackward(act, mz, out, delta);
        Check.close(act + " backward", grad, download(backend, delta), 1e-4);
        // in place: out aliases z
        Matrix inPlace = upload(backend, rows, cols, z);
        backend.activationForward(act, inPlace, mb, inPlace);
        Check.close(act + " in place", post, download(backend, inPlace), 1e-5);
        for (Matrix m : new Matrix[]{mz, mb, out, delta, inPlace}) m.close();
    }

    @ParameterizedTest(name = "softmax {0}×{1}")
    @MethodSource("softmaxShapes")
    void softmaxRowsAreStableDistributions(int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(rows * 13L + cols);
        float[] z = random(rng, rows * cols, -20, 20), bias = random(rng, cols, -1, 1);
        z[0] = 1000f; // would overflow exp without the max shift
        Matrix mz = upload(backend, rows, cols, z), mb = upload(backend, 1, cols, bias), out = backend.allocate(rows, cols);
        backend.activationForward(Activation.SOFTMAX, mz, mb, out);
        double[] ref = new double[z.length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < cols; j++) max = Math.max(max, (double) (z[r * cols + j] + bias[j]));
            for (int j = 0; j < cols; j++) sum += Math.exp((z[r * cols + j] + bias[j]) - max);
            for (int j = 0; j < cols; j++) ref[r * cols + j] = Math.exp((z[r * cols + j] + bias[j]) - max) / sum;
        }
        Check.close("softmax", ref, download(backend, out), new double[ref.length], 0, 2e-6);
        mz.close();
        mb.close();
        out.close();
    }

    static Stream<Arguments> softmaxShapes() {
        return Stream.of(Arguments.of(1, 2), Arguments.of(7, 33), Arguments.of(257, 10), Arguments.of(3, 1000));
    }

    @ParameterizedTest(name = "column sum {0}×{1}")
    @MethodSource("columnSumShapes")
    void columnSumMatchesFloat64(int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(rows * 17L + cols);
        float[] m = random(rng, rows * cols, -1, 1), prior = random(rng, cols, -1, 1);
        Matrix mm = upload(backend, rows, cols, m), out = upload(backend, 1, cols, prior);
        float alpha = 0.75f, beta = -0.5f;
        backend.columnSum(mm, alpha, beta, out);
        double[] ref = new double[cols], scale = new double[cols];
        for (int j = 0; j < cols; j++) {
            double s = 0, mag = 0;
            for (int i = 0; i < rows; i++) {
                s += m[i * cols + j];
                mag += Math.abs(m[i * cols + j]);
            }
            ref[j] = alpha * s + beta * prior[j];
            scale[j] = alpha * mag + Math.abs(beta * prior[j]);
        }
        Check.close("columnSum", ref, download(backend, out), scale, 1e-5, 1e-6);
        backend.columnSum(mm, 1f, 0f, out); // beta = 0 overwrites
        for (int j = 0; j < cols; j++) ref[j] = (ref[j] - beta * prior[j]) / alpha;
        Check.close("columnSum beta=0", ref, download(backend, out), scale, 1e-5, 1e-6);
        mm.close();
        out.close();
    }

    static Stream<Arguments> columnSumShapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(1000, 7), Arguments.of(7, 1000), Arguments.of(257, 33),
                Arguments.of(8192, 10));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Loss.class)
    void lossGradientAndAccumulatedLoss(Loss loss) {
        int rows = 9, cols = loss == Loss.BINARY_CROSS_ENTROPY ? 1 : 5;
        SplittableRandom rng = new SplittableRandom(loss.ordinal());
        float[] p = new float[rows * cols], y = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int j = 0; j < cols; j++) sum += p[r * cols + j] = (float) (0.05 + rng.nextDouble());
            int label = rng.nextInt(cols);
            for (int j = 0; j < cols; j++) {
                if (loss == Loss.CATEGORICAL_CROSS_ENTROPY) {
                    p[r * cols + j] /= (float) sum;
                    y[r * cols + j] = j == label ? 1 : 0;
                } else if (loss == Loss.BINARY_CROSS_ENTROPY) {
                    p[r * cols + j] = (float) (0.02 + 0.96 * rng.nextDouble());
                    y[r * cols + j] = rng.nextBoolean() ? 1 : 0;
                } else {
                    y[r * cols + j] = (float) rng.nextDouble();
                }
            }
        }
        p[0] = loss == Loss.MSE ? p[0] : 0f; // a zero probability: the log must be clamped, not -inf
        Matrix mp = upload(backend, rows, cols, p), my = upload(backend, rows, cols, y);
        Matrix delta = backend.allocate(rows, cols), sum = backend.allocate(1, 1);
        backend.lossGradient(loss, mp, my, delta, sum);
        backend.lossGradient(loss, mp, my, delta, sum); // accumulates
        double[] refDelta = new double[p.length];
        double refLoss = 0;
        for (int i = 0; i < p.length; i++) {
            refDelta[i] = (p[i] - y[i]) / (double) rows;
            double q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]));
            refLoss += switch (loss) {
                case MSE -> 0.5 * (p[i] - y[i]) * (p[i] - y[i]);
                case BINARY_CROSS_ENTROPY -> -(y[i] * Math.log(q) + (1 - y[i]) * Math.log(1 - q));
                case CATEGORICAL_CROSS_ENTROPY -> -y[i] * Math.log(q);
            };
        }
        Check.close(loss + " delta", refDelta, download(backend, delta), 1e-6);
        Check.close(loss + " summed loss (two calls)", new double[]{2 * refLoss}, download(backend, sum), 1e-5);
        for (Matrix m : new Matrix[]{mp, my, delta, sum}) m.close();
    }

    static Stream<Arguments> optimizers() {
        return Stream.of(Arguments.of(Optimizer.sgd(0.1f)), Arguments.of(new Optimizer.Sgd(0.1f, 0.01f)),
                Arguments.of(Optimizer.momentum(0.05f, 0.9f)), Arguments.of(new Optimizer.Nesterov(0.05f, 0.9f, 0.001f)),
                Arguments.of(Optimizer.adam(0.01f)), Arguments.of(Optimizer.adamW(0.01f, 0.1f)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void optimizerStepsMatchFloat64(Optimizer opt) {
        for (boolean isWeight : new boolean[]{true, false}) {
            int rows = 3, cols = 37, n = rows * cols;
            SplittableRandom rng = new SplittableRandom(opt.name().length() + (isWeight ? 10 : 20));
            float[] w = random(rng, n, -1, 1);
            Matrix mw = upload(backend, rows, cols, w), mg = backend.allocate(rows, cols);
            Optimizer.State state = opt.newState(backend, rows, cols, isWeight);
            double[] rw = Check.toDouble(w);
            ReferenceOptimizer ref = new ReferenceOptimizer(opt, isWeight, n);
            for (int t = 1; t <= 4; t++) {
                float[] g = random(rng, n, -1, 1);
                backend.upload(g, mg);
                backend.optimizerUpdate(state, mw, mg);
                ref.update(rw, g, t, opt.learningRate(), 1);
                Check.close(opt.name() + (isWeight ? " weight" : " bias") + " step " + t, rw, download(backend, mw), 1e-5);
            }
            assertEquals(4, state.step());
            state.close();
            mw.close();
            mg.close();
        }
    }

    // ---- dropout: the mask is Philox4x32-10 of (seed, step, layer, element), the same bits on every backend ----

    static Stream<Arguments> dropoutCases() {
        return Stream.of(Arguments.of(7, 33, 0.5f, 42L, 0, 0), Arguments.of(1, 1, 0.1f, -1L, 1, 2),
                Arguments.of(3, 5, 0.9f, 0x243f6a8885a308d3L, 1000, 7), Arguments.of(257, 10, 0f, 5L, 3, 1),
                Arguments.of(ContractConformance.ROWS, ContractConformance.COLS, 0.25f, Long.MIN_VALUE,
                        (int) Optimizer.State.MAX_STEP, 3));
    }

    /**
     * Each backend's mask equals the Java reference ({@link DropoutMath}) bit for bit, so every backend's
     * equals every other's; output is input times the mask, exactly.
     */
    @ParameterizedTest(name = "dropout {0}×{1} p={2} seed={3} step={4} layer={5}")
    @MethodSource("dropoutCases")
    void dropoutMaskIsThePhiloxReferenceBitForBit(int rows, int cols, float p, long seed, int step, int layer) {
        int n = rows * cols;
        float[] x = random(new SplittableRandom(n + step), n, -2, 2);
        float[] ref = DropoutMath.mask(n, p, seed, step, layer);
        try (Matrix in = upload(backend, rows, cols, x); Matrix out = backend.allocate(rows, cols);
             Matrix mask = backend.allocate(rows, cols); Optimizer.State counter = Optimizer.sgd(0.1f).newState(backend, 1, 1, true)) {
            counter.setStep(step);
            backend.dropoutForward(in, out, mask, p, seed, layer, counter);
            float[] gotMask = download(backend, mask), gotOut = download(backend, out);
            for (int i = 0; i < n; i++) {
                if (Float.floatToRawIntBits(gotMask[i]) != Float.floatToRawIntBits(ref[i]))
                    throw new AssertionError(backend.name() + ": dropout mask element " + i + " is " + gotMask[i]
                            + ", the Philox reference " + ref[i]);
                assertEquals(Float.floatToRawIntBits(x[i] * ref[i]), Float.floatToRawIntBits(gotOut[i]), "output " + i);
            }
            backend.dropoutForward(in, in, mask, p, seed, layer, counter); // in place
            float[] inPlace = download(backend, in);
            for (int i = 0; i < n; i++) assertEquals(x[i] * ref[i], inPlace[i], "in place " + i);
        }
    }

    /** The kept fraction is 1 − p within 5σ; a step later, and in another layer, the mask is a fresh draw. */
    @Test
    void dropoutKeepsOneMinusPAndRedrawsPerStepAndLayer() {
        int rows = ContractConformance.ROWS, cols = ContractConformance.COLS, n = rows * cols;
        float p = 0.3f;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        try (Matrix in = upload(backend, rows, cols, ones); Matrix out = backend.allocate(rows, cols);
             Matrix mask = backend.allocate(rows, cols); Optimizer.State counter = Optimizer.sgd(0.1f).newState(backend, 1, 1, true)) {
            counter.setStep(11);
            backend.dropoutForward(in, out, mask, p, 9, 0, counter);
            float[] first = download(backend, out);
            long kept = 0;
            double sum = 0;
            for (float v : first) {
                if (v != 0) kept++;
                sum += v;
            }
            double sigma = Math.sqrt(p * (1 - p) / n);
            assertEquals(1 - p, (double) kept / n, 5 * sigma, "kept fraction");
            assertEquals(1, sum / n, 5 * sigma / (1 - p), "inverted dropout keeps the mean");
            for (float[] other : new float[][]{draw(in, out, mask, p, 12, 0, counter), draw(in, out, mask, p, 11, 1, counter),
                    draw(in, out, mask, p, 11, 0, counter, 10)}) {
                long same = 0;
                for (int i = 0; i < n; i++) if ((first[i] != 0) == (other[i] != 0)) same++;
                double expected = p * p + (1 - p) * (1 - p); // two independent masks agree this often
                assertEquals(expected, (double) same / n, 5 * Math.sqrt(expected * (1 - expected) / n), "agreement");
            }
            assertTrue(java.util.Arrays.equals(first, draw(in, out, mask, p, 11, 0, counter)), "same key, same mask");
        }
    }

    private float[] draw(Matrix in, Matrix out, Matrix mask, float p, int step, int layer, Optimizer.State counter) {
        return draw(in, out, mask, p, step, layer, counter, 9);
    }

    private float[] draw(Matrix in, Matrix out, Matrix mask, float p, int step, int layer, Optimizer.State counter, long seed) {
        counter.setStep(step);
        backend.dropoutForward(in, out, mask, p, seed, layer, counter);
        return download(backend, out);
    }

    @Test
    void dropoutBackwardMultipliesByTheMask() {
        int rows = 33, cols = 17, n = rows * cols;
        SplittableRandom rng = new SplittableRandom(21);
        float[] g = random(rng, n, -1, 1), m = DropoutMath.mask(n, 0.4f, 3, 4, 5);
        try (Matrix delta = upload(backend, rows, cols, g); Matrix mask = upload(backend, rows, cols, m)) {
            backend.dropoutBackward(delta, mask);
            float[] got = download(backend, delta);
            for (int i = 0; i < n; i++) assertEquals(g[i] * m[i], got[i], "element " + i);
        }
    }

    // ---- learning-rate schedules: computed on the device from its step count ----

    /** The rate of update t (1-based) in float64, from the schedule's formulas. */
    static double scheduledRate(LearningRateSchedule s, double base, long t) {
        long k = t - 1, w = s.warmupSteps();
        if (k < w) return base * (k + 1) / w;
        long j = k - w;
        return switch (s.kind()) {
            case CONSTANT -> base;
            case STEP -> base * Math.pow(s.gamma(), j / s.period());
            case COSINE -> s.minLearningRate() + (base - s.minLearningRate())
                    * (1 + Math.cos(Math.PI * Math.min(j, s.totalSteps() - w) / (s.totalSteps() - w))) / 2;
        };
    }

    static Stream<Arguments> schedules() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (LearningRateSchedule s : new LearningRateSchedule[]{LearningRateSchedule.constant().withWarmup(5),
                LearningRateSchedule.step(3, 0.5f).withWarmup(2), LearningRateSchedule.cosine(12, 0.001f).withWarmup(3)})
            for (Optimizer o : new Optimizer[]{Optimizer.sgd(0.1f), Optimizer.adamW(0.01f, 0.1f)}) b.add(Arguments.of(s, o));
        return b.build();
    }

    /** Fourteen updates (warm-up, decay and the minimum included), each at the rate the schedule gives its count. */
    @ParameterizedTest(name = "{1} with {0}")
    @MethodSource("schedules")
    void scheduledUpdatesMatchFloat64(LearningRateSchedule schedule, Optimizer opt) {
        int n = 40;
        SplittableRandom rng = new SplittableRandom(schedule.kind().ordinal() * 7L + opt.name().length());
        float[] w = random(rng, n, -1, 1);
        double[] rw = Check.toDouble(w);
        ReferenceOptimizer ref = new ReferenceOptimizer(opt, true, n);
        try (Matrix mw = upload(backend, 1, n, w); Matrix mg = backend.allocate(1, n);
             Optimizer.State state = opt.newState(backend, 1, n, true)) {
            state.setSchedule(schedule);
            for (int t = 1; t <= 14; t++) {
                float[] g = random(rng, n, -1, 1);
                backend.upload(g, mg);
                backend.optimizerUpdate(state, mw, mg);
                double lr = scheduledRate(schedule, opt.learningRate(), t);
                ref.update(rw, g, t, lr, 1);
                Check.close(opt.name() + " " + schedule + " update " + t + " (lr " + lr + ")", rw, download(backend, mw), 1e-5);
            }
        }
    }

    /** A restored step count continues the schedule: after setStep(1000) the update runs at update 1001's rate. */
    @Test
    void aRestoredStepCountContinuesTheSchedule() {
        LearningRateSchedule cosine = LearningRateSchedule.cosine(2000, 0.01f).withWarmup(100);
        float[] w = {1f, -2f, 0.5f}, g = {1f, 1f, -1f};
        try (Matrix mw = upload(backend, 1, 3, w); Matrix mg = upload(backend, 1, 3, g);
             Optimizer.State state = Optimizer.sgd(1f).newState(backend, 1, 3, true)) {
            state.setSchedule(cosine);
            state.setStep(1000);
            backend.optimizerUpdate(state, mw, mg);
            double lr = scheduledRate(cosine, 1, 1001);
            Check.close("SGD at update 1001 of " + cosine, new double[]{w[0] - lr * g[0], w[1] - lr * g[1], w[2] - lr * g[2]},
                    download(backend, mw), 1e-5);
        }
    }

    // ---- global-norm clipping: the sum of squares, and updates that read it on the device ----

    static Stream<Arguments> sumOfSquaresShapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(7, 33), Arguments.of(1, 100_003),
                Arguments.of(ContractConformance.ROWS, ContractConformance.COLS));
    }

    @ParameterizedTest(name = "sum of squares {0}×{1}")
    @MethodSource("sumOfSquaresShapes")
    void sumOfSquaresMatchesFloat64(int rows, int cols) {
        float[] m = random(new SplittableRandom(rows * 3L + cols), rows * cols, -2, 2);
        double ref = 0;
        for (float v : m) ref += (double) v * v;
        try (Matrix mm = upload(backend, rows, cols, m); Matrix out = upload(backend, 1, 1, new float[]{0.75f})) {
            backend.sumOfSquares(mm, true, out);
            Check.close("sum of squares + 0.75", new double[]{ref + 0.75}, download(backend, out), 1e-5);
            backend.sumOfSquares(mm, false, out);
            Check.close("sum of squares", new double[]{ref}, download(backend, out), 1e-5);
        }
    }

    /**
     * Every optimizer with its gradient clipped by the global norm of two gradients (this parameter's and
     * another's), once where clipping scales (norm above the limit) and once where it does not.
     */
    @ParameterizedTest(name = "{0} clipped")
    @MethodSource("optimizers")
    void clippedUpdatesMatchFloat64(Optimizer opt) {
        int rows = 3, cols = 37, n = rows * cols;
        SplittableRandom rng = new SplittableRandom(opt.name().length() + 60);
        float[] w = random(rng, n, -1, 1), g = random(rng, n, -1, 1), other = random(rng, 50, -3, 3);
        double norm2 = 0;
        for (float v : g) norm2 += (double) v * v;
        for (float v : other) norm2 += (double) v * v;
        double norm = Math.sqrt(norm2);
        for (float maxNorm : new float[]{(float) (norm / 4), (float) (norm * 2)}) {
            double scale = Math.min(1, maxNorm / norm);
            try (Matrix mw = upload(backend, rows, cols, w); Matrix mg = upload(backend, rows, cols, g);
                 Matrix mo = upload(backend, 1, 50, other); Matrix sum = backend.allocate(1, 1);
                 Optimizer.State state = opt.newState(backend, rows, cols, true)) {
                backend.sumOfSquares(mg, false, sum);
                backend.sumOfSquares(mo, true, sum);
                backend.optimizerUpdate(state, mw, mg, sum, maxNorm);
                double[] ref = Check.toDouble(w);
                new ReferenceOptimizer(opt, true, n).update(ref, g, 1, opt.learningRate(), scale);
                Check.close(opt.name() + " clipped to " + maxNorm + " (scale " + scale + ")", ref, download(backend, mw), 1e-5);
            }
        }
    }

    @Test
    void allocateIsZeroFilledAndRoundTrips() {
        Matrix m = backend.allocate(33, 7);
        Check.close("fresh matrix", new double[33 * 7], download(backend, m), 0);
        float[] v = random(new SplittableRandom(5), 33 * 7, -3, 3);
        backend.upload(v, m);
        Check.close("round trip", Check.toDouble(v), download(backend, m), 0);
        m.close();
    }
}
