package io.github.backprop4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvTest {

    @TempDir
    Path dir;

    Path write(String text) throws IOException {
        Path f = dir.resolve("d.csv");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void headerDetectedAndStringLabelsMapped() throws IOException {
        Path f = write("a,b,species\n1,2,cat\n3,4,dog\n\n5,6,cat\n");
        Csv.Table t = Csv.read(f, -1);
        assertArrayEquals(new String[]{"a", "b", "species"}, t.header());
        assertEquals(3, t.rows());
        assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, t.features());
        assertArrayEquals(new long[]{2, 3, 5}, t.lines());
        List<String> names = Csv.classNames(t);
        assertEquals(List.of("cat", "dog"), names);
        assertArrayEquals(new int[]{0, 1, 0}, Csv.classIndices(t, names));
    }

    @Test
    void noHeaderIntegerLabelsInFirstColumn() throws IOException {
        Csv.Table t = Csv.read(write("2,0.5,1.5\n0,1e3,-2\n"), 0);
        assertNull(t.header());
        assertEquals(List.of("0", "1", "2"), Csv.classNames(t));
        assertArrayEquals(new float[]{0.5f, 1.5f, 1e3f, -2f}, t.features());
    }

    @Test
    void plainNumbersAreExactlyTheDecimalGrammar() {
        // the grammar, as a regular expression: the hand-written scanner must agree with it on every string
        java.util.regex.Pattern grammar = java.util.regex.Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
        for (String s : List.of("0", "-1", "+2.5", "5.", ".5", "1e5", "1E-5", "-.5e+3", "5.e3", "", ".", "+", "e5", "1e",
                "1e+", ".e5", "0x1p3", "1f", "1d", "NaN", "Infinity", "1 ", " 1", "1..2", "1e5.5", "--1", "١"))
            assertEquals(grammar.matcher(s).matches(), Csv.isPlainNumber(s), "'" + s + "'");
        java.util.Random r = new java.util.Random(7);
        String alphabet = "+-.eE0123456789x ";
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = r.nextInt(7); n > 0; n--) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            String s = b.toString();
            assertEquals(grammar.matcher(s).matches(), Csv.isPlainNumber(s), "'" + s + "'");
        }
    }

    @Test
    void valuesAcrossManyChunksComeBackInOrder() throws IOException {
        // 7 features × 5,000 rows = 35,000 values: past the first small chunks and into growing ones
        int rows = 5000, w = 7;
        StringBuilder text = new StringBuilder();
        float[] expected = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < w; c++) {
                expected[r * w + c] = r * w + c + 0.5f;
                text.append(r * w + c).append(".5,");
            }
            text.append(r % 3).append('\n');
        }
        Csv.Table t = Csv.read(write(text.toString()), w);
        assertEquals(rows, t.rows());
        assertArrayEquals(expected, t.features());
    }

    @Test
    void raggedRow() throws IOException {
        Path f = write("x,y,label\n1,2,0\n3,4\n");
        CliException e = assertThrows(CliException.class, () -> Csv.read(f, -1));
        assertTrue(e.getMessage().startsWith(f + ":3:"), e.getMessage());
        assertTrue(e.getMessage().contains("2 columns, expected 3"), e.getMessage());
    }

    @Test
    void nonNumericValue() throws IOException {
        Path f = write("x,y,label\n1,2,0\n3,abc,1\n");
        CliException e = assertThrows(CliException.class, () -> Csv.read(f, 2));
        assertTrue(e.getMessage().startsWith(f + ":3:"), e.getMessage());
        assertTrue(e.getMessage().contains("'abc' is not a number"), e.getMessage());
    }

    @Test
    void labelColumnOutOfRange() throws IOException {
        Path f = write("1,2,0\n");
        CliException e = assertThrows(CliException.class, () -> Csv.read(f, 5));
        assertTrue(e.getMessage().startsWith(f + ":1:") && e.getMessage().contains("out of range"), e.getMessage());
        assertThrows(CliException.class, () -> Csv.read(f, -4));
    }

    @Test
    void unknownLabelUnderCheckpointClasses() throws IOException {
        Path f = write("1,2,cat\n3,4,fish\n");
        Csv.Table t = Csv.read(f, -1);
        CliException e = assertThrows(CliException.class, () -> Csv.classIndices(t, List.of("cat", "dog")));
        assertTrue(e.getMessage().startsWith(f + ":2:") && e.getMessage().contains("fish"), e.getMessage());
    }

    @Test
    void splitAndStandardize() throws IOException {
        StringBuilder sb = new StringBuilder("f1,f2,label\n");
        for (int i = 0; i < 50; i++) sb.append(i).append(',').append(100 + 2 * i).append(',').append(i % 3).append('\n');
        Data.Loaded d = Data.csv(write(sb.toString()), -1, 0.2, 7, Data.Use.TRAINING, Data.Recorded.NONE);
        assertEquals(40, d.train().rows());
        assertEquals(10, d.test().rows());
        double sum = 0, sq = 0;
        float[] x = new float[80], y = new float[40 * 3];
        int[] all = new int[40];
        for (int i = 0; i < 40; i++) all[i] = i;
        d.train().gather(all, 0, 40, x, y);
        for (int i = 0; i < 40; i++) {   // the rows are raw; the normalization the model will apply standardizes them
            double v = d.normalization().apply(x[2 * i], 0);
            sum += v;
            sq += v * v;
        }
        assertEquals(0, sum / 40, 1e-5);
        assertEquals(1, sq / 40, 1e-4);
        assertEquals("standardize (2 features)", d.normalization().describe());
        Data.Loaded again = Data.csv(d.source().get("file").asText().isEmpty() ? null : Path.of(d.source().get("file").asText()),
                -1, 0.2, 7, Data.Use.TRAINING, Data.Recorded.NONE);
        assertArrayEquals(d.testLabels(), again.testLabels());
    }

    /**
     * A rare class keeps its share of the test and validation rows; a checkpoint saved before stratified
     * splits (no "split" in its source) gets the random split it was trained with, so its eval and resume
     * see the same held-out rows.
     */
    @Test
    void splitsAreStratifiedForNewRunsAndRandomForOldOnes() throws IOException {
        StringBuilder sb = new StringBuilder("f1,f2,label\n");
        for (int i = 0; i < 200; i++) sb.append(i).append(',').append(-i).append(',').append(i % 20 == 7 ? 1 : 0).append('\n');
        Path f = write(sb.toString());
        for (long seed = 0; seed < 10; seed++) {
            Data.Loaded d = Data.csv(new Data.CsvRequest(f, List.of(-1), null, 0.2, 0.25, seed, Data.Use.TRAINING),
                    Data.Recorded.NONE);
            assertEquals(2, Arrays.stream(d.testLabels()).sum(), "10 rare rows, 20% of them in the test rows");
            assertEquals(40, d.validation().rows());
            assertEquals(2, positives(d.validation()), "8 rare training rows, 25% of them for validation");
            assertEquals(6, positives(d.train()));
            assertEquals("stratified", d.source().get("split").asText());
        }
        // an old run's split: the first 20% of the rows shuffled by Fisher-Yates with new Random(seed)
        Data.Recorded old = new Data.Recorded(null, null, null, null, false);
        Data.Loaded d = Data.csv(new Data.CsvRequest(f, List.of(-1), null, 0.2, 0, 3, Data.Use.TRAINING), old);
        int[] order = new int[200];
        for (int i = 0; i < 200; i++) order[i] = i;
        java.util.Random rng = new java.util.Random(3);
        for (int i = 199; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        float[] x = new float[2 * 40], y = new float[40];
        d.test().gather(java.util.stream.IntStream.range(0, 40).toArray(), 0, 40, x, y);
        for (int i = 0; i < 40; i++) assertEquals(order[i], (int) x[2 * i], "test row " + i);
        assertNull(d.source().get("split"));
    }

    private static int positives(io.github.backprop4j.core.Dataset part) {
        int n = 0;
        for (int r = 0; r < part.rows(); r++) n += (int) part.target(r, 0);
        return n;
    }

    @Test
    void hugeIntegerClassIdIsAnErrorNotAHugeOutputLayer() throws IOException {
        Path f = write("1,2,0\n3,4,1\n5,6,2000000000\n");
        CliException e = assertThrows(CliException.class, () -> Csv.classNames(Csv.read(f, -1)));
        assertTrue(e.getMessage().startsWith(f + ":3: class id 2000000000"), e.getMessage());
    }
}
