package io.github.backprop4j.cli;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.CheckpointFiles;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Task;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutated IDX, gzip IDX, CSV and checkpoint files (fixed seed, {@value #MUTATIONS} per format: byte
 * flips, overwritten runs, truncation, appended junk, and the empty file). Each must either parse
 * into valid data or be rejected with a {@link CliException} (the CLI's readers) or an IOException (the
 * library's checkpoint reader) naming the file; a checkpoint must never
 * load unless it is exactly the one written. Any other exception is a parser bug.
 */
class FuzzTest {

    static final int MUTATIONS = 300;

    @TempDir
    Path dir;

    /** What a fuzz run saw; printed so that the counts show in the build log. */
    record Tally(String format, int tried, int rejected, int parsed, List<String> bugs) {
        String line() {
            return String.format("fuzz %-10s: %d mutated files, %d rejected with a clear error, %d parsed as valid data,"
                    + " %d other exceptions or corrupt files accepted", format, tried, rejected, parsed, bugs.size());
        }
    }

    /** One mutation of {@code original}: kind by index so every kind is tried ~60 times. */
    static byte[] mutate(byte[] original, Random rng, int i) {
        if (i == 0) return new byte[0];
        byte[] b = original.clone();
        switch (i % 5) {
            case 0 -> b[rng.nextInt(b.length)] ^= (byte) (1 + rng.nextInt(255));
            case 1 -> {
                for (int k = 0, n = 2 + rng.nextInt(7); k < n; k++) b[rng.nextInt(b.length)] ^= (byte) (1 + rng.nextInt(255));
            }
            case 2 -> b = Arrays.copyOf(b, rng.nextInt(b.length));
            case 3 -> {
                byte[] junk = new byte[1 + rng.nextInt(64)];
                rng.nextBytes(junk);
                b = Arrays.copyOf(b, b.length + junk.length);
                System.arraycopy(junk, 0, b, original.length, junk.length);
            }
            default -> {
                int at = rng.nextInt(b.length), len = Math.min(1 + rng.nextInt(16), b.length - at);
                byte[] run = new byte[len];
                rng.nextBytes(run);
                System.arraycopy(run, 0, b, at, len);
            }
        }
        return b;
    }

    /**
     * Runs {@code load} on every mutation; {@code check} returns null for a valid result or says what is
     * wrong with it. A CliException must name the file.
     */
    Tally fuzz(String format, byte[] original, long seed, String suffix, Function<Path, String> loadAndCheck)
            throws IOException {
        Random rng = new Random(seed);
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < MUTATIONS; i++) files.add(mutate(original, rng, i));
        Tally t = fuzzAll(format, files, suffix, loadAndCheck);
        assertEquals(MUTATIONS, t.rejected() + t.parsed());
        return t;
    }

    @Test
    void idx() throws IOException {
        byte[] images = IdxTest.images(20, 4, 4);
        fuzz("idx3", images, 11, "", f -> {
            try {
                Idx.Array a = Idx.parse(f.toString(), Files.readAllBytes(f), 3);
                return a.count() * a.itemSize() == a.data().length ? null : "dimensions do not match the data";
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        fuzz("idx1", IdxTest.labels(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 12, "", f -> {
            Idx.Array a = Idx.read(f, 1);
            return a.data().length == a.count() ? null : "label count does not match the data";
        });
    }

    @Test
    void gzippedIdx() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream o = new GZIPOutputStream(bytes)) {
            o.write(IdxTest.images(20, 4, 4));
        }
        fuzz("idx3-gz", bytes.toByteArray(), 13, ".gz", f -> {
            Idx.Array a = Idx.read(f, 3);
            return a.count() * a.itemSize() == a.data().length ? null : "dimensions do not match the data";
        });
    }

    @Test
    void csv() throws IOException {
        Random r = new Random(3);
        StringBuilder named = new StringBuilder("a,b,c,kind\n"), numbered = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            named.append(r.nextInt(100)).append(',').append(r.nextGaussian()).append(',').append(-r.nextInt(9))
                    .append(',').append(i % 2 == 0 ? "cat" : "dog").append('\n');
            numbered.append(r.nextGaussian()).append(',').append(r.nextInt(1000)).append(',').append(i % 3).append('\n');
        }
        Function<Path, String> load = f -> {
            Data.Loaded d = Data.csv(f, -1, 0.2, 1, Data.Use.TRAINING, Data.Recorded.NONE);
            return d.train() != null && d.test().rows() > 0 && (d.task() == Task.REGRESS || d.classes().size() >= 2) ? null : "empty split";
        };
        fuzz("csv-header", named.toString().getBytes(), 14, ".csv", load);
        fuzz("csv-ids", numbered.toString().getBytes(), 15, ".csv", load);
    }

    @Test
    void checkpoint() throws IOException {
        Path good = dir.resolve("good.safetensors");
        Network net = Network.input(6).dense(8, Activation.RELU).output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, net, 1);
             Trainer t = new Trainer(model, Optimizer.adam(0.01f), 4, 5)) {
            t.fit(Dataset.classification(new float[12], 6, new int[]{0, 2}, 3), 2);
            model.setNormalization(Normalization.standardize(new float[]{0, 1, 2, 3, 4, 5}, new float[]{1, 1, 2, 2, 3, 3}));
            model.setClassNames(List.of("a", "b", "c"));
            t.save(good, SavedRun.metadata(TrainCommand.JSON.createObjectNode().put("kind", "csv").put("file", "x.csv"),
                    TrainCommand.JSON.createArrayNode()));
        }
        byte[] original = Files.readAllBytes(good);
        CheckpointFiles.Contents expected = CheckpointFiles.read(good);
        Checkpoint.read(good);   // the unmutated file loads
        fuzz("checkpoint", original, 16, ".safetensors", f -> {
            read(f);
            return CheckpointFiles.same(expected, contents(f)) ? null : "a checkpoint that differs from the one written";
        });
    }

    /**
     * IDX headers with random dimensions (zero, negative, beyond 2^31 in product, huge) over bodies of
     * random length, raw and gzip (where the body may be far longer than promised: a small bomb). The
     * bounded reader must reject or parse each without allocating what a header merely promises.
     */
    @Test
    void idxHeadersPromisingAnything() throws IOException {
        Random rng = new Random(21);
        int[] sizes = {0, 1, 2, 3, 28, 255, 60000, 65536, 1 << 20, Integer.MAX_VALUE, -1, Integer.MIN_VALUE};
        for (boolean gzip : new boolean[] {false, true}) {
            List<byte[]> files = new ArrayList<>();
            for (int i = 0; i < MUTATIONS; i++) {
                int rank = 1 + rng.nextInt(4);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 * rank).putInt(0x800 | (rng.nextInt(8) == 0 ? 2 : 3));
                for (int d = 0; d < rank; d++) b.putInt(rng.nextBoolean() ? sizes[rng.nextInt(sizes.length)] : rng.nextInt(64));
                byte[] body = new byte[rng.nextInt(8) == 0 ? 3_000_000 : rng.nextInt(300)];
                byte[] raw = Arrays.copyOf(b.array(), b.capacity() + body.length);
                if (!gzip) {
                    files.add(raw);
                    continue;
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (OutputStream o = new GZIPOutputStream(out)) {
                    o.write(raw);
                }
                files.add(out.toByteArray());
            }
            fuzzAll(gzip ? "idx-head-gz" : "idx-head", files, gzip ? ".gz" : "", f -> {
                Idx.Array a = Idx.read(f, 3);
                return (long) a.count() * a.itemSize() == a.data().length ? null : "dimensions do not match the data";
            });
        }
    }

    /**
     * Checkpoints whose header numbers (shapes, data_offsets) are replaced by random ones: zero,
     * negative, past 2^31 and 2^63, beyond the file. Each must be rejected with the file's name before
     * anything that large is allocated.
     */
    @Test
    void checkpointHeadersWithOddNumbers() throws IOException {
        Path good = dir.resolve("odd.safetensors");
        Network net = Network.input(3).dense(4, Activation.TANH).output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, net, 1);
             Trainer t = new Trainer(model, Optimizer.momentum(0.01f, 0.9f), 4, 5)) {
            model.setNormalization(Normalization.pixels());
            model.setClassNames(List.of("a", "b"));
            t.save(good, SavedRun.metadata(TrainCommand.JSON.createObjectNode().put("kind", "idx").put("dir", "/d"),
                    TrainCommand.JSON.createArrayNode()));
        }
        byte[] original = Files.readAllBytes(good);
        long n = java.nio.ByteBuffer.wrap(original).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(original, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(original, (int) (8 + n), original.length);
        String[] numbers = {"0", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807",
                "99999999999999999999", "1e9", "3.5", "-9223372036854775808", "536870912"};
        java.util.regex.Pattern digits = java.util.regex.Pattern.compile("(?<=[\\[,])\\d+(?=[\\],])");
        Random rng = new Random(22);
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < MUTATIONS; i++) {
            java.util.regex.Matcher m = digits.matcher(header);
            StringBuilder sb = new StringBuilder();
            while (m.find()) m.appendReplacement(sb, rng.nextInt(4) == 0 ? numbers[rng.nextInt(numbers.length)] : m.group());
            m.appendTail(sb);
            byte[] h = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(8 + h.length + data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            f.putLong(h.length).put(h).put(data);
            files.add(f.array());
        }
        CheckpointFiles.Contents expected = CheckpointFiles.read(good);
        fuzzAll("ckpt-numbers", files, ".safetensors", f -> {
            read(f);
            return CheckpointFiles.same(expected, contents(f)) ? null : "a checkpoint that differs from the one written";
        });
    }

    /**
     * CSV files assembled from hostile cells: quotes with commas and line breaks, a BOM, CRLF, empty,
     * NaN and infinite cells, numbers out of float range, hex floats, long text, stray separators.
     */
    @Test
    void csvFromHostileCells() throws IOException {
        String[] cells = {"1", "-2.5", "3e2", "\"4\"", "\"5,5\"", "\"a\"\"b\"", "", "NaN", "-inf", "1e39", "0x1p3", "abc",
                "\"multi\nline\"", " 7 ", "\uFEFF8", "x".repeat(100), "\"", "1,2", "+9", ".5", "5."};
        Random rng = new Random(23);
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < MUTATIONS; i++) {
            StringBuilder sb = new StringBuilder(rng.nextInt(10) == 0 ? "\uFEFF" : "");
            int width = 2 + rng.nextInt(3), rows = 3 + rng.nextInt(30);
            String eol = rng.nextBoolean() ? "\n" : "\r\n";
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < width; c++) {
                    boolean clean = rng.nextInt(6) != 0;
                    sb.append(clean ? Integer.toString(c == width - 1 ? r % 2 : rng.nextInt(50))
                            : cells[rng.nextInt(cells.length)]);
                    if (c < width - 1) sb.append(',');
                }
                sb.append(eol);
            }
            files.add(sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        fuzzAll("csv-cells", files, ".csv", f -> {
            Data.Loaded d = Data.csv(f, -1, 0.2, 1, Data.Use.TRAINING, Data.Recorded.NONE);
            return d.train() != null && d.test().rows() > 0 && (d.task() == Task.REGRESS || d.classes().size() >= 2) ? null : "empty split";
        });
    }

    /**
     * Runs {@code loadAndCheck} on every file; it returns null for a valid result or says what is wrong
     * with it. A CliException or a refused checkpoint must name the file; anything else is a bug.
     */
    Tally fuzzAll(String format, List<byte[]> files, String suffix, Function<Path, String> loadAndCheck)
            throws IOException {
        int rejected = 0, parsed = 0;
        List<String> bugs = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            Path file = dir.resolve(format + "-" + i + suffix);
            Files.write(file, files.get(i));
            try {
                String problem = loadAndCheck.apply(file);
                if (problem == null) parsed++;
                else bugs.add("file " + i + ": accepted: " + problem);
            } catch (CliException | Rejected e) {
                if (e.getMessage() == null || !e.getMessage().contains(file.toString()))
                    bugs.add("file " + i + ": message does not name the file: " + e.getMessage());
                else rejected++;
            } catch (Throwable e) {
                bugs.add("file " + i + ": " + e);
            }
            Files.delete(file);
        }
        Tally t = new Tally(format, files.size(), rejected, parsed, bugs);
        System.out.println(t.line());
        assertTrue(bugs.isEmpty(), t.line() + ":\n" + String.join("\n", bugs));
        return t;
    }

    /** A checkpoint the library refused: its IOException, carried through the loader functions. */
    static final class Rejected extends RuntimeException {
        Rejected(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** Reads a checkpoint as train --resume does; a refusal is a {@link Rejected}. */
    static Checkpoint read(Path f) {
        try {
            return Checkpoint.read(f);
        } catch (IOException e) {
            throw new Rejected(e);
        }
    }

    static CheckpointFiles.Contents contents(Path f) {
        try {
            return CheckpointFiles.read(f);
        } catch (IOException e) {
            throw new Rejected(e);
        }
    }
}
