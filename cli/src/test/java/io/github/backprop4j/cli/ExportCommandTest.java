package io.github.backprop4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.conformance.OnnxRuntimeCheck;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backprop4j export} on checkpoints written by {@code train}: the ONNX model takes the raw rows
 * (CSV columns, IDX pixel values) and gives what the library gives on the normalized rows.
 */
class ExportCommandTest {

    @TempDir
    Path dir;

    @Test
    void csvModelTakesRawColumnsAndStandardizesThemLikeTraining() throws Exception {
        Path csv = gradesCsv(), ckpt = dir.resolve("grades.safetensors"), onnx = dir.resolve("grades.onnx");
        train("--csv", csv.toString(), "--layers", "8", "--checkpoint", ckpt.toString());

        CliTest.Result e = CliTest.run("export", "--checkpoint", ckpt.toString(), "--onnx", onnx.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("'probabilities' [batch, 3]") && e.out().contains("classes high, low, mid")
                && e.out().contains("(standardize)"), e.out());

        Csv.Table rows = Csv.read(csv, -1);
        float[] raw = rows.features();
        float[] expected = predict(ckpt, raw, rows.rows());
        float[] got = OnnxRuntimeCheck.run(onnx, "probabilities", raw, rows.rows(), 4, 3);
        OnnxRuntimeCheck.assertMatches("CSV model on raw rows", expected, got, 3, 1e-5, true);

        try (OrtSession s = OnnxRuntimeCheck.open(onnx)) {
            Map<String, String> meta = s.getMetadata().getCustomMetadata();
            assertEquals(List.of("high", "low", "mid"), Checkpoint.read(ckpt).classNames());
            assertEquals("[\"high\",\"low\",\"mid\"]", meta.get("classes"));
            assertEquals("classify", meta.get("task"));
            assertEquals("standardize", meta.get("normalization_kind"));
            assertEquals("2", meta.get("epochs_trained"));
        }
    }

    @Test
    void idxModelTakesRawPixelValues() throws Exception {
        Path data = Files.createDirectories(dir.resolve("idx"));
        writeIdx(data, "train", 240, 11);
        writeIdx(data, "t10k", 120, 12);
        Path ckpt = dir.resolve("idx.safetensors"), onnx = dir.resolve("idx.onnx");
        train("--data", data.toString(), "--layers", "12", "--checkpoint", ckpt.toString());
        CliTest.Result e = CliTest.run("export", "--checkpoint", ckpt.toString(), "--onnx", onnx.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("[batch, 36]") && e.out().contains("(pixels/255)"), e.out());

        Idx.Array images = Idx.read(Idx.find(data, "t10k-images-idx3-ubyte"), 3);
        float[] pixels = new float[images.data().length];
        for (int i = 0; i < pixels.length; i++) pixels[i] = images.data()[i] & 0xff;
        float[] expected = predict(ckpt, pixels, 120);   // the model divides by 255 itself, as training did
        float[] got = OnnxRuntimeCheck.run(onnx, "probabilities", pixels, 120, 36, 3);
        OnnxRuntimeCheck.assertMatches("IDX model on raw pixels", expected, got, 3, 1e-5, true);
    }

    @Test
    void badArgumentsAreOneLineErrorsWithExitCode2AndWriteNothing() throws IOException {
        Path missing = dir.resolve("missing.safetensors"), onnx = dir.resolve("out.onnx");
        CliTest.Result a = CliTest.run("export", "--checkpoint", missing.toString(), "--onnx", onnx.toString());
        assertOneLineError(a, "missing.safetensors");

        Path corrupt = dir.resolve("corrupt.safetensors");
        Files.write(corrupt, new byte[]{8, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        assertOneLineError(CliTest.run("export", "--checkpoint", corrupt.toString(), "--onnx", onnx.toString()),
                "corrupt.safetensors");
        assertFalse(Files.exists(onnx), "nothing is written for a bad checkpoint");

        Path directory = Files.createDirectories(dir.resolve("a-directory"));
        assertOneLineError(CliTest.run("export", "--checkpoint", corrupt.toString(), "--onnx", directory.toString()),
                "is a directory");

        byte[] before = Files.readAllBytes(corrupt);
        assertOneLineError(CliTest.run("export", "--checkpoint", corrupt.toString(), "--onnx", corrupt.toString()),
                "is the checkpoint itself");
        assertArrayEquals(before, Files.readAllBytes(corrupt));

        Path valid = dir.resolve("valid.safetensors");
        train("--csv", gradesCsv().toString(), "--layers", "4", "--checkpoint", valid.toString());
        assertOneLineError(CliTest.run("export", "--checkpoint", valid.toString(), "--onnx",
                corrupt.resolve("x.onnx").toString()), "cannot write " + corrupt.resolve("x.onnx") + ": not a directory: " + corrupt);

        CliTest.Result noOnnx = CliTest.run("export", "--checkpoint", corrupt.toString());
        assertEquals(2, noOnnx.code());
        assertTrue(noOnnx.err().contains("Missing required option: '--onnx=FILE'"), noOnnx.err());
    }

    private static void assertOneLineError(CliTest.Result r, String part) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("backprop4j: ") && r.err().contains(part), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    /** Three grades from four features on very different scales, so a missing or wrong standardization shows. */
    private Path gradesCsv() throws IOException {
        Random r = new Random(4);
        StringBuilder sb = new StringBuilder("mass,ratio,count,temperature,grade\n");
        String[] grades = {"low", "mid", "high"};
        for (int i = 0; i < 300; i++) {
            int c = i % 3;
            sb.append(1000 + 400 * c + 150 * r.nextGaussian()).append(',')
                    .append(0.002 * c + 0.001 * r.nextGaussian()).append(',')
                    .append(r.nextInt(50)).append(',')
                    .append(-20 + 5 * c + 4 * r.nextGaussian()).append(',')
                    .append(grades[c]).append('\n');
        }
        Path csv = dir.resolve("grades.csv");
        Files.writeString(csv, sb.toString());
        return csv;
    }

    private void train(String... dataAndModel) {
        List<String> args = new ArrayList<>(List.of("train", "--backend", "cpu", "--epochs", "2", "--batch", "32",
                "--lr", "0.01", "--seed", "3", "--diagnostic-rows", "32", "--no-progress"));
        args.addAll(Arrays.asList(dataAndModel));
        CliTest.Result t = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, t.code(), t.err());
    }

    /** The library's forward pass (Model.predict on the cpu backend) on the same raw rows. */
    private static float[] predict(Path checkpoint, float[] raw, int rows) throws IOException {
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, checkpoint)) {
            return model.predict(raw, rows);
        }
    }

    /** 6×6 images of three classes (bright top, middle or bottom rows) with noise, as IDX files. */
    private static void writeIdx(Path dir, String prefix, int n, long seed) throws IOException {
        Random r = new Random(seed);
        ByteBuffer images = ByteBuffer.allocate(16 + n * 36).putInt(0x00000803).putInt(n).putInt(6).putInt(6);
        ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x00000801).putInt(n);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            labels.put((byte) c);
            for (int p = 0; p < 36; p++) images.put((byte) (p / 12 == c ? 180 + r.nextInt(76) : r.nextInt(120)));
        }
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), images.array());
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labels.array());
    }
}
