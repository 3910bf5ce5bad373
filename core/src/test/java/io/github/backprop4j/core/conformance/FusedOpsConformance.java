package io.github.backprop4j.core.conformance;

import static io.github.backprop4j.core.conformance.Check.download;
import static io.github.backprop4j.core.conformance.Check.random;
import static io.github.backprop4j.core.conformance.Check.upload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.DeviceDataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.Trainer;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ops a backend may fuse (dense forward with bias and activation, weight and bias gradients in
 * one call), device-side batch gathering, and recorded-step replay, each against a float64
 * reference or against the same work done unfused.
 */
public abstract class FusedOpsConformance extends ConformanceBase {

    static Stream<Arguments> denseCases() {
        Stream.Builder<Arguments> s = Stream.builder();
        int[][] shapes = {{1, 1, 1}, {7, 33, 10}, {256, 784, 128}, {33, 65, 129}};
        for (Activation a : Activation.values())
            for (int[] sh : shapes) s.add(Arguments.of(a, sh[0], sh[1], sh[2]));
        return s.build();
    }

    @ParameterizedTest(name = "denseForward {0} n={1} in={2} out={3}")
    @MethodSource("denseCases")
    void denseForwardMatchesFloat64(Activation act, int n, int in, int outs) {
        SplittableRandom rng = new SplittableRandom(act.ordinal() * 1000L + n + in + outs);
        float[] x = random(rng, n * in, -1, 1), w = random(rng, in * outs, -0.5, 0.5), b = random(rng, outs, -1, 1);
        Matrix mx = upload(backend, n, in, x), mw = upload(backend, in, outs, w), mb = upload(backend, 1, outs, b);
        Matrix z = backend.allocate(n, outs), out = backend.allocate(n, outs);
        backend.denseForward(act, mx, mw, mb, z, out);
        double[] pre = new double[n * outs], post = new double[n * outs], scale = new double[n * outs];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < outs; j++) {
                double acc = b[j], mag = Math.abs(b[j]);
                for (int p = 0; p < in; p++) {
                    acc += (double) x[i * in + p] * w[p * outs + j];
                    mag += Math.abs((double) x[i * in + p] * w[p * outs + j]);
                }
                pre[i * outs + j] = acc;
                scale[i * outs + j] = mag;
            }
        if (act == Activation.SOFTMAX) {
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < outs; j++) max = Math.max(max, pre[i * outs + j]);
                for (int j = 0; j < outs; j++) sum += Math.exp(pre[i * outs + j] - max);
                for (int j = 0; j < outs; j++) post[i * outs + j] = Math.exp(pre[i * outs + j] - max) / sum;
            }
            Check.close("dense softmax", post, download(backend, out), new double[post.length], 0, 1e-5);
        } else {
            double[] postScale = new double[post.length];
            for (int i = 0; i < post.length; i++) {
                post[i] = OpsConformance.f(act, pre[i]);
                postScale[i] = scale[i] * Math.max(1, Math.abs(OpsConformance.df(act, pre[i])));
            }
            Check.close("dense " + act, post, download(backend, out), postScale, 1e-5, 1e-6);
        }
        if (!act.derivativeFromOutput()) // only then must z hold the pre-activation
            Check.close("dense " + act + " keeps z", pre, download(backend, z), scale, 1e-5, 1e-6);
        for (Matrix m : new Matrix[]{mx, mw, mb, z, out}) m.close();
    }

    static Stream<Arguments> gradientShapes() {
        return Stream.of(Arguments.of(1, 1, 1), Arguments.of(7, 33, 10), Arguments.of(256, 784, 128),
                Arguments.of(1000, 65, 3), Arguments.of(33, 129, 257));
    }

    @ParameterizedTest(name = "denseGradients n={0} in={1} out={2}")
    @MethodSource("gradientShapes")
    void denseGradientsMatchFloat64(int n, int in, int outs) {
        SplittableRandom rng = new SplittableRandom(n * 7L + in * 3L + outs);
        float[] x = random(rng, n * in, -1, 1), d = random(rng, n * outs, -1, 1);
        Matrix mx = upload(backend, n, in, x), md = upload(backend, n, outs, d);
        Matrix dW = upload(backend, in, outs, random(rng, in * outs, -1, 1)); // stale contents must be overwritten
        Matrix db = upload(backend, 1, outs, random(rng, outs, -1, 1));
        backend.denseGradients(mx, md, dW, db);
        double[] rw = new double[in * outs], sw = new double[in * outs], rb = new double[outs], sb = new double[outs];
        for (int p = 0; p < in; p++)
            for (int j = 0; j < outs; j++)
                for (int i = 0; i < n; i++) {
                    rw[p * outs + j] += (double) x[i * in + p] * d[i * outs + j];
                    sw[p * outs + j] += Math.abs((double) x[i * in + p] * d[i * outs + j]);
                }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < outs; j++) {
                rb[j] += d[i * outs + j];
                sb[j] += Math.abs(d[i * outs + j]);
            }
        Check.close("dW = xᵀ·δ", rw, download(backend, dW), sw, 1e-5, 1e-6);
        Check.close("db = 1ᵀ·δ", rb, download(backend, db), sb, 1e-5, 1e-6);
        for (Matrix m : new Matrix[]{mx, md, dW, db}) m.close();
    }

    @Test
    void gatherRowsCopiesRowsAndPoisonsBadIndices() {
        int rows = 37, cols = 13;
        float[] src = random(new SplittableRandom(3), rows * cols, -1, 1);
        Matrix ms = upload(backend, rows, cols, src);
        float[] order = {5, 36, 0, 0, 17, -1, 37, 2.5e9f};
        Matrix mo = upload(backend, 1, order.length, order);
        Matrix dst = backend.allocate(5, cols);
        backend.gatherRows(ms, mo, 1, dst); // rows 36, 0, 0, 17, -1
        float[] got = download(backend, dst);
        int[] expect = {36, 0, 0, 17};
        for (int r = 0; r < expect.length; r++)
            for (int c = 0; c < cols; c++) assertEquals(src[expect[r] * cols + c], got[r * cols + c], 0f, "row " + r);
        for (int c = 0; c < cols; c++) assertTrue(Float.isNaN(got[4 * cols + c]), "index -1 must give NaN");
        Matrix tail = backend.allocate(2, cols);
        backend.gatherRows(ms, mo, 6, tail); // 37 (one past the end) and 2.5e9
        for (float v : download(backend, tail)) assertTrue(Float.isNaN(v), "out-of-range index must give NaN");
        ShapeException past = assertThrows(ShapeException.class, () -> backend.gatherRows(ms, mo, 4, dst),
                "rows past the order's end");
        assertTrue(past.getMessage().contains("src is 37×" + cols + ", order 1×" + order.length + ", offset 4, dst 5×" + cols
                + ": rows 4..9 are outside order"), past.getMessage());
        for (Matrix m : new Matrix[]{ms, mo, dst, tail}) m.close();
    }

    @Test
    void denseShapeErrorsNameBothShapes() {
        Matrix x = backend.allocate(4, 3), w = backend.allocate(5, 2), b = backend.allocate(1, 2), z = backend.allocate(4, 2);
        ShapeException e = assertThrows(ShapeException.class, () -> backend.denseForward(Activation.RELU, x, w, b, z, z));
        assertTrue(e.getMessage().contains("RELU: input is 4×3, weights 5×2, bias 1×2, z 4×2: input has 3 columns but "
                + "weights have 5 rows"), e.getMessage());
        Matrix d = backend.allocate(4, 2), dW = backend.allocate(3, 3), db = backend.allocate(1, 2);
        e = assertThrows(ShapeException.class, () -> backend.denseGradients(x, d, dW, db));
        assertTrue(e.getMessage().contains("input is 4×3, delta 4×2, dW 3×3, db 1×2: dW must be 3×2"), e.getMessage());
        for (Matrix m : new Matrix[]{x, w, b, z, d, dW, db}) m.close();
    }

    /** Eight Adam steps through replay (recorded and replayed where the backend can) equal eight eager ones. */
    @Test
    void replayedStepsEqualEagerSteps() {
        Network net = Network.input(20).dense(32, Activation.RELU).dense(16, Activation.TANH)
                .output(5, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        SplittableRandom rng = new SplittableRandom(11);
        int n = 24;
        float[] x = random(rng, n * 20, -1, 1);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = rng.nextInt(5);
        Dataset data = Dataset.classification(x, 20, labels, 5);
        float[][] eager = train(net, data, false);
        float[][] replayed = train(net, data, true);
        for (int l = 0; l < eager.length; l++)
            Check.close("layer " + l + " after replayed steps", Check.toDouble(eager[l]), replayed[l], 1e-5);
    }

    private float[][] train(Network net, Dataset data, boolean replay) {
        try (Model model = Model.initialize(backend, net, 5);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), data.rows())) {
            Trainer.Batch batch = trainer.load(data);
            trainer.setStepRecording(replay);
            for (int s = 0; s < 8; s++) trainer.step(batch);
            assertEquals(8, trainer.weightState(0).step(), "optimizer steps counted on the host");
            float[][] w = new float[net.depth()][];
            for (int l = 0; l < net.depth(); l++) w[l] = model.downloadWeights(l);
            return w;
        }
    }

    /**
     * A NaN input row stays NaN through denseForward for every activation, fused or not: a fused
     * activation that turned NaN into a number would hide a divergence from the trainer's loss check.
     */
    @Test
    void denseForwardPassesNaNThroughEveryActivation() {
        SplittableRandom rng = new SplittableRandom(41);
        float[] x = random(rng, 3 * 4, -1, 1), w = random(rng, 4 * 5, -1, 1), b = random(rng, 5, -1, 1);
        x[4 + 2] = Float.NaN;   // row 1
        for (Activation f : Activation.values()) {
            try (Matrix xm = upload(backend, 3, 4, x); Matrix wm = upload(backend, 4, 5, w);
                 Matrix bm = upload(backend, 1, 5, b); Matrix z = backend.allocate(3, 5); Matrix out = backend.allocate(3, 5)) {
                backend.denseForward(f, xm, wm, bm, z, out);
                float[] o = download(backend, out);
                for (int j = 0; j < 5; j++) {
                    assertTrue(Float.isNaN(o[5 + j]), f + " turned the NaN row into " + o[5 + j] + " at column " + j);
                    assertTrue(Float.isFinite(o[j]) && Float.isFinite(o[10 + j]), f + ": a finite row became non-finite");
                }
            }
        }
    }

    /**
     * A step whose first run threw half-way is not kept half recorded: later replays advance every
     * optimizer state the step updates, and the parameters equal those of the same updates run eagerly.
     */
    @Test
    void aStepWhoseFirstRunThrewIsRecordedAfresh() {
        float[] grad = random(new SplittableRandom(31), 6, -1, 1);
        try (Matrix g = backend.allocate(2, 3); Matrix p1 = backend.allocate(2, 3); Matrix p2 = backend.allocate(2, 3);
             Matrix eager = backend.allocate(2, 3);
             Optimizer.State s1 = Optimizer.adam(0.1f).newState(backend, 2, 3, true);
             Optimizer.State s2 = Optimizer.adam(0.1f).newState(backend, 2, 3, true);
             Optimizer.State reference = Optimizer.adam(0.1f).newState(backend, 2, 3, true)) {
            backend.upload(grad, g);
            boolean[] failFirst = {true};
            Object key = new Object();
            Runnable step = () -> {
                backend.optimizerUpdate(s1, p1, g);
                if (failFirst[0]) throw new IllegalStateException("the first run fails half-way");
                backend.optimizerUpdate(s2, p2, g);
            };
            assertThrows(IllegalStateException.class, () -> backend.replay(key, step));
            failFirst[0] = false;
            for (int i = 0; i < 4; i++) backend.replay(key, step);
            for (int i = 0; i < 4; i++) backend.optimizerUpdate(reference, eager, g);
            assertEquals(5, s1.step());
            assertEquals(4, s2.step(), "every update of the step is counted on every replay");
            float[] replayed = new float[6], expected = new float[6];
            backend.download(p2, replayed);
            backend.download(eager, expected);
            Check.close("parameters after four replayed Adam steps", Check.toDouble(expected), replayed, 1e-6);
        }
    }

    /**
     * A whole epoch from a device-resident copy of the data equals one from host batches (same order),
     * with the model's normalization applied on the host per batch or once before the upload.
     */
    @Test
    void residentEpochEqualsHostEpoch() {
        Network net = Network.input(12).dense(16, Activation.RELU).output(3, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY);
        Dataset data = Check.classification(new SplittableRandom(21), 70, 12, 3);
        float[] host, device;
        double hostLoss, deviceLoss;
        Normalization standardize = Normalization.standardize(data);
        try (Model m = Model.initialize(backend, net, 9); Trainer t = new Trainer(m, Optimizer.momentum(0.1f, 0.9f), 16, 4)) {
            m.setNormalization(standardize);
            hostLoss = t.fit(data, 1).getFirst().loss();
            host = m.downloadWeights(0);
        }
        try (Model m = Model.initialize(backend, net, 9); Trainer t = new Trainer(m, Optimizer.momentum(0.1f, 0.9f), 16, 4)) {
            m.setNormalization(standardize);
            try (DeviceDataset resident = DeviceDataset.upload(m, data)) {
                deviceLoss = t.fit(resident, null, 1).getFirst().loss();
            }
            device = m.downloadWeights(0);
        }
        assertEquals(hostLoss, deviceLoss, 1e-5 * Math.abs(hostLoss));
        Check.close("weights after a resident epoch", Check.toDouble(host), device, 1e-5);
    }
}
