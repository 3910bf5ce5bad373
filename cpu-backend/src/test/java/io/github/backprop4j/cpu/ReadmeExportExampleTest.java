package io.github.backprop4j.cpu;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.OnnxExport;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's "Export to ONNX" example, run as a test so that it cannot rot: the lines between the
 * README markers export a trained model and serve it with ONNX Runtime alone; the README's block must
 * end with the very same lines.
 */
class ReadmeExportExampleTest {

    @TempDir
    Path dir;

    @Test
    void exportedModelServesInOnnxRuntimeAsTrained() throws IOException, OrtException {
        // A model like the README's main example: points labelled 1 inside the circle of radius 1.2.
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[4000 * 2];
        int[] label = new int[4000];
        for (int i = 0; i < label.length; i++) {
            float a = (float) rng.nextDouble(-2, 2), b = (float) rng.nextDouble(-2, 2);
            x[2 * i] = a;
            x[2 * i + 1] = b;
            label[i] = a * a + b * b < 1.44f ? 1 : 0;
        }
        Network net = Network.input(2).dense(16, Activation.TANH).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY);
        Path file = dir.resolve("circle.onnx");
        try (Backend backend = Backends.open("cpu");
             Model model = Model.initialize(backend, net, 4);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.02f), 64, 5)) {
            trainer.fit(Dataset.classification(x, 2, label, 2), 30);
            float[] expected = model.predict(new float[]{0.2f, -0.5f, 1.8f, 1.1f}, 2);

            // README-BEGIN
            // backprop4j side: write the trained model with its class names (model.exportOnnx(file) writes those the
            // model carries, and its normalization; OnnxExport adds or overrides them and other metadata).
            OnnxExport.of(model).classNames(List.of("outside", "inside")).write(file);

            // Serving side: ONNX Runtime alone (com.microsoft.onnxruntime:onnxruntime), no backprop4j on the class path.
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            float[][] probabilities;
            try (OrtSession session = env.createSession(file.toString());
                 OnnxTensor rows = OnnxTensor.createTensor(env, new float[][] {{0.2f, -0.5f}, {1.8f, 1.1f}});
                 OrtSession.Result result = session.run(Map.of("input", rows))) {
                probabilities = (float[][]) result.get("probabilities").orElseThrow().getValue();   // [rows][classes]
                String classes = session.getMetadata().getCustomMetadata().get("classes");          // ["outside","inside"]
                System.out.println(classes + " " + Arrays.deepToString(probabilities));
            }
            // README-END
            assertTrue(probabilities[0][1] > 0.9 && probabilities[1][0] > 0.9, Arrays.deepToString(probabilities));
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++) assertEquals(expected[2 * r + c], probabilities[r][c], 1e-5);
        }
    }

    @Test
    void readmeShowsThisExample() throws IOException {
        ReadmeSnippet.assertReadmeShows("src/test/java/io/github/backprop4j/cpu/ReadmeExportExampleTest.java");
    }
}
