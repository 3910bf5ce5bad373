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
import io.github.backprop4j.core.TrainingListener;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's listener example (early stopping on the validation loss), run as a test: training ends
 * at the first epoch that does not improve, well before the epochs asked for.
 */
class ReadmeListenerExampleTest {

    @Test
    void aListenerStopsTrainingAtTheFirstEpochThatDoesNotImprove() {
        Random rng = new Random(3);
        float[][] x = new float[1200][];
        int[] label = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = new float[] {rng.nextFloat() * 4 - 2, rng.nextFloat() * 4 - 2};
            label[i] = x[i][0] * x[i][0] + x[i][1] * x[i][1] < 1.44f ? 1 : 0;
        }
        Dataset train = Dataset.classification(java.util.Arrays.copyOf(x, 1000), java.util.Arrays.copyOf(label, 1000), 2);
        Dataset validation = Dataset.classification(java.util.Arrays.copyOfRange(x, 1000, 1200),
                java.util.Arrays.copyOfRange(label, 1000, 1200), 2);
        Network net = Network.input(2).dense(16, Activation.RELU).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Backend backend = Backends.open("cpu");
             Model model = Model.initialize(backend, net, 1);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.05f), 32, 2)) {
            // README-BEGIN
            List<Trainer.EpochResult> history = trainer.fit(train, validation, 100, new TrainingListener() {
                double best = Double.POSITIVE_INFINITY;

                @Override
                public void onEpochEnd(Trainer t, Trainer.EpochResult r) {
                    if (r.validation().loss() < best) best = r.validation().loss();
                    else t.stop();   // the first epoch that does not improve is the last
                }
            });
            // README-END
            assertEquals(history.size(), trainer.epochsDone());
            assertTrue(history.size() > 1 && history.size() < 100, "stopped early: " + history.size() + " epochs");
            double last = history.getLast().validation().loss(), before = history.get(history.size() - 2).validation().loss();
            assertTrue(last >= before, "the last epoch did not improve on the one before");
            for (int e = 1; e < history.size() - 1; e++)
                assertTrue(history.get(e).validation().loss() < history.get(e - 1).validation().loss(),
                        "every epoch before the last improved");
        }
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        ReadmeSnippet.assertReadmeShows("src/test/java/io/github/backprop4j/cpu/ReadmeListenerExampleTest.java");
    }
}
