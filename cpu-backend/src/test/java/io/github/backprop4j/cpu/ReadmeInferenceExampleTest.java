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
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Inference and saving" example, run as a test so that it cannot rot: a model trained on
 * raw features (its normalization inside), saved, loaded into a new backend, predicts the very same
 * bits; the README's block must end with the very same lines.
 */
class ReadmeInferenceExampleTest {

    @TempDir
    Path dir;

    @Test
    void savedModelLoadsIntoANewBackendAndPredictsTheSameBits() throws IOException {
        // Raw features far from unit scale: centimetres around (500, -300), labelled 1 inside a radius of 120.
        Random rng = new Random(2);
        float[][] x = new float[3000][];
        int[] label = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = new float[] {500 + rng.nextFloat() * 400 - 200, -300 + rng.nextFloat() * 400 - 200};
            float dx = x[i][0] - 500, dy = x[i][1] + 300;
            label[i] = dx * dx + dy * dy < 120 * 120 ? 1 : 0;
        }
        Dataset train = Dataset.classification(x, label, 2);
        Network net = Network.input(2).dense(32, Activation.RELU).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY);
        Path file = dir.resolve("circle.safetensors");
        double accuracy;
        // README-BEGIN
        float[][] rows = {{520f, -310f}, {690f, -90f}};   // raw features, as the data comes
        float[][] trained, loaded;
        try (Backend backend = Backends.open("cpu");
             Model model = Model.initialize(backend, net, 42);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 64, 7)) {
            model.setNormalization(Normalization.standardize(train));   // the training rows' mean and deviation
            model.setClassNames(List.of("outside", "inside"));
            trainer.fit(train, 20);
            trained = model.predict(rows);   // probabilities per row; the model normalizes the rows itself
            model.save(file);                // parameters, normalization, class names: atomic, checksummed
        }
        try (Backend fresh = Backends.open("cpu");   // a new backend, as in another process
             Model model = Model.load(fresh, file)) {
            loaded = model.predict(rows);
            System.out.println(model.classNames() + " " + Arrays.deepToString(loaded));
        }
        // README-END
        try (Backend backend = Backends.open("cpu"); Model model = Model.load(backend, file)) {
            accuracy = model.evaluate(train).accuracy();
        }
        for (int r = 0; r < rows.length; r++)
            assertArrayEquals(trained[r], loaded[r], 0f, "row " + r + ": the loaded model predicts the same bits");
        assertTrue(Arrays.deepEquals(trained, loaded), "bit for bit, NaN patterns and signed zeros included");
        assertTrue(loaded[0][1] > 0.9 && loaded[1][0] > 0.9, Arrays.deepToString(loaded));
        assertTrue(accuracy > 0.95, "raw features train through the model's normalization: " + accuracy);
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        ReadmeSnippet.assertReadmeShows("src/test/java/io/github/backprop4j/cpu/ReadmeInferenceExampleTest.java");
    }
}
