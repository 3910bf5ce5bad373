package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.CheckpointFiles;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Task;
import io.github.backprop4j.core.conformance.BackendFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16's command-line features end to end on small synthetic CSV files with the cpu backend:
 * regression and binary tasks (inferred and stated), predict against the library's Model.predict,
 * early stopping that keeps the best epoch, and exact resume with a schedule, dropout and clipping.
 */
class TasksAndTrainingOptionsTest {

    @TempDir
    static Path dir;
    static Path regression, binary, blobs;

    /**
     * price = 3·area − 2·rooms + 0.5·age² + 0.3·sin(3·distance) + noise (σ 0.1), features on different
     * scales; and a binary label from a noisy linear score.
     */
    @BeforeAll
    static void data() throws IOException {
        Random r = new Random(11);
        StringBuilder sb = new StringBuilder("area,rooms,age,distance,price\n");
        for (int i = 0; i < 800; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian(), c = r.nextGaussian(), d = r.nextGaussian();
            double y = 3 * a - 2 * b + 0.5 * c * c + 0.3 * Math.sin(3 * d) + 0.1 * r.nextGaussian();
            sb.append(100 + 20 * a).append(',').append(3 + b).append(',').append(c).append(',').append(1000 * d)
                    .append(',').append(50 + 10 * y).append('\n');
        }
        regression = Files.writeString(dir.resolve("houses.csv"), sb.toString());
        sb = new StringBuilder("tenure,monthly,calls,churned\n");
        for (int i = 0; i < 600; i++) {
            double t = r.nextGaussian(), m = r.nextGaussian(), c = r.nextGaussian();
            sb.append(36 + 20 * t).append(',').append(70 + 25 * m).append(',').append(c).append(',')
                    .append(-1.2 * t + m + 0.8 * c + 0.5 * r.nextGaussian() > 0 ? 1 : 0).append('\n');
        }
        binary = Files.writeString(dir.resolve("churn.csv"), sb.toString());
        blobs = CliTest.blobs(dir);
    }

    static CliTest.Result run(String... args) {
        return CliTest.run(args);
    }

    static String[] train(Path csv, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--csv", csv.toString(), "--seed", "3",
                "--diagnostic-rows", "0", "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    /** The CSV's rows as numbers, header skipped. */
    static float[][] rows(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        float[][] out = new float[lines.size() - 1][];
        for (int i = 1; i < lines.size(); i++) {
            String[] cells = lines.get(i).split(",");
            out[i - 1] = new float[cells.length];
            for (int j = 0; j < cells.length; j++) out[i - 1][j] = Float.parseFloat(cells[j]);
        }
        return out;
    }

    /** The predict output's numeric cells from column {@code from} on, per row. */
    static float[][] predictions(Path out, int from) throws IOException {
        List<String> lines = Files.readAllLines(out);
        float[][] p = new float[lines.size() - 1][];
        for (int i = 1; i < lines.size(); i++) {
            String[] cells = lines.get(i).split(",");
            p[i - 1] = new float[cells.length - from];
            for (int j = from; j < cells.length; j++) p[i - 1][j - from] = Float.parseFloat(cells[j]);
        }
        return p;
    }

    /**
     * predict writes chunk by chunk (PredictCommand.CHUNK_ROWS rows at a time): across chunks the rows stay
     * in order with their line numbers and equal Model.predict's; a row that overflows in the last chunk
     * leaves the earlier output file exactly as it was and no temp file.
     */
    @Test
    void predictStreamsChunksInOrderAndAnOverflowInTheLastChunkWritesNothing() throws IOException {
        Path ckpt = dir.resolve("houses-chunks.safetensors");
        assertEquals(0, run(train(regression, "--layers", "8", "--epochs", "1", "--checkpoint", ckpt.toString())).code());
        int n = 2 * PredictCommand.CHUNK_ROWS + 123;
        Random r = new Random(5);
        float[][] x = new float[n][4];
        StringBuilder sb = new StringBuilder("area,rooms,age,distance\n");
        for (int i = 0; i < n; i++) {
            x[i] = new float[] {100 + 20 * (float) r.nextGaussian(), 3 + (float) r.nextGaussian(), (float) r.nextGaussian(),
                    1000 * (float) r.nextGaussian()};
            sb.append(x[i][0]).append(',').append(x[i][1]).append(',').append(x[i][2]).append(',').append(x[i][3]).append('\n');
        }
        Path many = Files.writeString(dir.resolve("many.csv"), sb.toString()), out = dir.resolve("many-pred.csv");
        CliTest.Result p = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", many.toString(),
                "--output", out.toString());
        assertEquals(0, p.code(), p.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals(n + 1, lines.size());
        float[][] predicted = predictions(out, 1), library;
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            library = model.predict(x);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(i + 2, Long.parseLong(lines.get(i + 1).split(",")[0]), "line number of row " + i);
            assertEquals(library[i][0], predicted[i][0], 0f, "row " + i);
        }

        byte[] before = Files.readAllBytes(out);
        // rows too extreme for the network, appended to the last chunk: at least one makes the output overflow
        for (String row : List.of("3e38,3e38,3e38,3e38", "-3e38,-3e38,-3e38,-3e38", "100,3,3e38,0", "100,3,-3e38,0",
                "100,3e38,0,0", "100,-3e38,0,0")) sb.append(row).append('\n');
        Files.writeString(many, sb.toString());
        CliTest.Result bad = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", many.toString(),
                "--output", out.toString());
        assertEquals(Main.DIVERGED, bad.code(), bad.out() + bad.err());
        java.util.regex.Matcher line = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(many + ":")
                + "(\\d+): the prediction is").matcher(bad.err());
        assertTrue(line.find() && Integer.parseInt(line.group(1)) >= n + 2, bad.err());
        assertArrayEquals(before, Files.readAllBytes(out), "the earlier output stays as it was");
        // a cell that is not a number in the last chunk: the same, with the line named (exit 2)
        List<String> many3 = new ArrayList<>(Files.readAllLines(many).subList(0, n + 1));
        many3.add("100,3,zero,0");
        Files.write(many, many3);
        CliTest.Result unreadable = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv",
                many.toString(), "--output", out.toString());
        assertEquals(CliException.BAD_INPUT, unreadable.code(), unreadable.err());
        assertTrue(unreadable.err().contains(many + ":" + (n + 2) + ": column 2 (age): 'zero' is not a number"),
                unreadable.err());
        assertTrue(unreadable.out().contains("backend    cpu"), "found while predicting: " + unreadable.out());
        assertArrayEquals(before, Files.readAllBytes(out), "the earlier output stays as it was");
        // the same cell in the first chunk is found before the backend is opened
        many3.set(3, "100,3,zero,0");
        many3.removeLast();
        Files.write(many, many3);
        CliTest.Result early = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv",
                many.toString(), "--output", out.toString());
        assertEquals(CliException.BAD_INPUT, early.code(), early.err());
        assertTrue(early.err().contains(many + ":4: column 2 (age): 'zero' is not a number"), early.err());
        assertTrue(!early.out().contains("backend    "), "no device call before the first chunk is read: " + early.out());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void regressionIsInferredFitsWellAndPredictsInTargetUnits() throws IOException {
        Path ckpt = dir.resolve("houses.safetensors"), report = dir.resolve("houses.json");
        CliTest.Result t = run(train(regression, "--layers", "32,16", "--epochs", "25", "--batch", "32", "--lr", "0.005",
                "--checkpoint", ckpt.toString(), "--report", report.toString()));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("task      regress, identity with mean squared error")
                && t.out().contains("(inferred: price holds"), t.out());
        assertTrue(t.out().contains("target price (standardized)"), t.out());
        JsonNode json = TrainCommand.JSON.readTree(report.toFile());
        double r2 = json.get("test_r2").asDouble();
        assertTrue(r2 > 0.9, "fitted R² " + r2 + "\n" + t.out());
        Checkpoint saved = Checkpoint.read(ckpt);
        assertEquals(Task.REGRESS, saved.network().task());
        assertEquals("standardize (1 features)", saved.targetNormalization().describe());

        Path evalReport = dir.resolve("houses-eval.json");
        CliTest.Result e = run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--report", evalReport.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("test MSE ") && e.out().contains("MAE ") && e.out().contains("R² "), e.out());
        JsonNode ej = TrainCommand.JSON.readTree(evalReport.toFile());
        assertEquals(r2, ej.get("test_r2").asDouble(), 1e-12);
        assertEquals(json.get("test_mse").asDouble(), ej.get("test_mse").asDouble(), 1e-9);

        // predict: the whole file (target column present, skipped) and the features alone give the same values,
        // which are Model.predict's, in the targets' units
        Path withTarget = dir.resolve("houses-pred.csv"), featuresOnly = dir.resolve("houses-features.csv"),
                fromFeatures = dir.resolve("houses-pred2.csv");
        CliTest.Result p = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", regression.toString(),
                "--output", withTarget.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(p.out().contains("line,price"), p.out());
        List<String> lines = Files.readAllLines(regression);
        StringBuilder features = new StringBuilder();
        for (String line : lines) features.append(line, 0, line.lastIndexOf(',')).append('\n');
        Files.writeString(featuresOnly, features);
        assertEquals(0, run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", featuresOnly.toString(),
                "--output", fromFeatures.toString()).code());
        assertEquals(Files.readAllLines(withTarget), Files.readAllLines(fromFeatures));
        assertEquals("line,price", Files.readAllLines(withTarget).getFirst());
        assertEquals("2", Files.readAllLines(withTarget).get(1).split(",")[0]);

        float[][] all = rows(regression), predicted = predictions(withTarget, 1);
        float[][] x = new float[all.length][];
        for (int i = 0; i < all.length; i++) x[i] = Arrays.copyOf(all[i], 4);
        float[][] library;
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            library = model.predict(x);
        }
        double sse = 0, sst = 0, mean = 0;
        for (float[] row : all) mean += row[4] / all.length;
        for (int i = 0; i < all.length; i++) {
            assertEquals(library[i][0], predicted[i][0], 0f, "row " + i);
            sse += Math.pow(predicted[i][0] - all[i][4], 2);
            sst += Math.pow(all[i][4] - mean, 2);
        }
        assertTrue(1 - sse / sst > 0.9, "R² of the predictions over every row, in price units: " + (1 - sse / sst));
    }

    @Test
    void binaryIsInferredFromZeroOneLabelsWithAccuracyAndAuc() throws IOException {
        Path ckpt = dir.resolve("churn.safetensors"), report = dir.resolve("churn.json"), out = dir.resolve("churn-pred.csv");
        CliTest.Result t = run(train(binary, "--layers", "16", "--epochs", "6", "--batch", "32", "--lr", "0.01",
                "--checkpoint", ckpt.toString(), "--report", report.toString()));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("task      binary, sigmoid with binary cross-entropy (inferred: churned holds only 0 "
                + "and 1"), t.out());
        JsonNode json = TrainCommand.JSON.readTree(report.toFile());
        assertTrue(json.get("test_auc").asDouble() > 0.85 && json.get("test_accuracy").asDouble() > 0.8, json.toString());
        CliTest.Result e = run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f, AUC %.4f",
                json.get("test_accuracy").asDouble(), json.get("test_auc").asDouble())), e.out());

        CliTest.Result p = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", binary.toString(),
                "--output", out.toString());
        assertEquals(0, p.code(), p.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals("line,predicted,p(1)", lines.getFirst());
        float[][] all = rows(binary);
        float[][] x = new float[all.length][];
        for (int i = 0; i < all.length; i++) x[i] = Arrays.copyOf(all[i], 3);
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            float[][] library = model.predict(x);
            for (int i = 0; i < x.length; i++) {
                String[] cells = lines.get(i + 1).split(",");
                assertEquals(library[i][0], Float.parseFloat(cells[2]), 0f, "row " + i);
                assertEquals(library[i][0] >= 0.5f ? "1" : "0", cells[1], "row " + i);
            }
        }
    }

    @Test
    void classifierPredictionsAreModelPredictsWithClassNamesAndTheHeaderIsChecked() throws IOException {
        Path ckpt = dir.resolve("blobs.safetensors"), out = dir.resolve("blobs-pred.csv");
        CliTest.Result t = run(CliTest.train(blobs, "--epochs", "2", "--checkpoint", ckpt.toString()));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("task      classify, softmax with cross-entropy (inferred: kind holds text"), t.out());
        CliTest.Result p = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv",
                blobs.toString(), "--output", out.toString());
        assertEquals(0, p.code(), p.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals("line,predicted,p(alpha),p(beta),p(gamma)", lines.getFirst());
        Csv.Table table = Csv.read(blobs, -1);
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            float[] library = model.predict(table.features(), table.rows());
            for (int i = 0; i < table.rows(); i++) {
                String[] cells = lines.get(i + 1).split(",");
                assertEquals(Long.toString(table.lines()[i]), cells[0]);
                int best = 0;
                for (int j = 0; j < 3; j++) {
                    assertEquals(library[i * 3 + j], Float.parseFloat(cells[2 + j]), 0f, "row " + i);
                    if (library[i * 3 + j] > library[i * 3 + best]) best = j;
                }
                assertEquals(List.of("alpha", "beta", "gamma").get(best), cells[1]);
            }
        }
        // columns in another order under a header: refused, naming the column
        List<String> swapped = new ArrayList<>(Files.readAllLines(blobs));
        swapped.set(0, "f1,f0,f2,f3,f4,f5,kind");
        Path bad = Files.write(dir.resolve("swapped.csv"), swapped);
        CliTest.Result r = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", bad.toString(),
                "--output", dir.resolve("x.csv").toString());
        assertEquals(CliException.BAD_INPUT, r.code());
        assertEquals("backprop4j: " + bad + ": header column 0 is 'f1' but the model was trained with 'f0' there (the "
                + "columns must be in training's order)", r.err().strip());
        // a row it cannot read names the file and the line, and nothing is written
        Path broken = Files.writeString(dir.resolve("broken.csv"), "f0,f1,f2,f3,f4,f5\n1,2,3,4,5,6\n1,2,x,4,5,6\n");
        Path target = dir.resolve("never.csv");
        r = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", broken.toString(), "--output",
                target.toString());
        assertEquals("backprop4j: " + broken + ":3: column 2 (f2): 'x' is not a number", r.err().strip());
        assertTrue(Files.notExists(target));
    }

    /** IDX images: predict's classes give eval's accuracy, and its probabilities are Model.predict's. */
    @Test
    void idxPredictionsAgreeWithEvalAndModelPredict() throws IOException {
        Path idx = dir.resolve("idx"), ckpt = dir.resolve("idx.safetensors"), out = dir.resolve("idx-pred.csv"),
                report = dir.resolve("idx-eval.json");
        HostileInputTest.writeIdx(idx, 300, 90, 4);
        assertEquals(0, run("train", "--backend", "cpu", "--data", idx.toString(), "--layers", "8", "--epochs", "3",
                "--lr", "0.01", "--no-progress", "--checkpoint", ckpt.toString()).code());
        assertEquals(0, run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--report", report.toString())
                .code());
        CliTest.Result p = run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--data", idx.toString(),
                "--output", out.toString());
        assertEquals(0, p.code(), p.err());
        List<String> lines = Files.readAllLines(out);
        assertEquals("image,predicted,p(0),p(1),p(2)", lines.getFirst());
        Idx.Labelled test = Idx.load(Idx.find(idx, "t10k-images-idx3-ubyte"), Idx.find(idx, "t10k-labels-idx1-ubyte"));
        int correct = 0;
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            float[] library = model.predict(test.features(), test.labels().length);
            for (int i = 0; i < test.labels().length; i++) {
                String[] cells = lines.get(i + 1).split(",");
                assertEquals(Integer.toString(i), cells[0]);
                for (int j = 0; j < 3; j++) assertEquals(library[i * 3 + j], Float.parseFloat(cells[2 + j]), 0f);
                if (cells[1].equals(Integer.toString(test.labels()[i]))) correct++;
            }
        }
        assertEquals(TrainCommand.JSON.readTree(report.toFile()).get("test_accuracy").asDouble(),
                (double) correct / test.labels().length, 1e-12);
    }

    @Test
    void severalTargetColumnsAreARegressionWithOneOutputEach() throws IOException {
        Path ckpt = dir.resolve("two.safetensors"), out = dir.resolve("two-pred.csv");
        CliTest.Result t = run(train(regression, "--target-columns", "0,4", "--layers", "16", "--epochs", "2",
                "--checkpoint", ckpt.toString()));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("(inferred: 2 target columns") && t.out().contains("2 targets area, price"), t.out());
        assertEquals(2, Checkpoint.read(ckpt).network().outputs());
        assertEquals(0, run("predict", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", regression.toString(),
                "--output", out.toString()).code());
        assertEquals("line,area,price", Files.readAllLines(out).getFirst());
    }

    /**
     * A wide net with a high rate on 40 noisy rows overfits within a few epochs: early stopping ends the run
     * before its 200 epochs, and the checkpoint's parameters are the best epoch's: their validation loss
     * is the best one the run reported.
     */
    @Test
    void earlyStoppingStopsAndTheCheckpointHoldsTheBestEpoch() throws IOException {
        Random r = new Random(5);
        StringBuilder sb = new StringBuilder("a,b,c,y\n");
        for (int i = 0; i < 50; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian(), c = r.nextGaussian();
            sb.append(a).append(',').append(b).append(',').append(c).append(',').append(a + r.nextGaussian()).append('\n');
        }
        Path csv = Files.writeString(dir.resolve("noisy.csv"), sb.toString());
        Path ckpt = dir.resolve("noisy.safetensors"), report = dir.resolve("noisy.json");
        CliTest.Result t = run(train(csv, "--layers", "128,128", "--epochs", "200", "--batch", "4", "--lr", "0.01",
                "--test-fraction", "0.2", "--validation-fraction", "0.25", "--early-stopping", "3",
                "--checkpoint", ckpt.toString(), "--report", report.toString()));
        assertEquals(0, t.code(), t.err());
        JsonNode json = TrainCommand.JSON.readTree(report.toFile());
        JsonNode stopping = json.get("early_stopping");
        int done = json.get("epochs").asInt(), best = stopping.get("best_epoch").asInt();
        assertTrue(stopping.get("stopped").asBoolean() && done < 200 && done == best + 3, json.toString());
        assertTrue(t.out().contains("early stop: the validation loss has not improved for 3 epochs; stopped after epoch "
                + done + " of 200, the checkpoint holds the best, epoch " + best + "'s weights"), t.out());
        double lowest = Double.POSITIVE_INFINITY;
        for (JsonNode h : json.get("history")) lowest = Math.min(lowest, h.get("validation_loss").asDouble());
        assertEquals(lowest, stopping.get("best_validation_loss").asDouble());
        assertEquals(lowest, json.get("history").get(best - 1).get("validation_loss").asDouble());

        Dataset validation = Data.csv(new Data.CsvRequest(csv, List.of(-1), null, 0.2, 0.25, 3, Data.Use.TRAINING),
                Data.Recorded.NONE).validation();
        assertEquals(10, validation.rows());
        try (Backend b = Backends.open("cpu"); Model model = Model.load(b, ckpt)) {
            assertEquals(lowest, model.evaluate(validation).loss(), "the checkpoint's model is the best epoch's");
        }
        CliTest.Result again = run("train", "--backend", "cpu", "--resume", ckpt.toString(), "--no-progress");
        assertEquals(CliException.BAD_INPUT, again.code());
        assertTrue(again.err().contains("that run stopped early after epoch " + done), again.err());
    }

    /** N epochs straight and k + resumed N − k give the very same checkpoint tensors (and metadata). */
    private static void assertResumeIsExact(String backend, String name, String... options) throws IOException {
        Path straight = dir.resolve(name + "-straight.safetensors"), split = dir.resolve(name + "-split.safetensors");
        CliTest.Result a = run(on(backend, CliTest.train(blobs, concat(options, "--epochs", "4", "--checkpoint",
                straight.toString()))));
        assertEquals(0, a.code(), a.err());
        CliTest.Result b = run(on(backend, CliTest.train(blobs, concat(options, "--epochs", "2", "--checkpoint",
                split.toString()))));
        assertEquals(0, b.code(), b.err());
        CliTest.Result c = run("train", "--backend", backend, "--resume", split.toString(), "--epochs", "2",
                "--no-progress", "--diagnostic-rows", "0");
        assertEquals(0, c.code(), c.err());
        CheckpointFiles.Contents x = CheckpointFiles.read(straight), y = CheckpointFiles.read(split);
        assertEquals(x.tensors().keySet(), y.tensors().keySet());
        for (Map.Entry<String, float[]> e : x.tensors().entrySet())
            assertArrayEquals(e.getValue(), y.tensors().get(e.getKey()), name + ": " + e.getKey());
        for (String key : List.of("optimizer_step", "schedule", "dropout_seed", "clip_norm", "network", "early_stopping"))
            assertEquals(x.metadata().get(key), y.metadata().get(key), name + ": " + key);
    }

    /** A train command line of {@link CliTest#train} on another backend. */
    private static String[] on(String backend, String[] args) {
        assertEquals("--backend", args[1]);
        args[2] = backend;
        return args;
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void resumeIsExactWithSchedulesDropoutClippingAndEarlyStopping() throws IOException {
        assertResumeIsExact("cpu", "cosine-dropout", "--lr-schedule", "cosine:60:0.0001", "--warmup", "10", "--dropout", "0.3",
                "--clip-norm", "0.5", "--lr", "0.01");
        assertResumeIsExact("cpu", "step-dropout-per-layer", "--lr-schedule", "step:20:0.5", "--dropout", "0.2,0.4",
                "--activation", "gelu", "--optimizer", "momentum");
        assertResumeIsExact("cpu", "early-stopping", "--validation-fraction", "0.2", "--early-stopping", "50", "--dropout", "0.1",
                "--activation", "gelu-tanh");
        Checkpoint c = Checkpoint.read(dir.resolve("cosine-dropout-split.safetensors"));
        assertEquals(0.3f, c.network().layers().get(1).dropout());
        Checkpoint.Training training = c.training().orElseThrow();
        assertEquals(LearningRateSchedule.cosine(60, 1e-4f).withWarmup(10), training.schedule());
        assertEquals(0.5f, training.clipNorm());
        assertEquals(5, training.dropoutSeed());   // the run's --seed
    }

    /**
     * A cosine to 0 leaves the weights as they are after its T steps: a run (new or resumed) that would
     * take such steps is refused before it trains, with how many epochs would fit. The blobs' 480
     * training rows in batches of 32 are 15 steps an epoch.
     */
    @Test
    void epochsPastTheEndOfACosineToZeroAreRefused() throws IOException {
        CliTest.Result tooShort = run(CliTest.train(blobs, "--lr-schedule", "cosine:40", "--epochs", "3"));
        assertEquals(CliException.BAD_INPUT, tooShort.code(), tooShort.err());
        assertEquals("backprop4j: --lr-schedule cosine:40: the learning rate follows a cosine to 0 over 40 steps; --epochs 3 "
                + "(45 steps) would train 5 steps at rate 0, which change nothing: ask for at most 2 epochs, or give the "
                + "cosine a longer T (one epoch is 15 steps) or a MIN above 0", tooShort.err().strip());
        assertEquals(0, run(CliTest.train(blobs, "--lr-schedule", "cosine:40:0.0001", "--epochs", "3", "--checkpoint",
                dir.resolve("cosine-min.safetensors").toString())).code(), "a MIN above 0 keeps training");

        Path whole = dir.resolve("cosine-whole.safetensors");   // cosine over the run's own 2 epochs: 30 steps
        assertEquals(0, run(CliTest.train(blobs, "--lr-schedule", "cosine", "--epochs", "2", "--checkpoint",
                whole.toString())).code());
        CliTest.Result ended = run("train", "--backend", "cpu", "--resume", whole.toString(), "--epochs", "1", "--no-progress");
        assertEquals(CliException.BAD_INPUT, ended.code(), ended.err());
        assertTrue(ended.err().contains("over 30 steps, of which 30 are done; --epochs 1 (15 steps) would train 15 steps at "
                + "rate 0, which change nothing: the schedule has ended, so this run cannot train further"), ended.err());

        Path part = dir.resolve("cosine-part.safetensors");     // 2 of the 4 epochs cosine:60 was set for
        assertEquals(0, run(CliTest.train(blobs, "--lr-schedule", "cosine:60", "--epochs", "2", "--checkpoint",
                part.toString())).code());
        CliTest.Result tooMany = run("train", "--backend", "cpu", "--resume", part.toString(), "--epochs", "3", "--no-progress");
        assertEquals(CliException.BAD_INPUT, tooMany.code(), tooMany.err());
        assertTrue(tooMany.err().contains("of which 30 are done; --epochs 3 (45 steps) would train 15 steps at rate 0, "
                + "which change nothing: ask for at most 2 epochs"), tooMany.err());
        assertEquals(0, run("train", "--backend", "cpu", "--resume", part.toString(), "--epochs", "2", "--no-progress",
                "--diagnostic-rows", "0").code());
    }

    /** The same on OpenCL (PoCL in CI): the masks, the scheduled rate and the clipping run in its kernels. */
    @Test
    void resumeIsExactOnOpenCl() throws IOException {
        BackendFixture.open("opencl").close();   // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        assertResumeIsExact("opencl", "opencl-cosine-dropout", "--lr-schedule", "cosine:60:0.0001", "--warmup", "10",
                "--dropout", "0.3", "--clip-norm", "0.5", "--validation-fraction", "0.2", "--early-stopping", "50");
    }
}
