package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;

/**
 * Seed 000: a 2-3-2 network, sigmoid everywhere, L = ½Σ(ŷ − y)² for one sample. The seed writes
 * column vectors: ∂L/∂W⁽³⁾ = ((a⁽³⁾ − y) ⊙ a⁽³⁾ ⊙ (1 − a⁽³⁾)) · a⁽²⁾ᵀ (2×3). Our weights are
 * row-major fan-in × fan-out, so our dW is the transpose: a⁽²⁾ᵀ·δ as a 3×2 matrix, element
 * [i][j] = a⁽²⁾_i · δ⁽³⁾_j. The hidden layer: δ⁽²⁾ = (W⁽³⁾ δ⁽³⁾) ⊙ a⁽²⁾ ⊙ (1 − a⁽²⁾), dW⁽²⁾[i][j] = x_i δ⁽²⁾_j.
 * Our MSE is (1/2n)Σ, which for n = 1 is the seed's ½Σ.
 */
public abstract class Seed000Conformance extends ConformanceBase {

    @Test
    void gradientsEqualTheSeedsMatrixFormulas() {
        double[] x = {0.35, 0.9};
        double[] y = {0.5, 0.1};
        double[][] w2 = {{0.1, 0.4, -0.3}, {0.8, -0.6, 0.2}};   // 2 inputs × 3 hidden
        double[] b2 = {0.05, -0.1, 0.2};
        double[][] w3 = {{0.3, -0.2}, {0.9, 0.5}, {-0.7, 0.4}}; // 3 hidden × 2 outputs
        double[] b3 = {0.1, -0.05};

        // forward, by hand
        double[] a2 = new double[3], a3 = new double[2];
        for (int j = 0; j < 3; j++) a2[j] = sigmoid(b2[j] + x[0] * w2[0][j] + x[1] * w2[1][j]);
        for (int j = 0; j < 2; j++) a3[j] = sigmoid(b3[j] + a2[0] * w3[0][j] + a2[1] * w3[1][j] + a2[2] * w3[2][j]);
        // the seed's formulas
        double[] d3 = new double[2];
        for (int j = 0; j < 2; j++) d3[j] = (a3[j] - y[j]) * a3[j] * (1 - a3[j]);
        double[] dW3 = new double[6];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) dW3[i * 2 + j] = a2[i] * d3[j];
        double[] d2 = new double[3];
        for (int i = 0; i < 3; i++) d2[i] = (w3[i][0] * d3[0] + w3[i][1] * d3[1]) * a2[i] * (1 - a2[i]);
        double[] dW2 = new double[6];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) dW2[i * 3 + j] = x[i] * d2[j];

        Network net = Network.input(2).dense(3, Activation.SIGMOID).output(2, Activation.SIGMOID, Loss.MSE);
        try (Model model = Model.of(backend, net, new float[][]{flat(w2), flat(w3)}, new float[][]{f(b2), f(b3)});
             Trainer t = new Trainer(model, Optimizer.sgd(1f), 1)) {
            Trainer.Gradients g = t.gradients(new Dataset(f(x), 2, f(y), 2));
            Check.close("seed 000 ∂L/∂W(3)", dW3, g.dW()[1], 1e-5);
            Check.close("seed 000 ∂L/∂b(3) = δ(3)", d3, g.db()[1], 1e-5);
            Check.close("seed 000 ∂L/∂W(2)", dW2, g.dW()[0], 1e-5);
            Check.close("seed 000 ∂L/∂b(2) = δ(2)", d2, g.db()[0], 1e-5);
            double loss = 0.5 * ((a3[0] - y[0]) * (a3[0] - y[0]) + (a3[1] - y[1]) * (a3[1] - y[1]));
            Check.close("seed 000 L", new double[]{loss}, new float[]{(float) g.loss()}, 1e-5);
        }
    }

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    static float[] f(double[] v) {
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) o[i] = (float) v[i];
        return o;
    }

    static float[] flat(double[][] m) {
        float[] o = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) for (int j = 0; j < m[0].length; j++) o[i * m[0].length + j] = (float) m[i][j];
        return o;
    }
}
