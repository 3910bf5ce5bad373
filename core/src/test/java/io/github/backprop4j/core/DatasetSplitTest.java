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
}
