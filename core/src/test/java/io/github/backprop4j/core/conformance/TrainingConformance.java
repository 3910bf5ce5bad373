package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.TrainingCollapsedException;
import io.github.backprop4j.core.TrainingDivergedException;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * End-to-end training smoke tests, the last-partial-batch rule, and the trainer's dropout, clipping and
 * schedule as a whole step uses them.
 */
public abstract class TrainingConformance extends ConformanceBase {

    @Test
    void xorReachesFullAccuracy() {
        Network net = Network.input(2).dense(8, Activation.TANH).output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
        Dataset xor = Dataset.of(new float[][]{{0, 0}, {0, 1}, {1, 0}, {1, 1}}, new float[][]{{0}, {1}, {1}, {0}});
        try (Model model = Model.initialize(backend, net, 7); Trainer t = new Trainer(model, Optimizer.adam(0.05f), 4, 1)) {
            t.fit(xor, 400);
            Model.Evaluation e = model.evaluate(xor);
            assertEquals(1.0, e.accuracy(), "XOR accuracy, loss " + e.loss());
        }
    }

    @Test
    void concentricCirclesReachNinetyFivePercent() {
        int n = 600;
        SplittableRandom rng = new SplittableRandom(3);
        float[][] x = new float[n][2];
        int[] label = new int[n];
        for (int i = 0; i < n; i++) {
            label[i] = i % 2;
            double r = (label[i] == 0 ? 0.5 : 1.0) + rng.nextDouble(-0.1, 0.1), phi = rng.nextDouble(0, 2 * Math.PI);
            x[i][0] = (float) (r * Math.cos(phi));
            x[i][1] = (float) (r * Math.sin(phi));
        }
        Dataset data = Dataset.classification(x, label, 2);
        Network net = Network.input(2).dense(32, Activation.RELU).dense(32, Activation.RELU)
                .output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Model model = Model.initialize(backend, net, 11); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 32, 5)) {
            t.fit(data, 60);
            Model.Evaluation e = model.evaluate(data);
            assertTrue(e.accuracy() >= 0.95, "circles accuracy " + e.accuracy() + ", loss " + e.loss());
        }
    }

    @Test
    void partialLastBatchIsScaledByItsOwnSize() {
        // 10 rows in batches of 4: the last batch has 2 rows, and its δ must be divided by 2, not 4.
        Network net = Network.input(3).dense(4, Activation.TANH).output(2, Activation.IDENTITY, Loss.MSE);
        SplittableRandom rng = new SplittableRandom(9);
        float[] x = Check.random(rng, 10 * 3, -1, 1), y = Check.random(rng, 10 * 2, -1, 1);
        float[][] w = {Check.random(rng, 12, -1, 1), Check.random(rng, 8, -1, 1)};
        float[][] b = {new float[4], new float[2]};
        float[] lastX = new float[6], lastY = new float[4];
        System.arraycopy(x, 24, lastX, 0, 6);
        System.arraycopy(y, 16, lastY, 0, 4);
        ReferenceMlp.Result ref = new ReferenceMlp(net, w, b).gradients(Check.toDouble(lastX), Check.toDouble(lastY), 2);
        try (Model model = Model.of(backend, net, w, b); Trainer t = new Trainer(model, Optimizer.sgd(0.1f), 4)) {
            Trainer.Gradients g = t.gradients(new Dataset(lastX, 3, lastY, 2));
            for (int l = 0; l < 2; l++) Check.close("partial batch dW" + (l + 1), ref.dW()[l], g.dW()[l], 1e-5);
            // and an epoch over all 10 rows trains on every row without error
            assertTrue(Double.isFinite(t.fit(new Dataset(x, 3, y, 2), 1).getFirst().loss()));
        }
    }

    @Test
    void oneRowDataSetAndBatchLargerThanTheDataSetTrain() {
        Network net = Network.input(3).dense(5, Activation.TANH).output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        Dataset one = Dataset.classification(new float[][]{{0.5f, -1, 2}}, new int[]{1}, 2);
        SplittableRandom rng = new SplittableRandom(4);
        float[][] x = new float[10][];
        int[] label = new int[10];
        for (int i = 0; i < 10; i++) {
            x[i] = Check.random(rng, 3, -1, 1);
            label[i] = i % 2;
        }
        Dataset ten = Dataset.classification(x, label, 2);
        try (Model model = Model.initialize(backend, net, 3); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 64, 1)) {
            double first = t.fit(one, 1).getFirst().loss();
            double later = t.fit(one, 20).getLast().loss();
            assertTrue(later < first, "one row is learned: " + first + " -> " + later);
            t.fit(ten, 3);   // one partial batch of 10 per epoch
            assertEquals(24, t.epochsDone());
            assertEquals(24, t.weightState(0).step(), "one optimizer step per epoch");
            assertTrue(Double.isFinite(model.evaluate(ten).loss()));
        }
    }

    private static Dataset blobs(int n, int features, int classes, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] x = new float[n][];
        int[] label = new int[n];
        for (int i = 0; i < n; i++) {
            label[i] = i % classes;
            x[i] = Check.random(rng, features, -1, 1);
            x[i][label[i] % features] += 2;
        }
        return Dataset.classification(x, label, classes);
    }

    private static final Network DEEP = Network.input(4).dense(16, Activation.RELU).dense(16, Activation.RELU)
            .output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    @Test
    void blowUpIsStoppedAtItsStepWithEpochAndLayer() {
        Dataset data = blobs(200, 4, 3, 5);
        TrainingDivergedException exact;
        try (Model model = Model.initialize(backend, DEEP, 0); Trainer t = new Trainer(model, Optimizer.momentum(50f, 0.9f), 8, 1)) {
            t.setLossCheckInterval(1);
            exact = assertThrows(TrainingDivergedException.class, () -> t.fit(data, 20));
            assertEquals(exact.step(), exact.firstSuspectStep(), "checked every step: the exact step");
            assertEquals(exact.epoch() - 1, t.epochsDone(), "the diverged epoch is not counted as done");
            assertEquals(exact.step(), t.weightState(0).step());
        }
        assertTrue(exact.epoch() >= 1 && exact.layer() >= 0 && exact.layer() <= 3, exact.getMessage());
        String m = exact.getMessage();
        assertTrue(m.contains("epoch " + exact.epoch()) && m.contains("at step " + exact.step())
                && m.contains("step " + exact.stepInEpoch() + " of the epoch"), m);
        if (exact.layer() > 0) assertTrue(m.contains("layer " + exact.layer()), m);
        System.out.println(backendName() + ": " + m);

        // The same run read every 7 steps finds it within the window that ends at its check.
        try (Model model = Model.initialize(backend, DEEP, 0); Trainer t = new Trainer(model, Optimizer.momentum(50f, 0.9f), 8, 1)) {
            t.setLossCheckInterval(7);
            TrainingDivergedException windowed = assertThrows(TrainingDivergedException.class, () -> t.fit(data, 20));
            assertEquals(exact.epoch(), windowed.epoch());
            assertTrue(windowed.firstSuspectStep() <= exact.step() && exact.step() <= windowed.step()
                    && windowed.step() - windowed.firstSuspectStep() < 7, windowed.getMessage());
        }
    }

    /** DEEP with the given layer's biases at −1000: its ReLUs are dead on every row of blobs (|x| < 3). */
    private Model withDeadLayer(int dead, float bias0) {
        SplittableRandom rng = new SplittableRandom(12);
        float[][] w = new float[3][], b = new float[3][];
        for (int l = 0; l < 3; l++) {
            w[l] = Check.random(rng, DEEP.fanIn(l) * DEEP.fanOut(l), -0.5, 0.5);
            b[l] = new float[DEEP.fanOut(l)];
            if (l == dead) java.util.Arrays.fill(b[l], -1000f);
        }
        b[0][0] = bias0;
        return Model.of(backend, DEEP, w, b);
    }

    @Test
    void deadHiddenLayerStopsTrainingAfterItsEpochWithTheLayer() {
        Dataset data = blobs(60, 4, 3, 9);
        for (int dead = 0; dead < 2; dead++) {
            try (Model model = withDeadLayer(dead, dead == 0 ? -1000f : 0f);
                 Trainer t = new Trainer(model, Optimizer.momentum(0.05f, 0.9f), 16, 1)) {
                TrainingCollapsedException e = assertThrows(TrainingCollapsedException.class, () -> t.fit(data, 3));
                assertEquals(1, e.epoch(), e.getMessage());
                assertEquals(dead + 1, e.layer(), e.getMessage());
                assertEquals(0, t.epochsDone(), "the collapsed epoch is not counted as done");
                String m = e.getMessage();
                assertTrue(m.startsWith("training collapsed in epoch 1: on 60 of the 60 training rows checked every ReLU "
                        + "of a hidden layer is 0 (layer " + (dead + 1) + " on 60), so the network gives them one and the "
                        + "same output, and their targets differ") && m.contains("lower the learning rate"), m);
                assertInstanceOf(TrainingDivergedException.class, e);
            }
        }
    }

    @Test
    void saturatedLayerThatStopsTheGradientIsCollapse() {
        // tanh units with bias 1000 are exactly 1 on every row: no derivative, so dW_1 is exactly 0
        Network tanh = Network.input(4).dense(16, Activation.TANH).dense(16, Activation.TANH)
                .output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        SplittableRandom rng = new SplittableRandom(13);
        float[][] w = new float[3][], b = new float[3][];
        for (int l = 0; l < 3; l++) {
            w[l] = Check.random(rng, tanh.fanIn(l) * tanh.fanOut(l), -0.5, 0.5);
            b[l] = new float[tanh.fanOut(l)];
        }
        java.util.Arrays.fill(b[0], 1000f);
        try (Model model = Model.of(backend, tanh, w, b); Trainer t = new Trainer(model, Optimizer.sgd(0.05f), 16, 1)) {
            TrainingCollapsedException e = assertThrows(TrainingCollapsedException.class, () -> t.fit(blobs(60, 4, 3, 9), 2));
            assertEquals(1, e.layer(), e.getMessage());
            assertTrue(e.getMessage().startsWith("training collapsed in epoch 1: in 60 of the 60 training rows checked, a "
                    + "hidden layer has every unit saturated (layer 1, with 16 tanh units, in 60 rows)"), e.getMessage());
        }
    }

    @Test
    void aDeadLayerOverOneTargetIsNotTheSameOutputForDifferentTargets() {
        // 999 of 1000 rows share a class (124 of the 125 rows checked): one output for all of them could be a
        // model, so the verdict, if any, has to come from the stopped gradient instead
        float[][] x = new float[1000][], y = new float[1000][];
        SplittableRandom rng = new SplittableRandom(14);
        for (int i = 0; i < 1000; i++) {
            x[i] = Check.random(rng, 4, -1, 1);
            y[i] = new float[3];
            y[i][i == 0 ? 1 : 0] = 1;
        }
        try (Model model = withDeadLayer(1, 0f); Trainer t = new Trainer(model, Optimizer.sgd(0.05f), 250, 1)) {
            TrainingCollapsedException e = assertThrows(TrainingCollapsedException.class, () -> t.fit(Dataset.of(x, y), 2));
            assertTrue(e.getMessage().startsWith("training collapsed in epoch 1: in 125 of the 125 training rows checked, "
                    + "a hidden layer has every unit at 0 (dead) (layer 2"), e.getMessage());
        }
    }

    @Test
    void rowsThatAreAllTheSameGiveNoVerdict() {
        // identical rows (all zeros, say) say nothing about the network: even a dead layer trains on
        float[][] x = new float[40][], y = new float[40][];
        for (int i = 0; i < 40; i++) {
            x[i] = new float[] {0.5f, -0.25f, 1f, 0f};
            y[i] = new float[3];
            y[i][i % 3] = 1;
        }
        try (Model model = withDeadLayer(0, -1000f); Trainer t = new Trainer(model, Optimizer.momentum(0.05f, 0.9f), 8, 1)) {
            assertEquals(3, t.fit(Dataset.of(x, y), 3).size());
        }
    }

    @Test
    void oneDeadUnitOrAPerfectFitIsNotCollapse() {
        Dataset data = blobs(60, 4, 3, 9);
        try (Model model = withDeadLayer(-1, -1000f); Trainer t = new Trainer(model, Optimizer.momentum(0.05f, 0.9f), 16, 1)) {
            assertEquals(3, t.fit(data, 3).size());
        }
        // A saturated perfect fit: the tanh layer is ±1 on every row (saturated, yet a code of the class) and
        // the softmax exactly one-hot, so the loss and every gradient are exactly 0 and nothing changes; that
        // is a finished fit, not a stopped gradient.
        Network net = Network.input(3).dense(3, Activation.TANH).output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        float[][] x = new float[30][], y = new float[30][];
        for (int i = 0; i < 30; i++) {
            x[i] = new float[3];
            x[i][i % 3] = 1 + i / 30f;
            y[i] = new float[3];
            y[i][i % 3] = 1;
        }
        float[][] w = {{1000, -1000, -1000, -1000, 1000, -1000, -1000, -1000, 1000},
                {1000, -1000, -1000, -1000, 1000, -1000, -1000, -1000, 1000}};
        float[][] b = {new float[3], new float[3]};
        try (Model model = Model.of(backend, net, w, b); Trainer t = new Trainer(model, Optimizer.sgd(0.1f), 10, 1)) {
            java.util.List<Trainer.EpochResult> r = t.fit(Dataset.of(x, y), 3);
            assertEquals(3, r.size());
            assertTrue(r.get(2).loss() < 1e-6, "saturated: the loss is at its floor, " + r.get(2).loss());
        }
    }

    @Test
    void nonFiniteParameterIsReportedInItsLayer() {
        Dataset data = blobs(40, 4, 3, 6);
        SplittableRandom rng = new SplittableRandom(8);
        for (int layer = 0; layer < 3; layer++) {
            float[][] w = new float[3][], b = new float[3][];
            for (int l = 0; l < 3; l++) {
                w[l] = Check.random(rng, DEEP.fanIn(l) * DEEP.fanOut(l), -0.5, 0.5);
                b[l] = new float[DEEP.fanOut(l)];
            }
            try (Model model = Model.of(backend, DEEP, w, b); Trainer t = new Trainer(model, Optimizer.sgd(0.01f), 16)) {
                // Model.of refuses non-finite parameters, so they are planted on the device directly
                if (layer == 1) {
                    b[layer][3] = Float.NaN;
                    backend.upload(b[layer], model.bias(layer));
                } else {
                    w[layer][5] = layer == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
                    backend.upload(w[layer], model.weights(layer));
                }
                t.setLossCheckInterval(1);   // the update spreads NaN to every layer: look right after step 1
                TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.fit(data, 1));
                assertEquals(layer + 1, e.layer(), e.getMessage());
                assertEquals(1, e.epoch());
                // the first buffer the SPI guarantees: Z may be unwritten where the derivative comes from A
                String buffer = DEEP.layers().get(layer).activation().derivativeFromOutput() ? "activation A"
                        : "pre-activation Z";
                assertTrue(e.getMessage().contains("layer " + (layer + 1) + "'s " + buffer), e.getMessage());
            }
        }
    }

    // ---- dropout, clipping and schedules in the trainer ----

    private static final Network DROPOUT = Network.input(4).dense(16, Activation.RELU).dropout(0.3)
            .dense(16, Activation.GELU).dropout(0.1).output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    private static float[][][] parameters(Model model) {
        int depth = model.network().depth();
        float[][][] p = new float[2][depth][];
        for (int l = 0; l < depth; l++) {
            p[0][l] = model.downloadWeights(l);
            p[1][l] = model.downloadBias(l);
        }
        return p;
    }

    @Test
    void dropoutNetworkLearnsAndNeverDropsOutsideTraining() {
        Dataset data = blobs(300, 4, 3, 21);
        try (Model model = Model.initialize(backend, DROPOUT, 4); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 32, 3)) {
            t.setDropoutSeed(99);
            t.fit(data, 30);
            Model.Evaluation e = model.evaluate(data);
            assertTrue(e.accuracy() >= 0.9, "blobs with dropout: accuracy " + e.accuracy() + ", loss " + e.loss());
            // the same weights in a network without dropout predict exactly the same: no mask at evaluation
            float[][][] p = parameters(model);
            Network plain = new Network(4, DROPOUT.layers().stream()
                    .map(l -> new Network.Layer(l.units(), l.activation())).toList(), DROPOUT.loss());
            float[] x = new float[data.rows() * 4];
            data.gather(java.util.stream.IntStream.range(0, data.rows()).toArray(), 0, data.rows(), x,
                    new float[data.rows() * 3]);
            try (Model same = Model.of(backend, plain, p[0], p[1])) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(same.predict(x, data.rows()), model.predict(x, data.rows()),
                        "predict applies no dropout");
                assertEquals(same.evaluate(data).loss(), e.loss(), "evaluate applies no dropout");
            }
        }
    }

    /**
     * With dropout, clipping and a schedule on, a step recorded once and replayed (CUDA graphs) gives the
     * same parameters, bit for bit, as the same steps run op by op: the masks, the rate and the clipping
     * factor come from device state, nothing from the host.
     */
    @Test
    void recordedStepsWithDropoutClippingAndScheduleAreTheStepsRunOpByOp() {
        Dataset data = blobs(96, 4, 3, 22);
        float[][][][] result = new float[2][][][];
        for (int run = 0; run < 2; run++) {
            try (Model model = Model.initialize(backend, DROPOUT, 6); Trainer t = new Trainer(model, Optimizer.adamW(0.02f, 0.1f), 16, 8)) {
                t.setStepRecording(run == 0);
                t.setDropoutSeed(5);
                t.setGradientClipping(0.5f);
                t.setLearningRateSchedule(LearningRateSchedule.cosine(30, 0.001f).withWarmup(4));
                t.fit(data, 4);
                assertEquals(24, t.weightState(0).step());
                result[run] = parameters(model);
            }
        }
        for (int k = 0; k < 2; k++)
            for (int l = 0; l < DROPOUT.depth(); l++)
                org.junit.jupiter.api.Assertions.assertArrayEquals(result[1][k][l], result[0][k][l],
                        (k == 0 ? "weights " : "bias ") + (l + 1) + ": recorded vs op by op");
    }

    /** SGD at rate 1 with clipping to c moves the parameters by exactly c·(the gradient's direction) when ‖g‖ > c. */
    @Test
    void aClippedStepHasTheClippingNorm() {
        Dataset batch = blobs(16, 4, 3, 23);
        try (Model model = Model.initialize(backend, DEEP, 7); Trainer t = new Trainer(model, Optimizer.sgd(1f), 16, 1)) {
            Trainer.Gradients g = t.gradients(batch);
            double norm2 = 0;
            for (float[][] grads : new float[][][]{g.dW(), g.db()})
                for (float[] layer : grads) for (float v : layer) norm2 += (double) v * v;
            double norm = Math.sqrt(norm2), c = norm / 3;
            t.setGradientClipping((float) c);
            float[][][] before = parameters(model);
            t.fit(batch, 1);
            float[][][] after = parameters(model);
            double moved2 = 0, dot = 0;
            for (int k = 0; k < 2; k++)
                for (int l = 0; l < DEEP.depth(); l++)
                    for (int i = 0; i < before[k][l].length; i++) {
                        double d = (double) before[k][l][i] - after[k][l][i];
                        moved2 += d * d;
                        dot += d * (k == 0 ? g.dW() : g.db())[l][i];
                    }
            assertEquals(c, Math.sqrt(moved2), 1e-4 * c, "the update's norm is the clipping norm (gradient norm " + norm + ")");
            assertEquals(1, dot / (Math.sqrt(moved2) * norm), 1e-4, "the update is along the gradient");
        }
    }

    @Test
    void theHostReportsTheScheduledRateOfTheNextUpdate() {
        LearningRateSchedule step = LearningRateSchedule.step(5, 0.5f).withWarmup(2);
        Dataset data = blobs(64, 4, 3, 24);
        try (Model model = Model.initialize(backend, DEEP, 8); Trainer t = new Trainer(model, Optimizer.momentum(0.1f, 0.9f), 8, 1)) {
            t.setLearningRateSchedule(step);
            assertEquals(0.05f, t.learningRate(), "update 1: half way through the warm-up");
            t.fit(data, 1);
            assertEquals(8, t.optimizerStep());
            assertEquals(step.learningRate(0.1f, 9), t.learningRate());
            assertEquals(0.05f, t.learningRate(), "update 9 is after one decay");
            IllegalStateException late = assertThrows(IllegalStateException.class, () -> t.setGradientClipping(1f));
            assertTrue(late.getMessage().contains("before the first step"), late.getMessage());
        }
    }

    /** No op may turn a NaN into a finite number, or the trainer's loss check would miss a divergence. */
    @Test
    void nanPropagatesThroughEveryActivationAndLoss() {
        int rows = 3, cols = 37;   // 37: NaNs in the vector body and in the scalar tail
        float[] z = Check.random(new SplittableRandom(12), rows * cols, -2, 2);
        int[] nanAt = {0, 5, cols - 1, cols + 17, 2 * cols + 36};
        for (int i : nanAt) z[i] = Float.NaN;
        float[] host = new float[rows * cols];
        for (Activation f : Activation.values()) {
            try (Matrix zm = backend.allocate(rows, cols); Matrix bias = backend.allocate(1, cols);
                 Matrix out = backend.allocate(rows, cols)) {
                backend.upload(z, zm);
                backend.activationForward(f, zm, bias, out);
                backend.download(out, host);
                for (int i : nanAt)
                    assertTrue(Float.isNaN(host[i]), f + " turned NaN at " + i + " into " + host[i]);
            }
        }
        float[] target = new float[rows * cols];
        for (int r = 0; r < rows; r++) target[r * cols] = 1;
        float[] prob = new float[rows * cols];
        java.util.Arrays.fill(prob, 1f / cols);
        prob[cols + 4] = Float.NaN;   // a row whose target is 0 at that column
        for (Loss loss : Loss.values()) {
            try (Matrix yHat = backend.allocate(rows, cols); Matrix y = backend.allocate(rows, cols);
                 Matrix delta = backend.allocate(rows, cols); Matrix sum = backend.allocate(1, 1)) {
                backend.upload(prob, yHat);
                backend.upload(target, y);
                backend.lossGradient(loss, yHat, y, delta, sum);
                float[] s1 = new float[1];
                backend.download(sum, s1);
                assertTrue(Float.isNaN(s1[0]), loss + " loss of a NaN output is " + s1[0]);
            }
        }
    }
}
