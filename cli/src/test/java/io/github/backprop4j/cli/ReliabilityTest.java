package io.github.backprop4j.cli;

import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.conformance.TestLaunch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the hostile-input table cannot show in one call: locking, signals and small heaps (child JVMs),
 * the checkpoint's normalization applied across file formats, the option table's coverage, and the
 * messages for errors that have no message of their own.
 */
class ReliabilityTest {

    @TempDir
    static Path dir;
    static Path csv;

    @BeforeAll
    static void data() throws IOException {
        Random r = new Random(2);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            int c = i % 2;
            for (int j = 0; j < 8; j++) sb.append(c * 2 + r.nextGaussian()).append(',');
            sb.append(c == 0 ? "no" : "yes").append('\n');
        }
        csv = dir.resolve("two.csv");
        Files.writeString(csv, sb.toString());
    }

    // ---- class 5 ----

    @Test
    void aSecondRunOnALockedCheckpointFailsAtItsStart() throws IOException {
        Path ckpt = dir.resolve("locked.safetensors");
        try (Checkpoint.Lock held = Checkpoint.lock(ckpt)) {
            CliTest.Result r = CliTest.run("train", "--backend", "cpu", "--csv", csv.toString(), "--epochs", "1",
                    "--no-progress", "--checkpoint", ckpt.toString());
            assertEquals(CliException.BAD_INPUT, r.code(), r.err());
            assertTrue(r.err().startsWith("backprop4j: checkpoint " + ckpt + " is in use by another training run (pid "
                    + ProcessHandle.current().pid() + ", started "), r.err());
            assertFalse(r.out().contains("epoch"), "nothing trained");
            assertFalse(Files.exists(ckpt));
        }
        CliTest.Result after = CliTest.run("train", "--backend", "cpu", "--csv", csv.toString(), "--epochs", "1",
                "--no-progress", "--checkpoint", ckpt.toString());
        assertEquals(0, after.code(), after.err());
    }

    @Test
    void unwritableOutputsFailBeforeTraining() throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        for (String[] o : new String[][] {{"--checkpoint", file + "/c.safetensors"}, {"--report", dir.toString()},
                {"--charts", file + "/charts"}}) {
            List<String> args = new ArrayList<>(List.of("train", "--backend", "cpu", "--csv", csv.toString(), "--epochs", "1",
                    "--no-progress", o[0], o[1]));
            if (!o[0].equals("--checkpoint")) args.addAll(List.of("--checkpoint", dir.resolve("u.safetensors").toString()));
            CliTest.Result r = CliTest.run(args.toArray(String[]::new));
            assertEquals(CliException.BAD_INPUT, r.code(), r.err());
            assertTrue(r.err().startsWith("backprop4j: " + o[0]), r.err());
            assertEquals("", r.out(), "failed before reading data or training");
        }
    }

    /**
     * The normalization recorded in a checkpoint applies to whatever file is evaluated: an IDX-trained
     * network evaluated on a CSV of the same raw pixels gets the same ÷255 and so the same results.
     */
    @Test
    void idxCheckpointOnACsvOfTheSamePixelsGivesTheSameResults() throws IOException {
        Path idx = dir.resolve("idx");
        HostileInputTest.writeIdx(idx, 300, 90, 5);
        Path ckpt = dir.resolve("idx.safetensors");
        assertEquals(0, CliTest.run("train", "--backend", "cpu", "--data", idx.toString(), "--layers", "16", "--epochs", "2",
                "--no-progress", "--checkpoint", ckpt.toString()).code());
        Path viaIdx = dir.resolve("via-idx.json"), viaCsv = dir.resolve("via-csv.json");
        CliTest.Result a = CliTest.run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--report", viaIdx.toString());
        assertEquals(0, a.code(), a.err());
        Idx.Labelled test = Idx.load(Idx.find(idx, "t10k-images-idx3-ubyte"), Idx.find(idx, "t10k-labels-idx1-ubyte"));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < test.labels().length; i++) {
            for (int p = 0; p < test.featureCount(); p++) sb.append((int) test.features()[i * test.featureCount() + p]).append(',');
            sb.append(test.labels()[i]).append('\n');
        }
        Path pixels = Files.writeString(dir.resolve("pixels.csv"), sb.toString());
        CliTest.Result b = CliTest.run("eval", "--backend", "cpu", "--checkpoint", ckpt.toString(), "--csv", pixels.toString(),
                "--all-rows", "--report", viaCsv.toString());
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("pixels/255"), b.out());
        var x = TrainCommand.JSON.readTree(viaIdx.toFile());
        var y = TrainCommand.JSON.readTree(viaCsv.toFile());
        assertEquals(x.get("test_accuracy").asDouble(), y.get("test_accuracy").asDouble(), 1e-12);
        assertEquals(x.get("test_loss").asDouble(), y.get("test_loss").asDouble(), 1e-6);
        assertEquals(x.get("confusion_matrix"), y.get("confusion_matrix"));
    }

    /**
     * kill -TERM during training: the JVM stops (exit 143), says what is kept, and the checkpoint on
     * disk is a complete one from a finished epoch; the lock goes with the process.
     */
    @Test
    void terminatedRunStopsAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path ckpt = dir.resolve("term.safetensors");
        Path errFile = dir.resolve("term.err");
        Process child = childJvm(List.of(), errFile, "train", "--backend", "cpu", "--csv", csv.toString(), "--epochs", "500",
                "--batch", "16", "--layers", "64,64", "--no-progress", "--checkpoint", ckpt.toString());
        StringBuilder stdout = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (String line; (line = r.readLine()) != null; ) {
                stdout.append(line).append('\n');
                if (line.startsWith("epoch   2/")) break;   // epoch 1 has been saved; epoch 2 is being
                if (System.nanoTime() > deadline) break;
            }
            child.destroy();   // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the JVM must stop on SIGTERM");
        } finally {
            child.destroyForcibly();
        }
        String err = stderr(errFile);
        assertEquals(143, child.exitValue(), stdout + err);
        assertTrue(err.startsWith("backprop4j: interrupted in epoch ") && err.contains("the last good checkpoint, after epoch ")
                && err.endsWith("is kept in " + ckpt), err);
        assertTrue(Checkpoint.read(ckpt).training().orElseThrow().epochsDone() >= 1);
        CliTest.Result again = CliTest.run("train", "--backend", "cpu", "--resume", ckpt.toString(), "--epochs", "1",
                "--no-progress");
        assertEquals(0, again.code(), "the lock died with the process: " + again.err());
    }

    /** Inputs larger than a small heap are refused with one line naming the file, not an OutOfMemoryError. */
    @Test
    void dataLargerThanTheHeapIsAOneLineErrorInASmallHeap() throws Exception {
        StringBuilder sb = new StringBuilder();
        Random r = new Random(1);
        for (int i = 0; i < 300_000; i++) {
            for (int j = 0; j < 20; j++) sb.append(r.nextInt(1000)).append(',');
            sb.append(i % 2).append('\n');
        }
        Path big = Files.writeString(dir.resolve("big.csv"), sb.toString());
        Path idx = dir.resolve("big-idx");
        Files.createDirectories(idx);
        int n = 200_000, side = 8;
        ByteBuffer images = ByteBuffer.allocate(16 + n * side * side).putInt(0x803).putInt(n).putInt(side).putInt(side);
        Files.write(idx.resolve("t10k-images-idx3-ubyte"), images.array());
        Files.write(idx.resolve("t10k-labels-idx1-ubyte"), ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n).array());
        for (String[] args : new String[][] {{"train", "--backend", "cpu", "--csv", big.toString(), "--checkpoint",
                dir.resolve("small-heap.safetensors").toString()}, {"eval", "--backend", "cpu", "--checkpoint",
                smallCheckpoint().toString(), "--data", idx.toString()}}) {
            Path errFile = dir.resolve("small-heap.err");
            Process child = childJvm(List.of("-Xmx40m"), errFile, args);
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
            String err = stderr(errFile);
            assertEquals(CliException.BAD_INPUT, child.exitValue(), err);
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("backprop4j: ") && err.contains("of Java heap") && err.contains("BACKPROP4J_JAVA_OPTS"),
                    err);
            assertTrue(err.contains(args[4].equals(big.toString()) ? big.toString() : idx.toString()), err);
        }
    }

    private static Path smallCheckpoint() {
        Path ckpt = dir.resolve("for-idx.safetensors");
        if (!Files.exists(ckpt)) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                for (int j = 0; j < 64; j++) sb.append((i * 7 + j) % 256).append(',');
                sb.append(i % 3).append('\n');
            }
            Path c = dir.resolve("sixty-four.csv");
            try {
                Files.writeString(c, sb.toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            assertEquals(0, CliTest.run("train", "--backend", "cpu", "--csv", c.toString(), "--epochs", "1", "--layers", "4",
                    "--no-progress", "--checkpoint", ckpt.toString()).code());
        }
        return ckpt;
    }

    /** The child's stderr less the JVM's incubator-module notice (which the launcher drops too). */
    private static String stderr(Path file) throws IOException {
        return Files.readAllLines(file).stream().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                .collect(java.util.stream.Collectors.joining("\n")).strip();
    }

    private static Process childJvm(List<String> jvmOptions, Path stderr, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", TestLaunch.childClassPath(ReliabilityTest.class), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
    }

    // ---- class 3 and 8: errors that carry no message of their own ----

    @Test
    void errorsWithoutMessagesAreOneLineAndNeverNull() {
        for (Throwable e : new Throwable[] {new OutOfMemoryError("Java heap space"), new OutOfMemoryError(),
                new StackOverflowError(), new NullPointerException(), new IllegalStateException((String) null),
                new RuntimeException(new java.nio.file.NoSuchFileException("/x/y")), new java.io.IOException()}) {
            StringWriter w = new StringWriter();
            int code = Main.report(e, false, new PrintWriter(w));
            String line = w.toString().strip();
            assertEquals(1, line.lines().count(), line);
            assertTrue(line.startsWith("backprop4j: ") && !line.contains(": null") && !line.endsWith("null")
                    && !line.endsWith(": "), line);
            assertTrue(code == Main.FAILURE || code == CliException.BAD_INPUT, line);
        }
        StringWriter w = new StringWriter();
        assertEquals(Main.FAILURE, Main.report(new OutOfMemoryError("Java heap space"), false, new PrintWriter(w)));
        assertTrue(w.toString().contains("out of memory") && w.toString().contains(HostMemory.JAVA_OPTS), w.toString());
    }

    /**
     * A failed write (a full disk; core's AtomicFilesTest makes one and checks the message names the
     * target, not the temp file, and leaves none) is bad input: one line, exit 2.
     */
    @Test
    void aFailedWriteIsBadInput() {
        Path target = dir.resolve("full/report.json");
        IOException e = new IOException("cannot write " + target + ": No space left on device");
        assertEquals(CliException.BAD_INPUT, Main.exitCode(e));
        StringWriter w = new StringWriter();
        Main.report(e, false, new PrintWriter(w));
        assertEquals("backprop4j: cannot write " + target + ": No space left on device", w.toString().strip());
    }

    // ---- class 6 ----

    @Test
    void everyOptionOfTrainEvalAndPredictHasARule() {
        CommandLine cl = Main.commandLine();
        assertEquals(java.util.Set.of(), OptionRules.missing(cl.getSubcommands().get("predict").getCommandSpec(),
                OptionRules.PREDICT));
        assertEquals(java.util.Set.of(), OptionRules.missing(cl.getSubcommands().get("train").getCommandSpec(), OptionRules.TRAIN));
        assertEquals(java.util.Set.of(), OptionRules.missing(cl.getSubcommands().get("eval").getCommandSpec(), OptionRules.EVAL));
    }

    @Test
    void learningRateOverridesTheCheckpointOnResume() throws IOException {
        Path ckpt = dir.resolve("lr.safetensors");
        assertEquals(0, CliTest.run("train", "--backend", "cpu", "--csv", csv.toString(), "--epochs", "1", "--no-progress",
                "--checkpoint", ckpt.toString()).code());
        CliTest.Result r = CliTest.run("train", "--backend", "cpu", "--resume", ckpt.toString(), "--epochs", "1",
                "--no-progress", "--lr", "0.0001");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("with --lr 1.0E-4 instead of the recorded 0.001"), r.out());
        assertEquals(1e-4f, Checkpoint.read(ckpt).training().orElseThrow().optimizer().learningRate());
    }
}
