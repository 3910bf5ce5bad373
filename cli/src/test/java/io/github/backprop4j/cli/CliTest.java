package io.github.backprop4j.cli;

import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.CheckpointFiles;
import io.github.backprop4j.core.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commands end to end on a small synthetic CSV data set with the CPU backend. */
class CliTest {

    @TempDir
    static Path dir;
    static Path csv;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    /** Three Gaussian blobs in 6 dimensions, string labels, with a header row. */
    @BeforeAll
    static void data() throws IOException {
        csv = blobs(dir);
    }

    /** Writes the blobs file into {@code dir}. */
    static Path blobs(Path dir) throws IOException {
        Random r = new Random(1);
        StringBuilder sb = new StringBuilder("f0,f1,f2,f3,f4,f5,kind\n");
        String[] kinds = {"alpha", "beta", "gamma"};
        for (int i = 0; i < 600; i++) {
            int c = i % 3;
            for (int j = 0; j < 6; j++) sb.append(10 * c + (j == c ? 3 : 0) + 2 * r.nextGaussian()).append(',');
            sb.append(kinds[c]).append('\n');
        }
        return Files.writeString(dir.resolve("blobs.csv"), sb.toString());
    }

    static String[] train(String... extra) {
        return train(csv, extra);
    }

    /** A quick cpu run on {@code csv}: layers 16,8, batch 32, seed 5, few diagnostic rows, no progress bar. */
    static String[] train(Path csv, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "16,8",
                "--batch", "32", "--seed", "5", "--diagnostic-rows", "64", "--no-progress"));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void resumeContinuesExactly() throws IOException {
        Path straight = dir.resolve("straight.safetensors"), split = dir.resolve("split.safetensors");
        for (String opt : List.of("adam", "momentum")) {
            Result a = run(train("--optimizer", opt, "--epochs", "4", "--checkpoint", straight.toString()));
            assertEquals(0, a.code(), a.err());
            Result b = run(train("--optimizer", opt, "--epochs", "2", "--checkpoint", split.toString()));
            assertEquals(0, b.code(), b.err());
            Result c = run("train", "--backend", "cpu", "--resume", split.toString(), "--epochs", "2", "--no-progress");
            assertEquals(0, c.code(), c.err());
            assertTrue(c.out().contains("epoch   3/4") && c.out().contains("epoch   4/4"), c.out());
            CheckpointFiles.Contents x = CheckpointFiles.read(straight), y = CheckpointFiles.read(split);
            assertEquals(x.tensors().keySet(), y.tensors().keySet());
            assertTrue(x.tensors().containsKey("layer0.weight.opt0"));
            for (Map.Entry<String, float[]> e : x.tensors().entrySet()) {
                float[] p = e.getValue(), q = y.tensors().get(e.getKey());
                for (int i = 0; i < p.length; i++)
                    assertEquals(p[i], q[i], 1e-6, opt + " " + e.getKey() + "[" + i + "]");
            }
            assertEquals(x.metadata().get("optimizer_step"), y.metadata().get("optimizer_step"));
            assertEquals("4", y.metadata().get("epochs_done"));
        }
    }

    /** --resident gathers batches on the device; with the same seed it trains to the very same weights. */
    @Test
    void residentTrainingMatchesHostBatches() throws IOException {
        Path host = dir.resolve("host.safetensors"), resident = dir.resolve("resident.safetensors");
        Result a = run(train("--epochs", "2", "--checkpoint", host.toString()));
        assertEquals(0, a.code(), a.err());
        Result b = run(train("--epochs", "2", "--resident", "--checkpoint", resident.toString()));
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("resident on the device"), b.out());
        CheckpointFiles.Contents x = CheckpointFiles.read(host), y = CheckpointFiles.read(resident);
        for (Map.Entry<String, float[]> e : x.tensors().entrySet()) {
            float[] p = e.getValue(), q = y.tensors().get(e.getKey());
            for (int i = 0; i < p.length; i++) assertEquals(p[i], q[i], 1e-6, e.getKey() + "[" + i + "]");
        }
    }

    @Test
    void trainWritesCheckpointReportAndChartsThenEvalAgrees() throws IOException {
        Path ckpt = dir.resolve("t.safetensors"), report = dir.resolve("r.json"), charts = dir.resolve("charts");
        Result t = run(train("--epochs", "3", "--lr", "0.01", "--checkpoint", ckpt.toString(), "--report", report.toString(),
                "--charts", charts.toString()));
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("‖dW‖") && t.out().contains("active"), t.out());
        var json = TrainCommand.JSON.readTree(report.toFile());
        double acc = json.get("test_accuracy").asDouble();
        assertTrue(acc > 0.9, "blobs are separable: " + acc);
        assertEquals(3, json.get("history").size());
        assertEquals(3, json.get("epochs").asInt());
        assertTrue(Files.size(charts.resolve("loss.png")) > 1000);
        assertTrue(Files.size(charts.resolve("accuracy.png")) > 1000);
        Checkpoint s = Checkpoint.read(ckpt);
        assertEquals(List.of("alpha", "beta", "gamma"), s.classNames());
        assertEquals("standardize (6 features)", s.normalization().describe());
        Network net = s.network();
        assertEquals("6-16-8-3 relu,relu,softmax categorical_cross_entropy", net.describe());

        Path evalReport = dir.resolve("e.json");
        Result e = run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--report", evalReport.toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("confusion matrix"), e.out());
        var ej = TrainCommand.JSON.readTree(evalReport.toFile());
        assertEquals(acc, ej.get("test_accuracy").asDouble(), 1e-9);
        assertEquals(json.get("test_loss").asDouble(), ej.get("test_loss").asDouble(), 1e-6);
    }

    @Test
    void missingDataDirectoryIsAOneLineError() {
        Result r = run("train", "--backend", "cpu", "--data", dir.resolve("no-such-dir").toString(), "--no-progress");
        assertEquals(CliException.BAD_INPUT, r.code());
        assertTrue(r.err().startsWith("backprop4j: data directory "), r.err());
        assertTrue(r.err().contains("does not exist"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void malformedCsvNamesFileAndLine() throws IOException {
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, "a,b,c\n1,2,x\n3,oops,y\n");
        Result r = run("train", "--backend", "cpu", "--csv", bad.toString(), "--no-progress");
        assertEquals(CliException.BAD_INPUT, r.code());
        assertEquals("backprop4j: " + bad + ":3: column 1 (b): 'oops' is not a number", r.err().strip());
    }

    @Test
    void corruptedCheckpointForEval() throws IOException {
        Path ckpt = dir.resolve("c.safetensors");
        assertEquals(0, run(train("--epochs", "1", "--checkpoint", ckpt.toString())).code());
        byte[] b = Files.readAllBytes(ckpt);
        Path bad = dir.resolve("bad.safetensors");
        Files.write(bad, Arrays.copyOf(b, 100));
        Result r = run("eval", "--backend", "cpu", "--checkpoint", bad.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().startsWith("backprop4j: checkpoint " + bad + ": "), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        Result v = run("eval", "--backend", "cpu", "--checkpoint", bad.toString(), "--verbose");
        assertTrue(v.err().contains("\tat io.github.backprop4j."), "stack trace with --verbose: " + v.err());
    }

    @Test
    void doctorListsCpu() {
        Result r = run("doctor");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cpu") && r.out().contains("available"), r.out());
        assertFalse(r.out().contains("versions"), "opening backends is opt-in");
        Result v = run("doctor", "--versions");
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().lines().anyMatch(l -> l.contains("versions") && l.contains("Vector API")), v.out());
    }

    @Test
    void benchSubcommandWritesTheReport() {
        Path out = dir.resolve("bench");
        String[] quick = {"--backends", "cpu", "--gemm-sizes", "64", "--configs", "none", "--precisions", "fp32",
                "--warmup", "1", "--warmup-seconds", "0", "--repetitions", "1", "--repetition-seconds", "0",
                "--out", out.toString()};
        Result r = run(concat(new String[] {"bench"}, quick));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("bench.json")) && Files.exists(out.resolve("bench.md")));
        assertTrue(r.out().contains("SGEMM") && r.out().contains("cpu"), r.out());

        Path missing = dir.resolve("no-such-anchor.json");
        Result bad = run(concat(new String[] {"bench", "--anchor", missing.toString()}, quick));
        assertEquals(CliException.BAD_INPUT, bad.code());
        assertEquals("backprop4j: " + missing + ": no such file or directory", bad.err().strip());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void divergedTrainingExitsWithEpochStepLayerAndKeepsTheLastGoodCheckpoint() throws IOException {
        Path ckpt = dir.resolve("good.safetensors");
        assertEquals(0, run(train("--epochs", "2", "--checkpoint", ckpt.toString())).code());
        byte[] good = Files.readAllBytes(ckpt);
        // a fresh run with an absurd learning rate, pointed at the same file
        Result r = run(train("--epochs", "3", "--optimizer", "sgd", "--lr", "1e30", "--loss-check-interval", "1",
                "--checkpoint", ckpt.toString()));
        assertEquals(Main.DIVERGED, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("backprop4j: training diverged in epoch 1 at step ")
                && line.contains("of the epoch") && line.contains("layer ")
                && line.contains("no checkpoint was written by this run"), line);
        assertTrue(java.util.Arrays.equals(good, Files.readAllBytes(ckpt)), "a diverged run must not touch the checkpoint");
        assertEquals(2, Checkpoint.read(ckpt).training().orElseThrow().epochsDone());
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }

    @Test
    void divergenceAfterGoodEpochsNamesTheKeptCheckpoint() throws IOException {
        // One good epoch, then the checkpoint's learning rate is raised to 1e30 (a valid, re-checksummed
        // file) so that the resumed run's first epoch, epoch 2, overflows.
        Path ckpt = dir.resolve("resumed.safetensors");
        assertEquals(0, run(train("--epochs", "1", "--optimizer", "sgd", "--checkpoint", ckpt.toString())).code());
        CheckpointFiles.Contents c = CheckpointFiles.read(ckpt);
        var opt = (com.fasterxml.jackson.databind.node.ObjectNode) TrainCommand.JSON.readTree(c.metadata().get("optimizer"));
        c.metadata().put("optimizer", opt.put("learning_rate", 1e30f).toString());
        CheckpointFiles.write(ckpt, c);
        byte[] kept = Files.readAllBytes(ckpt);
        Result r = run("train", "--backend", "cpu", "--resume", ckpt.toString(), "--epochs", "3", "--no-progress");
        assertEquals(Main.DIVERGED, r.code(), r.err());
        assertTrue(r.err().startsWith("backprop4j: training diverged in epoch 2 "), r.err());
        assertTrue(r.err().contains("the last good checkpoint, after epoch 1, is kept in " + ckpt), r.err());
        assertTrue(java.util.Arrays.equals(kept, Files.readAllBytes(ckpt)), "the diverged epoch must not be saved");
        assertEquals(1, Checkpoint.read(ckpt).training().orElseThrow().epochsDone());
    }
}
