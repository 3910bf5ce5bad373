package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's Java example, run as a test so that it cannot rot: the code between the README
 * markers below must train to high accuracy, and (where the sources are at hand, i.e. in the Maven
 * build) the README's ```java block must be the very same lines.
 */
class ReadmeExampleTest {

    @Test
    void exampleTrainsToHighAccuracy() {
        double accuracy = example();
        assertTrue(accuracy > 0.95, "held-out accuracy " + accuracy + " should exceed 0.95");
    }

    /** The README snippet's body; returns its held-out accuracy. */
    private static double example() {
        // README-BEGIN
        // Points in the square [-2, 2)², labelled 1 inside the circle of radius 1.2, else 0.
        Random rng = new Random(1);
        float[][] x = new float[6000][];
        int[] label = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = new float[] {rng.nextFloat() * 4 - 2, rng.nextFloat() * 4 - 2};
            label[i] = x[i][0] * x[i][0] + x[i][1] * x[i][1] < 1.44f ? 1 : 0;
        }
        Dataset train = Dataset.classification(Arrays.copyOf(x, 5000), Arrays.copyOf(label, 5000), 2);
        Dataset test = Dataset.classification(Arrays.copyOfRange(x, 5000, 6000), Arrays.copyOfRange(label, 5000, 6000), 2);

        Network net = Network.input(2).dense(32, Activation.RELU).dense(32, Activation.RELU)
                .output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        Model.Evaluation eval;
        try (Backend backend = Backends.best();   // cuda > opencl > cpu, or -Dbackprop4j.backend=cpu
             Model model = Model.initialize(backend, net, 42);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 64, 7)) {   // batch 64, shuffle seed 7
            for (Trainer.EpochResult e : trainer.fit(train, 40))
                if (e.epoch() % 10 == 0) System.out.printf("epoch %d: loss %.4f%n", e.epoch(), e.loss());
            eval = model.evaluate(test);
        }
        System.out.printf("test loss %.4f, accuracy %.3f%n", eval.loss(), eval.accuracy());
        // README-END
        return eval.accuracy();
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        ReadmeSnippet.assertReadmeShows("src/test/java/io/github/backprop4j/cpu/ReadmeExampleTest.java");
    }
}
