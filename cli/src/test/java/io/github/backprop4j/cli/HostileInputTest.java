package io.github.backprop4j.cli;

import io.github.backprop4j.core.CheckpointFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hostile-user driver, in process: command lines and files a user should not have given (classes
 * 3 to 8 of issue 13), each run through the real command line with the cpu backend. Every case must
 * end within its time limit (no hang) with the expected exit code and one {@code backprop4j:} line on
 * stderr that contains the expected words, no stack trace; a run that succeeds must print no NaN.
 * The tally is printed at the end (tried / crashes / silent NaNs / stack traces / hangs).
 */
class HostileInputTest {

    @TempDir
    static Path dir;
    static Path csv, idx, csvCheckpoint, idxCheckpoint, regression, regressionCheckpoint;
    static final AtomicInteger tried = new AtomicInteger(), stackTraces = new AtomicInteger(), silentNaN = new AtomicInteger(),
            hangs = new AtomicInteger(), unexpected = new AtomicInteger();

    /** A command line, what to prepare, the expected exit code and words of the one-line error (none: success). */
    record Case(String name, int code, String expected, Consumer<Path> setup, String... args) {
    }

    @BeforeAll
    static void data() throws IOException {
        Random r = new Random(4);
        StringBuilder sb = new StringBuilder("a,b,c,d,label\n");
        for (int i = 0; i < 300; i++) {
            int c = i % 3;
            for (int j = 0; j < 4; j++) sb.append(5 * c + (j == c ? 2 : 0) + r.nextGaussian()).append(',');
            sb.append(c).append('\n');
        }
        csv = dir.resolve("blobs.csv");
        Files.writeString(csv, sb.toString());
        idx = dir.resolve("idx");
        writeIdx(idx, 240, 60, 4);
        csvCheckpoint = dir.resolve("csv.safetensors");
        idxCheckpoint = dir.resolve("idx.safetensors");
        assertEquals(0, CliTest.run("train", "--backend", "cpu", "--csv", csv.toString(), "--layers", "8", "--epochs", "1",
                "--no-progress", "--checkpoint", csvCheckpoint.toString()).code());
        assertEquals(0, CliTest.run("train", "--backend", "cpu", "--data", idx.toString(), "--layers", "8", "--epochs", "1",
                "--no-progress", "--checkpoint", idxCheckpoint.toString()).code());
        sb = new StringBuilder("x1,x2,x3,y\n");
        for (int i = 0; i < 120; i++) {
            double a = r.nextGaussian(), b = r.nextGaussian(), c = r.nextGaussian();
            sb.append(a).append(',').append(b).append(',').append(c).append(',').append(2 * a - b + 0.1 * c).append('\n');
        }
        regression = dir.resolve("regression.csv");
        Files.writeString(regression, sb.toString());
        regressionCheckpoint = dir.resolve("regression.safetensors");
        assertEquals(0, CliTest.run("train", "--backend", "cpu", "--csv", regression.toString(), "--layers", "8",
                "--epochs", "1", "--no-progress", "--checkpoint", regressionCheckpoint.toString()).code());
    }

    /** A tiny IDX data set: side×side images whose brightest pixel column is the class (3 classes). */
    static void writeIdx(Path dir, int train, int test, int side) throws IOException {
        Files.createDirectories(dir);
        Random r = new Random(9);
        for (String part : new String[] {"train", "t10k"}) {
            int n = part.equals("train") ? train : test;
            ByteBuffer images = ByteBuffer.allocate(16 + n * side * side).putInt(0x803).putInt(n).putInt(side).putInt(side);
            ByteBuffer labels = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
            for (int i = 0; i < n; i++) {
                int c = r.nextInt(3);
                for (int p = 0; p < side * side; p++) images.put((byte) (p % side == c ? 200 + r.nextInt(55) : r.nextInt(60)));
                labels.put((byte) c);
            }
            Files.write(dir.resolve(part + "-images-idx3-ubyte"), images.array());
            try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(dir.resolve(part + "-labels-idx1-ubyte.gz")))) {
                o.write(labels.array());
            }
        }
    }

    static Path file(String name, String text) {
        return bytes(name, text.getBytes(StandardCharsets.UTF_8));
    }

    static Path bytes(String name, byte[] b) {
        try {
            return Files.write(dir.resolve(name), b);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String p(String name) {
        return dir.resolve(name).toString();
    }

    static Case ok(String name, Consumer<Path> setup, String... args) {
        return new Case(name, 0, null, setup, args);
    }

    static Case bad(String name, int code, String expected, String... args) {
        return new Case(name, code, expected, d -> { }, args);
    }

    static Case bad(String name, int code, String expected, Consumer<Path> setup, String... args) {
        return new Case(name, code, expected, setup, args);
    }

    static String[] train(String... extra) {
        return merge(List.of("train", "--no-progress", "--backend", "cpu", "--epochs", "1", "--layers", "8",
                "--diagnostic-rows", "16"), extra);
    }

    static String[] trainCsv(String file, String... extra) {
        return merge(List.of(train("--csv", file, "--checkpoint", p("out-" + Math.abs(file.hashCode()) + ".safetensors"))),
                extra);
    }

    /** {@code base} (command, a flag, then option-value pairs) with the options in {@code extra} replacing its own. */
    static String[] merge(List<String> base, String... extra) {
        List<String> a = new ArrayList<>(base.subList(0, 2));
        List<String> given = List.of(extra);
        for (int i = 2; i + 1 < base.size(); i += 2)
            if (!given.contains(base.get(i))) {
                a.add(base.get(i));
                a.add(base.get(i + 1));
            }
        a.addAll(given);
        return a.toArray(String[]::new);
    }

    static byte[] gzip(byte[] b) {
        try {
            var out = new java.io.ByteArrayOutputStream();
            try (OutputStream o = new GZIPOutputStream(out)) {
                o.write(b);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A copy of the IDX directory with one file replaced. */
    static Consumer<Path> idxWith(String copy, String file, byte[] contents) {
        return d -> {
            try {
                Path to = dir.resolve(copy);
                Files.createDirectories(to);
                try (var files = Files.list(idx)) {
                    for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                Files.deleteIfExists(to.resolve(file.replace(".gz", "")));
                Files.deleteIfExists(to.resolve(file + (file.endsWith(".gz") ? "" : ".gz")));
                Files.write(to.resolve(file), contents);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    static byte[] idxHeader(int magic, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length).putInt(magic);
        for (int d : dims) b.putInt(d);
        return b.array();
    }

    static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        int BAD = CliException.BAD_INPUT;
        String ck = csvCheckpoint.toString(), ik = idxCheckpoint.toString();
        // ---- class 3: bounded reads, sizes, overflow ----
        c.add(bad("csv /dev/zero", BAD, "/dev/zero", trainCsv("/dev/zero")));
        c.add(bad("csv sparse 3 GB file of NULs", BAD, "sparse.csv", d -> {
            try (RandomAccessFile f = new RandomAccessFile(p("sparse.csv"), "rw")) {
                f.setLength(3L << 30);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, trainCsv(p("sparse.csv"))));
        c.add(bad("csv one endless line", BAD, "endless.csv", d -> file("endless.csv", "1,".repeat(700_000) + "0\n"),
                trainCsv(p("endless.csv"))));
        c.add(bad("csv one huge quoted cell", BAD, "cell.csv", d -> file("cell.csv", "1,\"" + "x".repeat(200_000) + "\"\n"),
                trainCsv(p("cell.csv"))));
        c.add(bad("csv unterminated quote", BAD, "quote.csv", d -> file("quote.csv", "1,2,0\n3,\"4,1\n" + "5,6,1\n".repeat(10)),
                trainCsv(p("quote.csv"))));
        c.add(bad("csv is a directory", BAD, "is a directory", trainCsv(dir.toString())));
        c.add(bad("csv does not exist", BAD, "does not exist", trainCsv(p("nope.csv"))));
        c.add(ok("batch 2^31-1", d -> { }, trainCsv(csv.toString(), "--batch", "2147483647")));
        c.add(ok("batch 10^9", d -> { }, trainCsv(csv.toString(), "--batch", "1000000000")));
        c.add(bad("batch 0", BAD, "--batch", trainCsv(csv.toString(), "--batch", "0")));
        c.add(bad("batch negative", BAD, "--batch", trainCsv(csv.toString(), "--batch", "-5")));
        c.add(bad("batch beyond int", BAD, "--batch", trainCsv(csv.toString(), "--batch", "9999999999")));
        c.add(bad("layer too wide for one matrix", BAD, "2^31", trainCsv(csv.toString(), "--layers", "2000000000")));
        c.add(bad("idx gzip bomb: more data than the header", BAD, "past the", idxWith("bomb", "t10k-images-idx3-ubyte.gz",
                gzip(concat(idxHeader(0x803, 60, 2, 2), new byte[50_000_000]))), train("--data", p("bomb"))));
        c.add(bad("idx header promising 2^31 values in 100 bytes of gzip", BAD, "gzip file can hold",
                idxWith("promise", "t10k-images-idx3-ubyte.gz", gzip(idxHeader(0x803, 60000, 6000, 6000))),
                train("--data", p("promise"))));
        c.add(bad("idx raw header promising more than the file", BAD, "truncated", idxWith("short", "t10k-images-idx3-ubyte",
                idxHeader(0x803, 100000, 28, 28)), train("--data", p("short"))));
        c.add(bad("idx dimension beyond 2^31", BAD, "beyond 2^31", idxWith("negative", "t10k-images-idx3-ubyte",
                idxHeader(0x803, -1, 28, 28)), train("--data", p("negative"))));
        c.add(bad("idx gzip that is not gzip", BAD, "gzip", idxWith("notgz", "t10k-images-idx3-ubyte.gz",
                "plain text".getBytes(StandardCharsets.UTF_8)), train("--data", p("notgz"))));
        c.add(bad("idx image file is a directory", BAD, "not a regular file", d -> {
            idxWith("dirimg", "t10k-labels-idx1-ubyte.gz", gzip(idxHeader(0x801, 0))).accept(d);
            try {
                Files.delete(dir.resolve("dirimg/t10k-images-idx3-ubyte"));
                Files.createDirectories(dir.resolve("dirimg/t10k-images-idx3-ubyte"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, train("--data", p("dirimg"))));
        c.add(bad("idx with zero images", BAD, "0 images", idxWith("empty", "t10k-images-idx3-ubyte",
                idxHeader(0x803, 0, 4, 4)), train("--data", p("empty"))));
        c.add(bad("checkpoint /dev/zero", BAD, "/dev/zero", "eval", "--backend", "cpu", "--checkpoint", "/dev/zero"));
        c.add(bad("checkpoint is a directory", BAD, "directory", "eval", "--backend", "cpu", "--checkpoint", dir.toString()));
        c.add(bad("checkpoint header length 2^63", BAD, "header length", d -> bytes("huge-header.safetensors",
                ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).array()),
                "eval", "--backend", "cpu", "--checkpoint", p("huge-header.safetensors")));
        // ---- class 4: NaN passed off as a result ----
        c.add(bad("lr 1e15 momentum diverges", Main.DIVERGED, "diverged", trainCsv(csv.toString(), "--optimizer", "momentum",
                "--lr", "1e15", "--epochs", "3", "--checkpoint", p("lr1e15.safetensors"))));
        c.add(bad("lr 1e30 sgd diverges", Main.DIVERGED, "diverged", trainCsv(csv.toString(), "--optimizer", "sgd", "--lr",
                "1e30", "--checkpoint", p("lr1e30.safetensors"))));
        c.add(bad("lr 3e38 adam diverges", Main.DIVERGED, "diverged", trainCsv(csv.toString(), "--lr", "3e38",
                "--checkpoint", p("lr3e38.safetensors"))));
        // ---- class 4b: a network left dead by the learning rate passed off as a result ----
        c.add(bad("lr 10 momentum kills every relu", Main.DIVERGED, "training collapsed in epoch 1: on 64 of the 64 training "
                + "rows checked every ReLU of a hidden layer is 0 (layer 1 on 42, layer 2 on 22), so the network gives "
                + "them at most 2 different outputs",
                trainCsv(csv.toString(), "--layers", "32,32", "--optimizer", "momentum", "--lr", "10", "--batch", "32",
                        "--epochs", "5", "--checkpoint", p("collapse-32.safetensors"))));
        c.add(bad("lr 10 momentum kills almost every relu", Main.DIVERGED, "training collapsed in epoch 1: on 61 of the 64 "
                + "training rows checked every ReLU of a hidden layer is 0 (layer 2 on 61)",
                trainCsv(csv.toString(), "--layers", "128,64", "--optimizer", "momentum", "--lr", "10", "--batch", "32",
                        "--epochs", "5", "--checkpoint", p("collapse-128.safetensors"))));
        c.add(bad("lr NaN", BAD, "--lr", trainCsv(csv.toString(), "--lr", "NaN")));
        c.add(bad("lr Infinity", BAD, "--lr", trainCsv(csv.toString(), "--lr", "Infinity")));
        c.add(bad("lr 0", BAD, "--lr", trainCsv(csv.toString(), "--lr", "0")));
        c.add(bad("momentum 1", BAD, "momentum", trainCsv(csv.toString(), "--optimizer", "momentum", "--momentum", "1")));
        c.add(bad("momentum NaN", BAD, "momentum", trainCsv(csv.toString(), "--optimizer", "nesterov", "--momentum", "NaN")));
        c.add(bad("weight decay -1", BAD, "weight decay", trainCsv(csv.toString(), "--optimizer", "adamw", "--weight-decay", "-1")));
        c.add(bad("checkpoint with a NaN weight", BAD, "layer0.weight holds NaN", d -> edit(csvCheckpoint, "nan.safetensors",
                t -> t.get("layer0.weight")[3] = Float.NaN), "eval", "--backend", "cpu", "--checkpoint", p("nan.safetensors")));
        c.add(bad("checkpoint with an infinite bias", BAD, "layer1.bias holds", d -> edit(csvCheckpoint, "inf.safetensors",
                t -> t.get("layer1.bias")[0] = Float.NEGATIVE_INFINITY), "eval", "--backend", "cpu", "--checkpoint",
                p("inf.safetensors")));
        c.add(bad("resume from an infinite optimizer slot", BAD, "layer0.weight.opt1 holds", d -> edit(csvCheckpoint,
                "slot.safetensors", t -> t.get("layer0.weight.opt1")[0] = Float.POSITIVE_INFINITY), "train", "--backend",
                "cpu", "--resume", p("slot.safetensors"), "--epochs", "1", "--no-progress"));
        c.add(bad("checkpoint whose outputs overflow", Main.DIVERGED, "diverges", d -> edit(csvCheckpoint, "huge.safetensors",
                t -> Arrays.fill(t.get("layer1.weight"), 3e38f)), "eval", "--backend", "cpu", "--checkpoint",
                p("huge.safetensors")));
        // ---- class 5: outputs checked before training, the checkpoint locked ----
        c.add(bad("checkpoint under a regular file", BAD, "--checkpoint", trainCsv(csv.toString(), "--checkpoint",
                csv + "/x.safetensors")));
        c.add(bad("checkpoint is a directory", BAD, "is a directory", trainCsv(csv.toString(), "--checkpoint", dir.toString())));
        c.add(bad("checkpoint is /dev/null", BAD, "not a regular file", trainCsv(csv.toString(), "--checkpoint", "/dev/null")));
        c.add(bad("checkpoint in /proc", BAD, "--checkpoint", trainCsv(csv.toString(), "--checkpoint", "/proc/x.safetensors")));
        c.add(bad("report is a directory", BAD, "--report", trainCsv(csv.toString(), "--report", dir.toString())));
        c.add(bad("report under a regular file", BAD, "--report", trainCsv(csv.toString(), "--report", csv + "/r.json")));
        c.add(bad("charts under a regular file", BAD, "--charts", trainCsv(csv.toString(), "--charts", csv + "/charts")));
        c.add(bad("report over the checkpoint", BAD, "is also the checkpoint", trainCsv(csv.toString(), "--checkpoint",
                p("same.safetensors"), "--report", p("same.safetensors"))));
        c.add(bad("report over the data", BAD, "is also the --csv data", trainCsv(csv.toString(), "--report", csv.toString())));
        c.add(bad("checkpoint over the data", BAD, "is also the --csv data", trainCsv(csv.toString(), "--checkpoint",
                csv.toString())));
        c.add(bad("eval report over the checkpoint", BAD, "is also the checkpoint", "eval", "--backend", "cpu", "--checkpoint",
                ck, "--report", ck));
        c.add(bad("resume from a pipe", BAD, "not a regular file", "train", "--backend", "cpu", "--resume", "/dev/stdin"));
        c.add(bad("eval report is /dev/null", BAD, "--report", "eval", "--backend", "cpu", "--checkpoint", ck, "--report",
                "/dev/null"));
        c.add(bad("idx checkpoint on a CSV of values above 255", BAD, "outside 0..255", d -> file("bright.csv",
                "1,".repeat(15) + "300,0\n" + ("4,".repeat(16) + "1\n").repeat(20) + "4,".repeat(16) + "2\n"), "eval", "--backend", "cpu", "--checkpoint", ik,
                "--csv", p("bright.csv"), "--all-rows"));
        c.add(bad("csv checkpoint on idx data of other width", BAD, "features", "eval", "--backend", "cpu", "--checkpoint", ck,
                "--data", idx.toString()));
        // ---- class 6: options a run would not use ----
        c.add(bad("--data with --csv", BAD, "--data cannot be combined with --csv", trainCsv(csv.toString(), "--data",
                idx.toString())));
        c.add(bad("--momentum with adam", BAD, "--momentum applies to", trainCsv(csv.toString(), "--momentum", "0.5")));
        c.add(bad("--momentum with sgd", BAD, "--momentum applies to", trainCsv(csv.toString(), "--optimizer", "sgd",
                "--momentum", "0.5")));
        c.add(bad("--weight-decay with adam", BAD, "--weight-decay applies to", trainCsv(csv.toString(), "--weight-decay", "0.1")));
        c.add(bad("--label-column with idx", BAD, "--label-column applies to CSV", train("--data", idx.toString(),
                "--label-column", "2", "--checkpoint", p("lc.safetensors"))));
        c.add(bad("--test-fraction with idx", BAD, "--test-fraction applies to CSV", train("--data", idx.toString(),
                "--test-fraction", "0.3", "--checkpoint", p("tf.safetensors"))));
        for (String[] o : new String[][] {{"--layers", "16"}, {"--activation", "tanh"}, {"--optimizer", "sgd"},
                {"--batch", "64"}, {"--seed", "3"}, {"--momentum", "0.8"}, {"--weight-decay", "0.1"}, {"--task", "regress"},
                {"--lr-schedule", "cosine"}, {"--warmup", "10"}, {"--dropout", "0.2"}, {"--clip-norm", "1"},
                {"--validation-fraction", "0.1"}, {"--early-stopping", "3"}})
            c.add(bad("--resume with " + o[0], BAD, o[0] + " does not apply with --resume", "train", "--backend", "cpu",
                    "--resume", ck, "--checkpoint", p("resumed.safetensors"), "--no-progress", o[0], o[1]));
        c.add(bad("eval --all-rows with idx", BAD, "--all-rows applies to CSV", "eval", "--backend", "cpu", "--checkpoint", ik,
                "--all-rows"));
        c.add(bad("eval --test-fraction with --all-rows", BAD, "--test-fraction applies", "eval", "--backend", "cpu",
                "--checkpoint", ck, "--all-rows", "--test-fraction", "0.5"));
        c.add(bad("eval --data with --csv", BAD, "--data cannot", "eval", "--backend", "cpu", "--checkpoint", ck, "--csv",
                csv.toString(), "--data", idx.toString()));
        c.add(bad("epochs 0", BAD, "--epochs", trainCsv(csv.toString(), "--epochs", "0")));
        c.add(bad("diagnostic rows -1", BAD, "--diagnostic-rows", trainCsv(csv.toString(), "--diagnostic-rows", "-1")));
        c.add(bad("loss check interval 0", BAD, "--loss-check-interval", trainCsv(csv.toString(), "--loss-check-interval", "0")));
        c.add(bad("label column -2", BAD, "--label-column", trainCsv(csv.toString(), "--label-column", "-2")));
        c.add(bad("test fraction 1", BAD, "--test-fraction", trainCsv(csv.toString(), "--test-fraction", "1")));
        c.add(bad("test fraction NaN", BAD, "--test-fraction", trainCsv(csv.toString(), "--test-fraction", "NaN")));
        c.add(bad("layers with an empty entry", BAD, "--layers", trainCsv(csv.toString(), "--layers", "8,,4")));
        c.add(bad("layers negative", BAD, "--layers", trainCsv(csv.toString(), "--layers", "-3")));
        c.add(bad("unknown activation", BAD, "activation", trainCsv(csv.toString(), "--activation", "swish")));
        c.add(bad("unknown optimizer", BAD, "optimizer", trainCsv(csv.toString(), "--optimizer", "lbfgs")));
        c.add(bad("unknown backend", Main.BACKEND_ERROR, "nosuch", trainCsv(csv.toString(), "--backend", "nosuch")));
        c.add(bad("tf32 on cpu", Main.BACKEND_ERROR, "tf32", trainCsv(csv.toString(), "--precision", "tf32")));
        c.add(bad("unknown precision", BAD, "precision", trainCsv(csv.toString(), "--precision", "fp8")));
        // ---- issue 16: tasks, target columns, validation, schedules, dropout, clipping, predict ----
        String rk = regressionCheckpoint.toString(), rc = regression.toString();
        c.add(bad("--task with idx", BAD, "--task applies to CSV", train("--data", idx.toString(), "--task", "classify",
                "--checkpoint", p("task-idx.safetensors"))));
        c.add(bad("unknown task", BAD, "unknown task 'ranking'", trainCsv(csv.toString(), "--task", "ranking")));
        c.add(bad("--label-column with --target-columns", BAD, "give one", trainCsv(csv.toString(), "--label-column", "4",
                "--target-columns", "4")));
        c.add(bad("--target-columns not a number", BAD, "--target-columns", trainCsv(csv.toString(), "--target-columns", "y")));
        c.add(bad("target column named twice", BAD, "named twice", trainCsv(rc, "--target-columns", "3,-1")));
        c.add(bad("target column out of range", BAD, "out of range", trainCsv(rc, "--target-columns", "2,7")));
        c.add(bad("every column a target", BAD, "no feature column", trainCsv(rc, "--target-columns", "0,1,2,3")));
        c.add(bad("classify with two target columns", BAD, "takes one label column", trainCsv(rc, "--task", "classify",
                "--target-columns", "2,3")));
        c.add(bad("binary on three classes", BAD, "exactly 2 classes", trainCsv(csv.toString(), "--task", "binary")));
        c.add(bad("regress on text labels", BAD, "regression targets are numbers", d -> file("text-y.csv",
                "1,2,a\n3,4,b\n5,6,a\n7,8,b\n9,1,a\n"), trainCsv(p("text-y.csv"), "--task", "regress")));
        c.add(bad("regress on a constant target", BAD, "nothing to learn", d -> file("const-y.csv",
                "a,y\n1,2.5\n3,2.5\n5,2.5\n7,2.5\n9,2.5\n"), trainCsv(p("const-y.csv"), "--task", "regress")));
        c.add(bad("regression target beyond float", BAD, "float range", d -> file("big-y.csv", "a,y\n1,2.5\n3,1e39\n"),
                trainCsv(p("big-y.csv"))));
        c.add(ok("regression inferred", d -> { }, trainCsv(rc)));
        c.add(ok("binary from text labels", d -> file("yes-no.csv", "a,b,answer\n" + "1,2,yes\n3,1,no\n".repeat(10)),
                trainCsv(p("yes-no.csv"), "--task", "binary")));
        c.add(bad("validation fraction 0", BAD, "--validation-fraction", trainCsv(csv.toString(), "--validation-fraction", "0")));
        c.add(bad("validation fraction NaN", BAD, "--validation-fraction", trainCsv(csv.toString(), "--validation-fraction",
                "NaN")));
        c.add(bad("early stopping without validation", BAD, "--validation-fraction", trainCsv(csv.toString(),
                "--early-stopping", "3")));
        c.add(bad("early stopping 0", BAD, "--early-stopping must be >= 1", trainCsv(csv.toString(), "--early-stopping", "0",
                "--validation-fraction", "0.1")));
        c.add(bad("unknown schedule", BAD, "unknown --lr-schedule 'linear'", trainCsv(csv.toString(), "--lr-schedule",
                "linear")));
        c.add(bad("step schedule without a period", BAD, "step needs its period", trainCsv(csv.toString(), "--lr-schedule",
                "step")));
        c.add(bad("step schedule period 0", BAD, "N must be >= 1", trainCsv(csv.toString(), "--lr-schedule", "step:0")));
        c.add(bad("step schedule gamma 2", BAD, "gamma", trainCsv(csv.toString(), "--lr-schedule", "step:10:2")));
        c.add(bad("step schedule gamma NaN", BAD, "not a finite number", trainCsv(csv.toString(), "--lr-schedule",
                "step:10:NaN")));
        c.add(bad("cosine minimum negative", BAD, "minimum", trainCsv(csv.toString(), "--lr-schedule", "cosine:100:-1")));
        c.add(bad("cosine minimum above the rate", BAD, "exceeds", trainCsv(csv.toString(), "--lr-schedule", "cosine:100:1")));
        c.add(bad("cosine shorter than its warm-up", BAD, "--warmup 50", trainCsv(csv.toString(), "--lr-schedule", "cosine:20",
                "--warmup", "50")));
        c.add(bad("constant with a value", BAD, "constant takes no values", trainCsv(csv.toString(), "--lr-schedule",
                "constant:3")));
        c.add(bad("warmup negative", BAD, "--warmup", trainCsv(csv.toString(), "--warmup", "-1")));
        c.add(ok("warm-up alone, step schedule", d -> { }, trainCsv(csv.toString(), "--warmup", "5", "--lr-schedule",
                "step:3:0.5")));
        c.add(bad("dropout 1", BAD, "[0, 1)", trainCsv(csv.toString(), "--dropout", "1")));
        c.add(bad("dropout NaN", BAD, "[0, 1)", trainCsv(csv.toString(), "--dropout", "NaN")));
        c.add(bad("dropout not a number", BAD, "not a number", trainCsv(csv.toString(), "--dropout", "half")));
        c.add(bad("dropout per layer count", BAD, "3 values for 1 hidden layers", trainCsv(csv.toString(), "--dropout",
                "0.1,0.2,0.3")));
        c.add(bad("dropout without hidden layers", BAD, "has none", trainCsv(csv.toString(), "--dropout", "0.1", "--layers",
                "none")));
        c.add(bad("clip norm 0", BAD, "--clip-norm", trainCsv(csv.toString(), "--clip-norm", "0")));
        c.add(bad("clip norm infinite", BAD, "--clip-norm", trainCsv(csv.toString(), "--clip-norm", "Infinity")));
        c.add(ok("gelu, gelu-tanh, dropout, clipping", d -> { }, trainCsv(csv.toString(), "--activation", "gelu-tanh",
                "--dropout", "0.5", "--clip-norm", "0.1")));
        c.add(ok("eval of a regression on constant targets: R² n/a, not NaN", d -> file("flat-y.csv",
                "x1,x2,x3,y\n1,2,3,5\n2,3,4,5\n3,1,2,5\n"), "eval", "--backend", "cpu", "--checkpoint", rk, "--csv",
                p("flat-y.csv"), "--all-rows"));
        c.add(bad("eval of a regression checkpoint on idx", BAD, "class labels", "eval", "--backend", "cpu", "--checkpoint",
                rk, "--data", idx.toString()));
        c.add(bad("predict without rows", BAD, "--csv FILE or --data IDX", "predict", "--backend", "cpu", "--checkpoint", rk,
                "--output", p("pred.csv")));
        c.add(bad("predict without --output", BAD, "--output", "predict", "--checkpoint", rk, "--csv", rc));
        c.add(bad("predict --data with --csv", BAD, "--data cannot be combined with --csv", "predict", "--backend", "cpu",
                "--checkpoint", rk, "--csv", rc, "--data", idx.toString(), "--output", p("pred.csv")));
        c.add(bad("predict output is a directory", BAD, "--output", "predict", "--backend", "cpu", "--checkpoint", rk,
                "--csv", rc, "--output", dir.toString()));
        c.add(bad("predict output over the checkpoint", BAD, "is also the checkpoint", "predict", "--backend", "cpu",
                "--checkpoint", rk, "--csv", rc, "--output", rk));
        c.add(bad("predict output over the data", BAD, "is also the --csv data", "predict", "--backend", "cpu",
                "--checkpoint", rk, "--csv", rc, "--output", rc));
        c.add(bad("predict csv of the wrong width", BAD, "give all 4 columns, or the 3 feature columns alone", d -> file(
                "wide.csv", "1,2,3,4,5\n"), "predict", "--backend", "cpu", "--checkpoint", rk, "--csv", p("wide.csv"),
                "--output", p("pred.csv")));
        c.add(bad("predict csv with a bad cell", BAD, "cell2.csv:2: column 1", d -> file("cell2.csv", "1,2,3\n4,,6\n"),
                "predict", "--backend", "cpu", "--checkpoint", rk, "--csv", p("cell2.csv"), "--output", p("pred.csv")));
        c.add(bad("predict csv with a NaN feature", BAD, "nan-feature.csv:1: column 0", d -> file("nan-feature.csv",
                "NaN,2,3\n"), "predict", "--backend", "cpu", "--checkpoint", rk, "--csv", p("nan-feature.csv"),
                "--output", p("pred.csv")));
        c.add(bad("predict idx data that does not exist", BAD, "does not exist", "predict", "--backend", "cpu",
                "--checkpoint", ik, "--data", p("no-images"), "--output", p("pred.csv")));
        c.add(bad("predict idx images on a csv checkpoint", BAD, "features per row", "predict", "--backend", "cpu",
                "--checkpoint", ck, "--data", idx.toString(), "--output", p("pred.csv")));
        c.add(bad("predict a checkpoint whose outputs overflow", Main.DIVERGED, "overflow", "predict", "--backend", "cpu",
                "--checkpoint", p("huge.safetensors"), "--csv", csv.toString(), "--output", p("pred.csv")));
        c.add(ok("predict idx directory", d -> { }, "predict", "--backend", "cpu", "--checkpoint", ik, "--data",
                idx.toString(), "--output", p("pred-idx.csv")));
        c.add(ok("predict idx images file", d -> { }, "predict", "--backend", "cpu", "--checkpoint", ik, "--data",
                idx.resolve("t10k-images-idx3-ubyte").toString(), "--output", p("pred-idx2.csv")));
        // ---- class 7: data read as the README says ----
        c.add(bad("empty cell in row 1 is data, not a header", BAD, "empty.csv:1: column 1", d -> file("empty.csv",
                "1,,3,0\n4,5,6,1\n7,8,9,0\n"), trainCsv(p("empty.csv"))));
        c.add(bad("NaN in row 1 is data, not a header", BAD, "nan1.csv:1: column 0", d -> file("nan1.csv",
                "NaN,2,0\n4,5,1\n7,8,0\n"), trainCsv(p("nan1.csv"))));
        c.add(bad("inf in a later row", BAD, "inf.csv:3", d -> file("inf.csv", "1,2,0\n4,5,1\n-inf,8,0\n"),
                trainCsv(p("inf.csv"))));
        c.add(bad("single class", BAD, "at least 2 classes", d -> file("one.csv", "1,2,a\n3,4,a\n5,6,a\n7,8,a\n"),
                trainCsv(p("one.csv"))));
        c.add(bad("single integer class", BAD, "at least 2 classes", d -> file("one-id.csv", "1,2,3\n3,4,3\n5,6,3\n"),
                trainCsv(p("one-id.csv"))));
        c.add(bad("an identifier column as label", BAD, "distinct labels", d -> {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 100; i++) sb.append(i).append(',').append(i % 7).append(",id").append(i).append('\n');
            file("ids.csv", sb.toString());
        }, trainCsv(p("ids.csv"))));
        c.add(bad("numeric header over integer labels", BAD, "header", d -> file("numhead.csv",
                "1,2,label\n" + "0.5,0.7,0\n0.1,0.9,1\n".repeat(10)), trainCsv(p("numhead.csv"))));
        c.add(bad("UTF-16 file", BAD, "UTF-16", d -> bytes("u16.csv", concat(new byte[] {(byte) 0xFF, (byte) 0xFE},
                "a,b\n1,0\n".getBytes(StandardCharsets.UTF_16LE))), trainCsv(p("u16.csv"))));
        c.add(bad("binary file as CSV", BAD, "UTF-8", d -> bytes("bin.csv", new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF,
                (byte) 0xFE, 0, 1, 2}), trainCsv(p("bin.csv"))));
        c.add(bad("one column", BAD, "at least 2 columns", d -> file("col.csv", "1\n2\n3\n"), trainCsv(p("col.csv"))));
        c.add(bad("semicolons", BAD, "separator", d -> file("semi.csv", "1;2;0\n3;4;1\n"), trainCsv(p("semi.csv"))));
        c.add(bad("only a header", BAD, "only the header", d -> file("head.csv", "a,b,label\n"), trainCsv(p("head.csv"))));
        c.add(bad("empty file", BAD, "no data rows", d -> file("nothing.csv", ""), trainCsv(p("nothing.csv"))));
        c.add(bad("ragged rows", BAD, "ragged.csv:3", d -> file("ragged.csv", "1,2,0\n3,4,1\n5,0\n"), trainCsv(p("ragged.csv"))));
        c.add(bad("hex float", BAD, "not a number", d -> file("hex.csv", "1,2,0\n0x1p3,4,1\n"), trainCsv(p("hex.csv"))));
        c.add(bad("beyond float range", BAD, "float range", d -> file("big.csv", "1,2,0\n1e39,4,1\n"), trainCsv(p("big.csv"))));
        c.add(bad("NaN label", BAD, "missing value", d -> file("nanlabel.csv", "1,2,0\n3,4,NaN\n"), trainCsv(p("nanlabel.csv"))));
        c.add(bad("label column out of range", BAD, "out of range", trainCsv(csv.toString(), "--label-column", "9")));
        c.add(bad("too few rows to split", BAD, "too few", d -> file("two.csv", "1,2,0\n3,4,1\n"), trainCsv(p("two.csv"))));
        c.add(ok("BOM, CRLF and RFC 4180 quotes", d -> {
            StringBuilder sb = new StringBuilder("\uFEFF\"x, first\",\"y \"\"second\"\"\",city\r\n");
            for (int i = 0; i < 40; i++)
                sb.append(i % 2 == 0 ? "\"1.5\"," : "-2,").append(i).append(',').append(i % 2 == 0 ? "\"New York, NY\"" : "Oslo")
                        .append("\r\n");
            file("rfc.csv", sb.toString());
        }, trainCsv(p("rfc.csv"))));
        // ---- class 8: messages ----
        c.add(bad("unknown option", BAD, "Unknown option: '--bogus'", "train", "--bogus"));
        c.add(bad("mistyped option", BAD, "did you mean", "train", "--layer", "8"));
        c.add(bad("missing value", BAD, "--epochs", "train", "--epochs"));
        c.add(bad("not a number", BAD, "--epochs", "train", "--epochs", "many"));
        c.add(bad("eval without --checkpoint", BAD, "--checkpoint", "eval"));
        c.add(bad("unknown command", BAD, "fit", "fit"));
        c.add(bad("bench bad size", BAD, "gemm size", "bench", "--gemm-sizes", "big"));
        c.add(bad("bench anchor /dev/zero", BAD, "regular file", "bench", "--backends", "cpu", "--gemm-sizes", "64",
                "--configs", "none", "--anchor", "/dev/zero", "--out", p("bench-anchor")));
        c.add(bad("bench anchor of 20 MB", BAD, "far too large", d -> bytes("huge-anchor.json", new byte[20 << 20]), "bench",
                "--backends", "cpu", "--gemm-sizes", "64", "--configs", "none", "--anchor", p("huge-anchor.json"), "--out",
                p("bench-anchor")));
        c.add(bad("bench --out /dev/null", BAD, "--out /dev/null", "bench", "--backends", "cpu", "--gemm-sizes", "64",
                "--configs", "none", "--out", "/dev/null"));
        c.add(bad("epochs past 2^31 on resume", BAD, "--epochs", "train", "--backend", "cpu", "--resume", csvCheckpoint.toString(),
                "--checkpoint", p("ep.safetensors"), "--epochs", "2147483647"));
        c.add(bad("missing data directory", BAD, "does not exist", train("--data", p("no-such-dir"), "--checkpoint",
                p("m.safetensors"))));
        c.add(bad("data directory is a file", BAD, "not a directory", train("--data", csv.toString(), "--checkpoint",
                p("m2.safetensors"))));
        c.add(bad("resume missing", BAD, "does not exist", "train", "--backend", "cpu", "--resume", p("none.safetensors")));
        return c;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** A re-checksummed copy of {@code from} with its tensors edited. */
    static void edit(Path from, String to, Consumer<Map<String, float[]>> change) {
        try {
            CheckpointFiles.Contents c = CheckpointFiles.read(from);
            change.accept(c.tensors());
            CheckpointFiles.write(dir.resolve(to), c);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @TestFactory
    List<DynamicTest> hostileInputs() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Case c : cases())
            tests.add(DynamicTest.dynamicTest(c.name(), () -> {
                tried.incrementAndGet();
                c.setup().accept(dir);
                CliTest.Result r;
                try {
                    r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> CliTest.run(c.args()), c.name() + " hung");
                } catch (org.opentest4j.AssertionFailedError e) {
                    if (e.getMessage() != null && e.getMessage().contains("hung")) hangs.incrementAndGet();
                    throw e;
                }
                String err = r.err().strip();
                if (err.contains("\tat ") || err.contains("Exception:")) stackTraces.incrementAndGet();
                if (r.code() == 0 && (r.out().contains("NaN") || r.out().contains("Infinity"))) silentNaN.incrementAndGet();
                if (r.code() != c.code()) unexpected.incrementAndGet();
                assertEquals(c.code(), r.code(), c.name() + ": " + err + "\n" + r.out());
                if (c.expected() == null) {
                    assertFalse(r.out().contains("NaN"), r.out());
                    return;
                }
                assertEquals(1, err.lines().count(), c.name() + ": one line expected:\n" + err);
                assertTrue(err.startsWith("backprop4j: "), err);
                assertTrue(err.contains(c.expected()), c.name() + ": '" + err + "' should contain '" + c.expected() + "'");
                assertFalse(err.contains(": null") || err.endsWith("null"), err);
                assertFalse(err.contains(".tmp"), "names a temp file: " + err);
            }));
        return tests;
    }

    @AfterAll
    static void tally() {
        System.out.printf("hostile inputs (cli, in process): %d tried, 0 JVM crashes, %d silent NaNs, %d stack traces, "
                + "%d hangs, %d unexpected exit codes%n", tried.get(), silentNaN.get(), stackTraces.get(), hangs.get(),
                unexpected.get());
    }
}
