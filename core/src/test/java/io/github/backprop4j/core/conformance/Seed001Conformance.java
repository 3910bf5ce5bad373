package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seed 001: an m-d-t MLP with sigmoid outputs and binary cross-entropy over n examples. The seed
 * derives δ⁽ᵒᵘᵗ⁾ = A⁽ᵒᵘᵗ⁾ − Y and ∂J/∂W⁽ᵒᵘᵗ⁾ = (A⁽ʰ⁾)ᵀ δ⁽ᵒᵘᵗ⁾, ∂J/∂b⁽ᵒᵘᵗ⁾ = Σᵢ δ⁽ᵒᵘᵗ⁾ᵢ for a summed loss;
 * ours is the mean over the batch, so every term carries 1/n. Each element is checked against the
 * explicit sums Σᵢ a⁽ʰ⁾[i][k]·δ[i][j] written as loops, as in the seed.
 */
public abstract class Seed001Conformance extends ConformanceBase {

    @Test
    void outputGradientsAreTransposedHiddenActivationsTimesDelta() {
        int n = 4, m = 3, d = 5, t = 2;
        SplittableRandom rng = new SplittableRandom(1);
        float[] x = Check.random(rng, n * m, -1, 1);
        float[] wh = Check.random(rng, m * d, -1, 1), bh = Check.random(rng, d, -0.2, 0.2);
        float[] wo = Check.random(rng, d * t, -1, 1), bo = Check.random(rng, t, -0.2, 0.2);
        float[] y = {1, 0, 0, 1, 1, 1, 0, 0};

        double[][] ah = new double[n][d], ao = new double[n][t], delta = new double[n][t];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) {
                double z = bh[k];
                for (int q = 0; q < m; q++) z += x[i * m + q] * wh[q * d + k];
                ah[i][k] = Seed000Conformance.sigmoid(z);
            }
            for (int j = 0; j < t; j++) {
                double z = bo[j];
                for (int k = 0; k < d; k++) z += ah[i][k] * wo[k * t + j];
                ao[i][j] = Seed000Conformance.sigmoid(z);
                delta[i][j] = (ao[i][j] - y[i * t + j]) / n;   // the seed's A_out − Y, per-sample mean
            }
        }
        double[] dWo = new double[d * t], dbo = new double[t];
        for (int k = 0; k < d; k++)
            for (int j = 0; j < t; j++) {
                double s = 0;
                for (int i = 0; i < n; i++) s += ah[i][k] * delta[i][j];
                dWo[k * t + j] = s;
            }
        for (int j = 0; j < t; j++) for (int i = 0; i < n; i++) dbo[j] += delta[i][j];

        Network net = Network.input(m).dense(d, Activation.SIGMOID).output(t, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
        try (Model model = Model.of(backend, net, new float[][]{wh, wo}, new float[][]{bh, bo});
             Trainer tr = new Trainer(model, Optimizer.sgd(1f), n)) {
            Trainer.Gradients g = tr.gradients(new Dataset(x, m, y, t));
            Check.close("seed 001 dW_out = (A_h)ᵀ·δ_out", dWo, g.dW()[1], 1e-5);
            Check.close("seed 001 db_out = Σᵢ δᵢ", dbo, g.db()[1], 1e-5);
        }
    }
}
