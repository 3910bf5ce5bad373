package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** End-to-end training smoke tests and the last-partial-batch rule. */
public abstract class TrainingConformance extends ConformanceBase {

    @Test
    void xorReachesFullAccuracy() {
        Network net = Network.input(2).dense(8, Activation.TANH).output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
        Dataset xor = Dataset.of(new float[][]{{0, 0}, {0, 1}, {1, 0}, {1, 1}}, new float[][]{{0}, {1}, {1}, {0}});
        try (Model model = Model.initialize(backend, net, 7); Trainer t = new Trainer(model, Optimizer.adam(0.05f), 4)) {
            t.fit(xor, 400, 1);
            Trainer.Evaluation e = t.evaluate(xor);
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
        try (Model model = Model.initialize(backend, net, 11); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 32)) {
            t.fit(data, 60, 5);
            Trainer.Evaluation e = t.evaluate(data);
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
            Trainer.Workspace ws = t.workspace(2);
            ws.load(new Dataset(x, 3, y, 2), new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 8);
            Trainer.Gradients g = t.gradients(new Dataset(lastX, 3, lastY, 2));
            for (int l = 0; l < 2; l++) Check.close("partial batch dW" + (l + 1), ref.dW()[l], g.dW()[l], 1e-5);
            // and an epoch over all 10 rows trains on every row without error
            assertTrue(Double.isFinite(t.fit(new Dataset(x, 3, y, 2), 1, 1).getFirst().loss()));
        }
    }
}
