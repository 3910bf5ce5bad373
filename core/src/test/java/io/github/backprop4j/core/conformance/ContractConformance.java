package io.github.backprop4j.core.conformance;

import static io.github.backprop4j.core.conformance.Check.download;
import static io.github.backprop4j.core.conformance.Check.random;
import static io.github.backprop4j.core.conformance.Check.upload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.DropoutMath;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One test per clause of the op contracts written on {@link Device}: what each op reads (a buffer it
 * must not read holds NaN here), what it writes, and that every reduction gives the same bits run
 * after run. Clauses about the device itself (a null bias) call a second instance of the device
 * directly, without the handle.
 */
public abstract class ContractConformance extends ConformanceBase {

    /** Big enough that every backend's parallel paths take part. */
    static final int ROWS = 4096, COLS = 256;

    private Device<Object> device;

    @AfterAll
    void closeDevice() {
        if (device != null) device.close();
    }

    /**
     * A second instance of the device under test, without the handle: the provider's by default; a
     * module may open it another way (e.g. over a host stand-in).
     */
    protected Device<?> openDevice() {
        return BackendFixture.provider(backendName()).open(BackendFixture.options());
    }

    @SuppressWarnings("unchecked")
    private Device<Object> device() {
        if (device == null) device = (Device<Object>) openDevice();
        return device;
    }

    private static float[] nans(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN);
        return v;
    }

    // ---- activationForward ----

    @ParameterizedTest(name = "{0}")
    @EnumSource(Activation.class)
    void activationForwardPassesNaNThrough(Activation f) {
        int rows = 3, cols = 5;
        float[] z = random(new SplittableRandom(1), rows * cols, -2, 2);
        z[7] = Float.NaN;
        try (Matrix mz = upload(backend, rows, cols, z); Matrix bias = backend.allocate(1, cols);
             Matrix out = backend.allocate(rows, cols)) {
            backend.activationForward(f, mz, bias, out);
            float[] got = download(backend, out);
            if (f == Activation.SOFTMAX) {
                for (int j = 0; j < cols; j++) assertTrue(Float.isNaN(got[cols + j]), "softmax row with a NaN: " + got[cols + j]);
                for (int j = 0; j < cols; j++) assertTrue(Float.isFinite(got[j]), "softmax of a finite row");
            } else {
                assertTrue(Float.isNaN(got[7]), f + "(NaN) = " + got[7]);
            }
        }
    }

    /** Without a bias (a GEMM epilogue added it) z is only read: it keeps its contents. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Activation.class)
    void activationForwardWithoutBiasOnlyReadsZ(Activation f) {
        Device<Object> d = device();
        int rows = 7, cols = 9;
        float[] z = random(new SplittableRandom(f.ordinal()), rows * cols, -3, 3);
        Object bz = d.allocate(z.length), bo = d.allocate(z.length);
        try {
            d.upload(z, bz);
            d.activationForward(f, bz, null, bo, rows, cols);
            float[] zAfter = new float[z.length], out = new float[z.length];
            d.download(bz, zAfter);
            d.download(bo, out);
            assertArrayEquals(z, zAfter, "z must not be written without a bias");
            for (int r = 0; r < rows; r++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < cols; j++) max = Math.max(max, z[r * cols + j]);
                for (int j = 0; j < cols; j++) sum += Math.exp(z[r * cols + j] - max);
                for (int j = 0; j < cols; j++) {
                    int i = r * cols + j;
                    double ref = f == Activation.SOFTMAX ? Math.exp(z[i] - max) / sum : OpsConformance.f(f, z[i]);
                    assertEquals(ref, out[i], 1e-5 * Math.max(1, Math.abs(ref)) * BackendFixture.toleranceScale(),
                            f + " element " + i);
                }
            }
        } finally {
            d.free(bz);
            d.free(bo);
        }
    }

    // ---- activationBackward ----

    /** ReLU, leaky ReLU, sigmoid and tanh read out only: z full of NaN changes nothing. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Activation.class, names = {"RELU", "LEAKY_RELU", "SIGMOID", "TANH"})
    void activationBackwardReadsOnlyOut(Activation f) {
        int rows = 33, cols = 17;
        SplittableRandom rng = new SplittableRandom(f.ordinal() + 40);
        float[] pre = random(rng, rows * cols, -3, 3), g = random(rng, rows * cols, -1, 1), out = new float[pre.length];
        double[] ref = new double[pre.length];
        for (int i = 0; i < pre.length; i++) {
            out[i] = (float) OpsConformance.f(f, pre[i]);
            double fp = switch (f) {
                case RELU -> out[i] > 0 ? 1 : 0;
                case LEAKY_RELU -> out[i] > 0 ? 1 : Activation.LEAKY_SLOPE;
                case SIGMOID -> (double) out[i] * (1 - out[i]);
                default -> 1 - (double) out[i] * out[i];
            };
            ref[i] = g[i] * fp;
        }
        try (Matrix z = upload(backend, rows, cols, nans(pre.length)); Matrix mo = upload(backend, rows, cols, out);
             Matrix delta = upload(backend, rows, cols, g)) {
            backend.activationBackward(f, z, mo, delta);
            Check.close(f + " backward from out alone", ref, download(backend, delta), 1e-5);
        }
    }

    /** Both GELUs read z only: out full of NaN changes nothing. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Activation.class, names = {"GELU", "GELU_TANH"})
    void geluBackwardReadsOnlyZ(Activation f) {
        int rows = 33, cols = 17;
        SplittableRandom rng = new SplittableRandom(77);
        float[] z = random(rng, rows * cols, -3, 3), g = random(rng, rows * cols, -1, 1);
        double[] ref = new double[z.length];
        for (int i = 0; i < z.length; i++) ref[i] = g[i] * OpsConformance.df(f, z[i]);
        try (Matrix mz = upload(backend, rows, cols, z); Matrix out = upload(backend, rows, cols, nans(z.length));
             Matrix delta = upload(backend, rows, cols, g)) {
            backend.activationBackward(f, mz, out, delta);
            Check.close(f + " backward from z alone", ref, download(backend, delta), 1e-4);
        }
    }

    /**
     * The exact GELU and its derivative over the whole range a layer sees, tails included (the
     * derivative's z·φ(z) term and erfc's two branches), against the float64 series.
     */
    @Test
    void exactGeluAndDerivativeAcrossTheRange() {
        int n = 4096;
        float[] z = new float[n], g = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = -12f + 24f * i / (n - 1);
            g[i] = 1f;
        }
        double[] f = new double[n], df = new double[n];
        for (int i = 0; i < n; i++) {
            f[i] = ReferenceErfc.gelu(z[i]);
            df[i] = ReferenceErfc.geluDerivative(z[i]);
        }
        try (Matrix mz = upload(backend, 1, n, z); Matrix bias = backend.allocate(1, n); Matrix out = backend.allocate(1, n);
             Matrix delta = upload(backend, 1, n, g)) {
            backend.activationForward(Activation.GELU, mz, bias, out);
            Check.close("GELU forward over [-12, 12]", f, download(backend, out), 1e-5);
            backend.activationBackward(Activation.GELU, mz, out, delta);
            Check.close("GELU derivative over [-12, 12]", df, download(backend, delta), 1e-5);
        }
    }

    /** Identity's derivative is 1: delta is left exactly as it was, whatever z and out hold. */
    @Test
    void identityBackwardLeavesDeltaUntouched() {
        float[] g = random(new SplittableRandom(3), 40, -1, 1);
        try (Matrix z = upload(backend, 5, 8, nans(40)); Matrix out = upload(backend, 5, 8, nans(40));
             Matrix delta = upload(backend, 5, 8, g)) {
            backend.activationBackward(Activation.IDENTITY, z, out, delta);
            assertArrayEquals(g, download(backend, delta));
        }
    }

    // ---- gemm and columnSum: beta = 0 does not read the output ----

    /** Narrow C (few columns, few rows) and wide C, each transpose combination. */
    @ParameterizedTest(name = "m={0} k={1} n={2}")
    @CsvSource({"6, 4, 3", "3, 37, 70", "70, 37, 10", "40, 20, 33"})
    void gemmWithBetaZeroIgnoresC(int m, int k, int n) {
        float[] a = random(new SplittableRandom(5), m * k, -1, 1), b = random(new SplittableRandom(6), k * n, -1, 1);
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            try (Matrix ma = ta ? upload(backend, k, m, a) : upload(backend, m, k, a);
                 Matrix mb = tb ? upload(backend, n, k, b) : upload(backend, k, n, b);
                 Matrix c = upload(backend, m, n, nans(m * n))) {
                backend.gemm(ta, tb, 1f, ma, mb, 0f, c);
                for (float v : download(backend, c))
                    assertTrue(Float.isFinite(v), "NaN in C leaked through beta = 0 (transA=" + ta + ", transB=" + tb + ")");
            }
        }
    }

    @Test
    void columnSumWithBetaZeroIgnoresOut() {
        try (Matrix m = upload(backend, 9, 4, random(new SplittableRandom(8), 36, -1, 1));
             Matrix out = upload(backend, 1, 4, nans(4))) {
            backend.columnSum(m, 1f, 0f, out);
            for (float v : download(backend, out)) assertTrue(Float.isFinite(v), "NaN in out leaked through beta = 0");
        }
    }

    // ---- lossGradient ----

    /** NaN in ŷ makes the summed loss NaN for every loss, even where the target is 0. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Loss.class)
    void lossOfANaNOutputIsNaN(Loss loss) {
        int rows = 4, cols = loss == Loss.BINARY_CROSS_ENTROPY ? 1 : 3;
        float[] p = new float[rows * cols], y = new float[rows * cols];
        Arrays.fill(p, 1f / cols);
        for (int r = 0; r < rows; r++) y[r * cols] = 1f;
        p[rows * cols - 1] = Float.NaN; // for CCE a zero-target element: 0·log(NaN) must still count
        try (Matrix mp = upload(backend, rows, cols, p); Matrix my = upload(backend, rows, cols, y);
             Matrix delta = backend.allocate(rows, cols); Matrix sum = backend.allocate(1, 1)) {
            backend.lossGradient(loss, mp, my, delta, sum);
            float got = download(backend, sum)[0];
            assertTrue(Float.isNaN(got), loss + " of a NaN output is " + got);
        }
    }

    // ---- reductions: the same bits run after run ----

    @Test
    void columnSumIsDeterministic() {
        float[] m = random(new SplittableRandom(11), ROWS * COLS, -1, 1);
        try (Matrix mm = upload(backend, ROWS, COLS, m); Matrix out = backend.allocate(1, COLS)) {
            float[][] runs = new float[3][];
            for (int run = 0; run < runs.length; run++) {
                backend.columnSum(mm, 1f, 0f, out);
                runs[run] = download(backend, out);
            }
            sameBits("columnSum " + ROWS + "×" + COLS, runs);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Loss.class)
    void lossGradientIsDeterministic(Loss loss) {
        int cols = loss == Loss.BINARY_CROSS_ENTROPY ? 1 : COLS;
        SplittableRandom rng = new SplittableRandom(loss.ordinal() + 12);
        float[] p = random(rng, ROWS * cols, 0.01, 0.99), y = new float[ROWS * cols];
        for (int r = 0; r < ROWS; r++) y[r * cols + rng.nextInt(cols)] = 1f;
        try (Matrix mp = upload(backend, ROWS, cols, p); Matrix my = upload(backend, ROWS, cols, y);
             Matrix delta = backend.allocate(ROWS, cols); Matrix sum = backend.allocate(1, 1)) {
            float[][] sums = new float[3][], deltas = new float[3][];
            for (int run = 0; run < sums.length; run++) {
                backend.upload(new float[1], sum);
                backend.lossGradient(loss, mp, my, delta, sum);
                sums[run] = download(backend, sum);
                deltas[run] = download(backend, delta);
            }
            sameBits(loss + " summed loss over " + ROWS + " rows", sums);
            sameBits(loss + " delta", deltas);
        }
    }

    @Test
    void gemmIsDeterministic() {
        SplittableRandom rng = new SplittableRandom(13);
        try (Matrix a = upload(backend, COLS, ROWS, random(rng, ROWS * COLS, -1, 1));
             Matrix b = upload(backend, ROWS, COLS, random(rng, ROWS * COLS, -1, 1)); Matrix c = backend.allocate(COLS, COLS)) {
            float[][] runs = new float[3][];
            for (int run = 0; run < runs.length; run++) {
                backend.gemm(false, false, 1f, a, b, 0f, c);
                runs[run] = download(backend, c);
            }
            sameBits("gemm " + COLS + "×" + ROWS + "·" + ROWS + "×" + COLS, runs);
        }
    }

    @Test
    void denseGradientsAreDeterministic() {
        SplittableRandom rng = new SplittableRandom(14);
        try (Matrix x = upload(backend, ROWS, COLS, random(rng, ROWS * COLS, -1, 1));
             Matrix delta = upload(backend, ROWS, 64, random(rng, ROWS * 64, -1, 1));
             Matrix dW = backend.allocate(COLS, 64); Matrix db = backend.allocate(1, 64)) {
            float[][] w = new float[3][], b = new float[3][];
            for (int run = 0; run < w.length; run++) {
                backend.denseGradients(x, delta, dW, db);
                w[run] = download(backend, dW);
                b[run] = download(backend, db);
            }
            sameBits("denseGradients dW", w);
            sameBits("denseGradients db", b);
        }
    }

    private static void sameBits(String what, float[][] runs) {
        for (int run = 1; run < runs.length; run++)
            for (int i = 0; i < runs[0].length; i++)
                if (Float.floatToRawIntBits(runs[run][i]) != Float.floatToRawIntBits(runs[0][i]))
                    throw new AssertionError(what + ": run " + (run + 1) + " element " + i + " is " + runs[run][i]
                            + " but run 1 gave " + runs[0][i] + ": the reduction is not deterministic");
    }

    @Test
    void sumOfSquaresIsDeterministic() {
        float[] m = random(new SplittableRandom(15), ROWS * COLS, -1, 1);
        try (Matrix mm = upload(backend, ROWS, COLS, m); Matrix out = backend.allocate(1, 1)) {
            float[][] runs = new float[3][];
            for (int run = 0; run < runs.length; run++) {
                backend.sumOfSquares(mm, false, out);
                backend.sumOfSquares(mm, true, out);
                runs[run] = download(backend, out);
            }
            sameBits("sumOfSquares " + ROWS + "×" + COLS, runs);
        }
    }

    /** Without accumulating, out's old contents are not read (NaN there does not propagate). */
    @Test
    void sumOfSquaresWithoutAccumulatingIgnoresOut() {
        try (Matrix m = upload(backend, 3, 4, random(new SplittableRandom(16), 12, -1, 1));
             Matrix out = upload(backend, 1, 1, nans(1))) {
            backend.sumOfSquares(m, false, out);
            assertTrue(Float.isFinite(download(backend, out)[0]), "NaN in out leaked through accumulate = false");
        }
    }

    /**
     * A NaN or infinite global norm never turns into "no clipping" (fmin(1, NaN) = 1) or into a zero step
     * (c/∞ = 0): every parameter becomes NaN, which the trainer reports as divergence.
     */
    @Test
    void aNonFiniteNormPoisonsTheUpdate() {
        for (Optimizer opt : new Optimizer[]{Optimizer.sgd(0.1f), Optimizer.momentum(0.1f, 0.9f), Optimizer.adam(0.1f)})
            for (float norm : new float[]{Float.NaN, Float.POSITIVE_INFINITY}) {
                try (Matrix w = upload(backend, 2, 3, random(new SplittableRandom(17), 6, -1, 1));
                     Matrix g = upload(backend, 2, 3, random(new SplittableRandom(18), 6, -1, 1));
                     Matrix sum = upload(backend, 1, 1, new float[]{norm}); Optimizer.State s = opt.newState(backend, 2, 3, true)) {
                    backend.optimizerUpdate(s, w, g, sum, 1f);
                    for (float v : download(backend, w))
                        assertTrue(Float.isNaN(v), opt.name() + " with a global norm² of " + norm + " left " + v);
                }
            }
    }

    // ---- optimizerUpdate: the step count is device state ----

    /** Every update advances the device's count by one, for every kind (cpu included). */
    @Test
    void everyUpdateAdvancesTheDeviceStepCount() {
        for (Optimizer opt : new Optimizer[]{Optimizer.sgd(0.1f), Optimizer.nesterov(0.1f, 0.9f), Optimizer.adamW(0.1f, 0.1f)}) {
            try (Matrix w = backend.allocate(2, 3); Matrix g = backend.allocate(2, 3);
                 Optimizer.State s = opt.newState(backend, 2, 3, true)) {
                assertEquals(0, s.step(), opt.name() + " starts at 0");
                for (int i = 0; i < 5; i++) backend.optimizerUpdate(s, w, g);
                assertEquals(5, s.step(), opt.name() + " after 5 updates");
            }
        }
    }

    /**
     * Adam's bias correction is computed on the device from its count: after setStep(1000) the next
     * update uses t = 1001 (1/(1 − 0.9¹⁰⁰¹) ≈ 1), not t = 1 (1/(1 − 0.9) = 10).
     */
    @Test
    void adamBiasCorrectionUsesTheDeviceStepCount() {
        Optimizer.Adam adam = Optimizer.adam(0.01f);
        float[] w0 = {0.5f, -0.25f, 1f}, g = {0.1f, -0.2f, 0.3f};
        try (Matrix w = upload(backend, 1, 3, w0); Matrix mg = upload(backend, 1, 3, g);
             Optimizer.State s = adam.newState(backend, 1, 3, true)) {
            s.setStep(1000);
            backend.optimizerUpdate(s, w, mg);
            assertEquals(1001, s.step());
            double b1 = adam.beta1(), b2 = adam.beta2();
            double[] ref = new double[3];
            for (int i = 0; i < 3; i++) {
                double m = (1 - b1) * g[i], v = (1 - b2) * g[i] * g[i];
                double mh = m / (1 - Math.pow(b1, 1001)), vh = v / (1 - Math.pow(b2, 1001));
                ref[i] = w0[i] - adam.learningRate() * mh / (Math.sqrt(vh) + adam.epsilon());
            }
            Check.close("Adam at t = 1001", ref, download(backend, w), 1e-5);
        }
    }

    @Test
    void stepCountsAreRefusedOutsideTheirRange() {
        try (Optimizer.State s = Optimizer.adam(0.1f).newState(backend, 1, 1, true)) {
            assertThrows(IllegalArgumentException.class, () -> s.setStep(-1));
            assertThrows(IllegalArgumentException.class, () -> s.setStep(Optimizer.State.MAX_STEP + 1));
            s.setStep(Optimizer.State.MAX_STEP);
            assertEquals(Optimizer.State.MAX_STEP, s.step());
        }
    }

    // ---- dropoutForward: reads input and the step count only; NaN stays visible ----

    @Test
    void dropoutForwardReadsOnlyInputAndTheStepCount() {
        int rows = 9, cols = 7, n = rows * cols;
        float[] x = random(new SplittableRandom(31), n, -1, 1), ref = DropoutMath.mask(n, 0.5f, 8, 0, 2);
        try (Matrix in = upload(backend, rows, cols, x); Matrix out = upload(backend, rows, cols, nans(n));
             Matrix mask = upload(backend, rows, cols, nans(n)); Optimizer.State counter = Optimizer.sgd(0.1f).newState(backend, 1, 1, true)) {
            backend.dropoutForward(in, out, mask, 0.5f, 8, 2, counter);
            assertArrayEquals(ref, download(backend, mask));
            float[] got = download(backend, out);
            for (int i = 0; i < n; i++) assertEquals(x[i] * ref[i], got[i], "element " + i);
        }
    }

    @Test
    void droppedNaNStaysNaN() {
        try (Matrix in = upload(backend, 4, 8, nans(32)); Matrix out = backend.allocate(4, 8); Matrix mask = backend.allocate(4, 8);
             Optimizer.State counter = Optimizer.sgd(0.1f).newState(backend, 1, 1, true)) {
            backend.dropoutForward(in, out, mask, 0.5f, 1, 0, counter);
            for (float v : download(backend, out)) assertTrue(Float.isNaN(v), "dropout turned NaN into " + v);
        }
    }

    /**
     * The mask is keyed by the device's step count, read on the device: a recorded step (dropout, then the
     * update that advances the count) replayed three times draws the masks of steps 0, 1 and 2.
     */
    @Test
    void aReplayedStepDrawsAFreshMaskFromTheDeviceStepCount() {
        int rows = 16, cols = 12, n = rows * cols;
        float[] x = random(new SplittableRandom(32), n, -1, 1);
        try (Matrix in = upload(backend, rows, cols, x); Matrix out = backend.allocate(rows, cols);
             Matrix mask = backend.allocate(rows, cols); Matrix w = backend.allocate(1, 3); Matrix g = backend.allocate(1, 3);
             Optimizer.State counter = Optimizer.adam(0.1f).newState(backend, 1, 3, true)) {
            Object key = new Object();
            for (int step = 0; step < 3; step++) {
                backend.replay(key, () -> {
                    backend.dropoutForward(in, out, mask, 0.3f, 77, 1, counter);
                    backend.optimizerUpdate(counter, w, g);
                });
                assertArrayEquals(DropoutMath.mask(n, 0.3f, 77, step, 1), download(backend, mask), "step " + step);
            }
            assertEquals(3, counter.step());
        }
    }

    // ---- replay bodies enqueue device ops only ----

    @Test
    void replayBodiesRefuseHostWork() {
        try (Matrix m = backend.allocate(2, 2); Optimizer.State s = Optimizer.adam(0.1f).newState(backend, 2, 2, true)) {
            Object key = new Object();
            for (Runnable host : new Runnable[]{() -> backend.upload(new float[4], m),
                    () -> backend.download(m, new float[4]), () -> backend.allocate(1, 1), m::close,
                    backend::synchronize, () -> s.setStep(3), () -> backend.replay(key, () -> { })}) {
                BackendException e = assertThrows(BackendException.class, () -> backend.replay(key, host));
                assertTrue(e.getMessage().startsWith(backend.name() + ": ") && e.getMessage().contains(
                        "inside a replay body"), e.getMessage());
            }
            assertEquals(0, s.step(), "nothing ran");
            assertTrue(!m.isReleased(), "the matrix was not freed");
        }
    }
}
