package io.github.backprop4j.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Dataset#split}: disjoint parts that cover every row, the same for the same seed, in row order. */
class DatasetSplitTest {

    /** Row i has features (i, −i) and target i + 0.5, so a row is recognized by its values. */
    private static Dataset numbered(int rows) {
        float[] x = new float[2 * rows], y = new float[rows];
        for (int i = 0; i < rows; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = -i;
            y[i] = i + 0.5f;
        }
        return new Dataset(x, 2, y, 1);
    }

    /** The row numbers a part holds, checking each row's values belong together. */
    private static List<Integer> rowsOf(Dataset part) {
        List<Integer> rows = new ArrayList<>();
        float[] x = new float[2 * part.rows()], y = new float[part.rows()];
        int[] all = java.util.stream.IntStream.range(0, part.rows()).toArray();
        part.gather(all, 0, part.rows(), x, y);
        for (int i = 0; i < part.rows(); i++) {
            assertEquals(0f, x[2 * i] + x[2 * i + 1], "features of one row");
            assertEquals(x[2 * i] + 0.5f, y[i]);
            rows.add((int) x[2 * i]);
        }
        return rows;
    }

    @Test
    void partsAreDisjointCoverEveryRowAndKeepTheirOrder() {
        Dataset.Split s = numbered(101).split(0.2, 7);
        assertEquals(20, s.validation().rows(), "round(101 · 0.2)");
        assertEquals(81, s.train().rows());
        List<Integer> train = rowsOf(s.train()), validation = rowsOf(s.validation());
        assertEquals(train.stream().sorted().toList(), train, "training rows in their original order");
        assertEquals(validation.stream().sorted().toList(), validation, "validation rows in their original order");
        List<Integer> all = new ArrayList<>(train);
        all.addAll(validation);
        assertEquals(java.util.stream.IntStream.range(0, 101).boxed().toList(), all.stream().sorted().toList(),
                "every row exactly once");
        assertTrue(validation.getLast() - validation.getFirst() > 50, "drawn from the whole set, not its end");
    }

    @Test
    void theSeedDecidesTheSplit() {
        Dataset data = numbered(200);
        assertEquals(rowsOf(data.split(0.25, 3).validation()), rowsOf(data.split(0.25, 3).validation()));
        assertNotEquals(rowsOf(data.split(0.25, 3).validation()), rowsOf(data.split(0.25, 4).validation()));
    }

    @Test
    void atLeastOneRowOnEachSide() {
        Dataset two = numbered(2);
        assertEquals(1, two.split(0.01, 1).validation().rows());
        assertEquals(1, two.split(0.99, 1).train().rows());
        assertArrayEquals(new int[]{1, 1}, new int[]{two.split(0.5, 9).train().rows(), two.split(0.5, 9).validation().rows()});
        for (double bad : new double[]{0, 1, -0.1, Double.NaN})
            assertThrows(IllegalArgumentException.class, () -> two.split(bad, 1), "fraction " + bad);
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class, () -> numbered(1).split(0.5, 1));
        assertTrue(one.getMessage().contains("1 row"), one.getMessage());
    }

    /** rows of class c get features (row number, −row number) and label c, classes in blocks of the given sizes. */
    private static Dataset classes(int... sizes) {
        int rows = java.util.Arrays.stream(sizes).sum(), r = 0;
        float[] x = new float[2 * rows];
        int[] labels = new int[rows];
        for (int c = 0; c < sizes.length; c++)
            for (int i = 0; i < sizes[c]; i++, r++) {
                x[2 * r] = r;
                x[2 * r + 1] = -r;
                labels[r] = c;
            }
        return Dataset.classification(x, 2, labels, sizes.length);
    }

    /** The row numbers a part of {@link #classes} holds. */
    private static List<Integer> numbers(Dataset part) {
        float[] x = new float[2 * part.rows()], y = new float[part.rows() * part.targetCount()];
        part.gather(java.util.stream.IntStream.range(0, part.rows()).toArray(), 0, part.rows(), x, y);
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < part.rows(); i++) rows.add((int) x[2 * i]);
        return rows;
    }

    /** How many rows of each class a part holds (the class is the one-hot target's hot column). */
    private static int[] perClass(Dataset part, int classes) {
        int[] count = new int[classes];
        for (int r = 0; r < part.rows(); r++)
            for (int c = 0; c < classes; c++) if (part.target(r, c) == 1) count[c]++;
        return count;
    }

    @Test
    void stratifiedSplitHoldsOutEachClassInItsShare() {
        Dataset data = classes(70, 25, 5);
        for (long seed = 0; seed < 20; seed++) {
            Dataset.Split s = data.stratifiedSplit(0.2, seed);
            assertArrayEquals(new int[] {14, 5, 1}, perClass(s.validation(), 3), "seed " + seed);
            assertArrayEquals(new int[] {56, 20, 4}, perClass(s.train(), 3), "seed " + seed);
        }
        // shares 3.4, 3.3 and 3.3 of 10: floors 3, 3, 3 and the left-over row to the largest remainder
        assertArrayEquals(new int[] {4, 3, 3}, perClass(classes(34, 33, 33).stratifiedSplit(0.1, 5).validation(), 3));
        // the plain split of the same rows holds anywhere from none to several of the 5 rare rows out
        java.util.Set<Integer> plain = new java.util.TreeSet<>();
        for (long seed = 0; seed < 200; seed++) plain.add(perClass(data.split(0.2, seed).validation(), 3)[2]);
        assertTrue(plain.contains(0) && plain.size() > 2, "plain 20% splits hold " + plain + " of the rare rows");
    }

    @Test
    void stratifiedSplitIsDisjointSeededAndInRowOrder() {
        Dataset data = classes(40, 40, 21);
        Dataset.Split s = data.stratifiedSplit(0.3, 11);
        List<Integer> train = numbers(s.train()), validation = numbers(s.validation());
        assertEquals(train.stream().sorted().toList(), train);
        assertEquals(validation.stream().sorted().toList(), validation);
        List<Integer> all = new ArrayList<>(train);
        all.addAll(validation);
        assertEquals(java.util.stream.IntStream.range(0, 101).boxed().toList(), all.stream().sorted().toList());
        assertEquals(30, validation.size(), "round(101 · 0.3), as the plain split holds out");
        assertEquals(validation, numbers(data.stratifiedSplit(0.3, 11).validation()));
        assertNotEquals(validation, numbers(data.stratifiedSplit(0.3, 12).validation()));
        // distinct targets (a regression): every row its own stratum, so a plain random draw over all rows
        List<Integer> numberedRows = rowsOf(numbered(101).stratifiedSplit(0.2, 7).validation());
        assertEquals(20, numberedRows.size());
        assertTrue(numberedRows.getLast() - numberedRows.getFirst() > 50 && numberedRows.getFirst() < 30,
                "drawn from the whole set, not the first strata: " + numberedRows);
    }

    @Test
    void stratifiedOrderPutsTheSampleFirst() {
        int[] strata = {0, 0, 0, 0, 1, 1, 2, 0, 0, 1};
        int[] order = Dataset.stratifiedOrder(strata, 5, 3);
        assertEquals(java.util.stream.IntStream.range(0, 10).boxed().toList(),
                java.util.Arrays.stream(order).sorted().boxed().toList(), "a permutation");
        int[] sampled = new int[3];
        for (int i = 0; i < 5; i++) sampled[strata[order[i]]]++;
        // shares 3, 1.5 and 0.5 of 5: floors 3, 1, 0; remainders tie at 0.5, so one row more to class 1 or 2
        assertEquals(3, sampled[0]);
        assertEquals(2, sampled[1] + sampled[2]);
        assertArrayEquals(order, Dataset.stratifiedOrder(strata, 5, 3));
        assertThrows(IllegalArgumentException.class, () -> Dataset.stratifiedOrder(strata, 11, 3));
        assertThrows(IllegalArgumentException.class, () -> Dataset.stratifiedOrder(new int[] {0, -1}, 1, 3));
    }
}
