package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.spi.DropoutMath;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whole-network gradients (every dW and db of one step) from the shared trainer on the backend,
 * against {@link ReferenceMlp} in float64: random nets of 1–4 layers, every hidden activation and
 * every output/loss pairing the library allows, and nets with dropout on hidden layers (the reference
 * applying the masks the backend must draw).
 */
public abstract class NetworkGradientConformance extends ConformanceBase {

    record Case(Network net, long seed) {
        @Override
        public String toString() {
            return net.describe();
        }
    }

    static List<Case> cases() {
        Activation[] hidden = {Activation.IDENTITY, Activation.RELU, Activation.LEAKY_RELU, Activation.SIGMOID,
                Activation.TANH, Activation.GELU, Activation.GELU_TANH};
        Object[][] outputs = {{Activation.IDENTITY, Loss.MSE}, {Activation.SIGMOID, Loss.MSE}, {Activation.TANH, Loss.MSE},
                {Activation.RELU, Loss.MSE}, {Activation.LEAKY_RELU, Loss.MSE}, {Activation.GELU, Loss.MSE}, {Activation.GELU_TANH, Loss.MSE},
                {Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY}, {Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY}};
        List<Case> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(2024);
        int i = 0;
        for (Activation h : hidden)
            for (Object[] o : outputs) {
                int depth = 1 + (i++ % 4);
                Network.Builder b = Network.input(2 + rng.nextInt(6));
                for (int l = 1; l < depth; l++) b.dense(1 + rng.nextInt(9), h);
                Activation oa = (Activation) o[0];
                int outs = oa == Activation.SOFTMAX ? 2 + rng.nextInt(4) : 1 + rng.nextInt(4);
                out.add(new Case(b.output(outs, oa, (Loss) o[1]), rng.nextLong()));
            }
        // dropout on hidden layers: the backend's masks are the Java reference's (checked bit for bit in
        // OpsConformance), so the float64 reference applies those masks
        out.add(new Case(Network.input(5).dense(9, Activation.RELU).dropout(0.3).dense(7, Activation.TANH).dropout(0.5)
                .output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY), 11));
        out.add(new Case(Network.input(4).dense(8, Activation.GELU).dropout(0.2).output(2, Activation.IDENTITY, Loss.MSE), 12));
        out.add(new Case(Network.input(6).dense(9, Activation.SIGMOID).dropout(0.6).dense(5, Activation.LEAKY_RELU)
                .output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY), -13));
        out.add(new Case(Network.input(3).dense(6, Activation.GELU_TANH).dropout(0.1).dense(6, Activation.RELU).dropout(0.4)
                .output(2, Activation.TANH, Loss.MSE), 14));
        return out;
    }

    /**
     * The dropout masks a trainer with dropout seed {@code seed} draws in its first step on n rows (step
     * count 0), per layer; null for layers without dropout.
     */
    static float[][] masks(Network net, int n, long seed) {
        float[][] masks = new float[net.depth()][];
        for (int l = 0; l < net.depth(); l++) {
            float p = net.layers().get(l).dropout();
            if (p > 0) masks[l] = DropoutMath.mask(n * net.fanOut(l), p, seed, 0, l);
        }
        return masks;
    }

    static Stream<Arguments> caseArgs() {
        return cases().stream().map(Arguments::of);
    }

    /** Random parameters, inputs and valid targets for the case; {@code n} rows. */
    static Object[] problem(Case c, int n) {
        Network net = c.net();
        SplittableRandom rng = new SplittableRandom(c.seed());
        float[][] w = new float[net.depth()][], b = new float[net.depth()][];
        for (int l = 0; l < net.depth(); l++) {
            w[l] = Check.random(rng, net.fanIn(l) * net.fanOut(l), -1, 1);
            b[l] = Check.random(rng, net.fanOut(l), -0.5, 0.5);
        }
        float[] x = Check.random(rng, n * net.inputs(), -1, 1);
        float[] y = new float[n * net.outputs()];
        for (int r = 0; r < n; r++) {
            int label = rng.nextInt(net.outputs());
            for (int j = 0; j < net.outputs(); j++) {
                int i = r * net.outputs() + j;
                y[i] = switch (net.loss()) {
                    case MSE -> (float) rng.nextDouble(-1, 1);
                    case BINARY_CROSS_ENTROPY -> rng.nextBoolean() ? 1 : 0;
                    case CATEGORICAL_CROSS_ENTROPY -> j == label ? 1 : 0;
                };
            }
        }
        return new Object[]{w, b, x, y};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseArgs")
    void everyGradientMatchesFloat64Reference(Case c) {
        int n = 9;
        Object[] p = problem(c, n);
        float[][] w = (float[][]) p[0], b = (float[][]) p[1];
        float[] x = (float[]) p[2], y = (float[]) p[3];
        Network net = c.net();
        ReferenceMlp.Result ref = new ReferenceMlp(net, w, b, masks(net, n, c.seed())).gradients(Check.toDouble(x),
                Check.toDouble(y), n);
        try (Model model = Model.of(backend, net, w, b);
             Trainer trainer = new Trainer(model, Optimizer.sgd(0.1f), n)) {
            trainer.setDropoutSeed(c.seed());
            Trainer.Gradients g = trainer.gradients(new Dataset(x, net.inputs(), y, net.outputs()));
            assertEquals(ref.loss(), g.loss(), 1e-4 * Math.max(1, Math.abs(ref.loss())) * BackendFixture.toleranceScale(),
                    "loss of " + net.describe());
            for (int l = 0; l < net.depth(); l++) {
                Check.close(net.describe() + " dW" + (l + 1), ref.dW()[l], g.dW()[l], 1e-4);
                Check.close(net.describe() + " db" + (l + 1), ref.db()[l], g.db()[l], 1e-4);
            }
        }
    }
}
