package io.github.backprop4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.conformance.OnnxRuntimeCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On Fashion-MNIST, ONNX Runtime running the file {@code backprop4j export} wrote classifies the t10k
 * images exactly as {@code backprop4j eval} does: the same confusion matrix, hence the same accuracy.
 * Runs when the data set is installed ({@code /usr/share/datasets/fashion-mnist}); otherwise skipped.
 * <p>
 * By default it trains the default network for one epoch first. To check a given run instead:
 * <pre>
 * ./backprop4j train                      # the default run: ./backprop4j-checkpoint.safetensors
 * ./backprop4j export --checkpoint backprop4j-checkpoint.safetensors --onnx fashion.onnx
 * mvn -B verify -pl cli -am -Dtest=FashionMnistOnnxTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dbackprop4j.onnx.checkpoint=$PWD/backprop4j-checkpoint.safetensors -Dbackprop4j.onnx.model=$PWD/fashion.onnx
 * </pre>
 */
class FashionMnistOnnxTest {

    @TempDir
    Path dir;

    @Test
    void onnxRuntimeClassifiesTheTestSetAsEvalDoes() throws Exception {
        Path data = Data.DEFAULT_IDX_DIR;
        Assumptions.assumeTrue(Files.isDirectory(data), "Fashion-MNIST is not installed at " + data);
        Path checkpoint = given("backprop4j.onnx.checkpoint");
        if (checkpoint == null) {
            checkpoint = dir.resolve("fashion.safetensors");
            succeed(CliTest.run("train", "--backend", "cpu", "--epochs", "1", "--no-progress", "--diagnostic-rows", "256",
                    "--checkpoint", checkpoint.toString()));
        }
        Path model = given("backprop4j.onnx.model");
        if (model == null) {
            model = dir.resolve("fashion.onnx");
            succeed(CliTest.run("export", "--checkpoint", checkpoint.toString(), "--onnx", model.toString()));
        }
        Path report = dir.resolve("eval.json");
        succeed(CliTest.run("eval", "--backend", "cpu", "--checkpoint", checkpoint.toString(), "--report", report.toString()));
        JsonNode eval = TrainCommand.JSON.readTree(report.toFile());

        Idx.Array images = Idx.read(Idx.find(data, "t10k-images-idx3-ubyte"), 3);
        Idx.Array labels = Idx.read(Idx.find(data, "t10k-labels-idx1-ubyte"), 1);
        int n = images.count(), size = images.itemSize();
        float[] pixels = new float[n * size];   // the raw values 0..255: the model normalizes them itself
        for (int i = 0; i < pixels.length; i++) pixels[i] = images.data()[i] & 0xff;
        float[] probabilities;
        try (OrtSession session = OnnxRuntimeCheck.open(model)) {
            probabilities = OnnxRuntimeCheck.run(session, "probabilities", pixels, n, size);
        }
        int classes = probabilities.length / n;
        long[][] confusion = new long[classes][classes];
        long correct = 0;
        for (int i = 0; i < n; i++) {
            int predicted = OnnxRuntimeCheck.predictedClass(probabilities, i, classes), truth = labels.data()[i] & 0xff;
            confusion[truth][predicted]++;
            if (predicted == truth) correct++;
        }
        double accuracy = (double) correct / n;
        System.out.printf(Locale.ROOT, "Fashion-MNIST t10k: backprop4j eval accuracy %.4f, ONNX Runtime accuracy %.4f "
                + "(%d of %d); checkpoint %s, model %s%n", eval.get("test_accuracy").asDouble(), accuracy, correct, n,
                checkpoint, model);
        assertEquals(eval.get("samples").asInt(), n);
        for (int t = 0; t < classes; t++)
            for (int p = 0; p < classes; p++)
                assertEquals(eval.get("confusion_matrix").get(t).get(p).asLong(), confusion[t][p],
                        "confusion matrix, true class " + t + ", predicted " + p);
        assertEquals(eval.get("test_accuracy").asDouble(), accuracy, 1e-12);
    }

    private static Path given(String property) {
        String v = System.getProperty(property);
        return v == null || v.isBlank() ? null : Path.of(v);
    }

    private static void succeed(CliTest.Result r) {
        assertEquals(0, r.code(), r.out() + r.err());
    }
}
