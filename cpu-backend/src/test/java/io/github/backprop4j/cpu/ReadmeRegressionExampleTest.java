package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's regression example (a seeded validation split, standardized targets, early stopping),
 * run as a test: it stops before the epochs asked for, keeps its best epoch and explains the held-out
 * targets (R²) in their own units.
 */
class ReadmeRegressionExampleTest {

    @Test
    void aRegressionWithEarlyStoppingKeepsItsBestEpoch() {
        Random rng = new Random(5);
        int n = 600;
        float[] x = new float[2 * n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = rng.nextFloat() * 4 - 2;
            x[2 * i + 1] = rng.nextFloat() * 4 - 2;
            y[i] = 200 + 50 * x[2 * i] - 30 * x[2 * i + 1] * x[2 * i + 1] + 10 * (float) rng.nextGaussian();
        }
        Dataset data = new Dataset(x, 2, y, 1);
        Network net = Network.input(2).dense(32, Activation.GELU).output(1, Activation.IDENTITY, Loss.MSE);
        try (Backend backend = Backends.open("cpu");
             Model model = Model.initialize(backend, net, 42);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32, 7)) {
            // README-BEGIN
            Dataset.Split split = data.split(0.2, 7);   // 20% of the rows held out, chosen by seed 7
            model.setNormalization(Normalization.standardize(split.train()));
            model.setTargetNormalization(Normalization.standardizeTargets(split.train()));
            trainer.setEarlyStopping(5);   // patience: 5 epochs on the validation loss
            trainer.fit(split.train(), split.validation(), 500);   // ends holding the best epoch's parameters
            Model.Evaluation e = model.evaluate(split.validation());   // MSE, MAE, R² in the targets' units
            System.out.printf("best epoch %d of %d: R² %.3f, MAE %.1f%n",
                    trainer.earlyStopping().orElseThrow().bestEpoch(), trainer.epochsDone(), e.r2(), e.mae());
            // README-END
            Trainer.EarlyStopping s = trainer.earlyStopping().orElseThrow();
            assertTrue(s.stopped() && trainer.epochsDone() < 500, "stopped early: " + s);
            assertTrue(e.r2() > 0.8, "R² " + e.r2());
            assertTrue(e.mae() < 20, "MAE " + e.mae() + " in the targets' units (noise σ 10)");
        }
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        ReadmeSnippet.assertReadmeShows("src/test/java/io/github/backprop4j/cpu/ReadmeRegressionExampleTest.java");
    }
}
