package io.github.backprop4j.core;

import java.util.Arrays;
import java.util.Objects;
import java.util.Random;

/**
 * Samples held on the host: features (rows × featureCount) and targets (rows × targetCount), both
 * row-major float32. Validated on construction: shapes agree, every value is finite, class labels in
 * range. The data set keeps its own copy of the caller's arrays, so changing them afterwards cannot
 * slip an unchecked value past the validation. Features are raw, as the data comes: a {@link Model}
 * applies its {@link Normalization} when it reads them. Batches are gathered from here and uploaded
 * into fixed device buffers.
 *
 * <pre>
 * Dataset xor = Dataset.of(new float[][] {{0, 0}, {0, 1}, {1, 0}, {1, 1}}, new float[][] {{0}, {1}, {1}, {0}});
 * Dataset digits = Dataset.classification(pixels, 784, labels, 10);   // labels become one-hot targets
 * </pre>
 */
public final class Dataset {

    /** Longest Java array the JVM reliably allocates. */
    public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private final float[] features;
    private final float[] targets;
    private final int rows;
    private final int featureCount;
    private final int targetCount;

    /**
     * Copies {@code features} and {@code targets}; the caller may reuse or change them afterwards.
     *
     * @param features     rows × featureCount values, row-major
     * @param featureCount values per row
     * @param targets      rows × targetCount values, row-major
     * @param targetCount  targets per row
     * @throws ShapeException if the arrays do not hold the same whole number of rows
     * @throws IllegalArgumentException if a value is not finite (naming its row and column)
     */
    public Dataset(float[] features, int featureCount, float[] targets, int targetCount) {
        this(featureCount, targetCount, Objects.requireNonNull(features, "features must not be null").clone(),
                Objects.requireNonNull(targets, "targets must not be null").clone());
    }

    /** Takes the arrays as they are (made or copied by the caller) and validates them in place. */
    private Dataset(int featureCount, int targetCount, float[] features, float[] targets) {
        if (featureCount <= 0 || targetCount <= 0)
            throw new IllegalArgumentException("feature and target widths must be >= 1, got " + featureCount
                    + " and " + targetCount);
        if (features.length % featureCount != 0)
            throw new ShapeException("features: " + features.length + " floats is not a whole number of rows of "
                    + featureCount);
        int n = features.length / featureCount;
        if (n == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        if ((long) n * targetCount != targets.length)
            throw new ShapeException("features have " + n + " rows of " + featureCount + " but targets hold "
                    + targets.length + " floats, not " + n + "×" + targetCount);
        requireFinite("feature", features, featureCount);
        requireFinite("target", targets, targetCount);
        this.features = features;
        this.targets = targets;
        this.rows = n;
        this.featureCount = featureCount;
        this.targetCount = targetCount;
    }

    /**
     * From row arrays; every row must have the same width.
     *
     * @param x one feature array per row
     * @param y one target array per row
     * @return the data set (the rows are copied)
     */
    public static Dataset of(float[][] x, float[][] y) {
        Objects.requireNonNull(x, "features (x) must not be null");
        Objects.requireNonNull(y, "targets (y) must not be null");
        if (x.length != y.length)
            throw new ShapeException("features have " + x.length + " rows but targets have " + y.length);
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        float[] features = flatten("features", x), targets = flatten("targets", y);
        return new Dataset(x[0].length, y[0].length, features, targets);
    }

    /**
     * Class labels 0..classes−1 turned into one-hot targets; the features are copied.
     *
     * @param features     rows × featureCount values, row-major
     * @param featureCount values per row
     * @param labels       one class index per row
     * @param classes      the number of classes (≥ 2): the targets' width
     * @return the data set
     */
    public static Dataset classification(float[] features, int featureCount, int[] labels, int classes) {
        return oneHot(Objects.requireNonNull(features, "features must not be null").clone(), featureCount, labels,
                classes);
    }

    /** As {@link #classification(float[], int, int[], int)}, taking {@code features} as they are. */
    private static Dataset oneHot(float[] features, int featureCount, int[] labels, int classes) {
        Objects.requireNonNull(labels, "labels must not be null");
        if (classes < 2) throw new IllegalArgumentException("classification needs >= 2 classes, got " + classes);
        long targetCount = (long) labels.length * classes;
        if (targetCount > MAX_ARRAY_LENGTH)
            throw new IllegalArgumentException(labels.length + " labels × " + classes + " classes = " + targetCount
                    + " one-hot targets exceed the " + MAX_ARRAY_LENGTH + " floats one array can hold");
        float[] t = new float[(int) targetCount];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " is outside 0.."
                        + (classes - 1));
            t[i * classes + labels[i]] = 1f;
        }
        return new Dataset(featureCount, classes, features, t);
    }

    /**
     * Class labels 0..classes−1 turned into one-hot targets, from row arrays.
     *
     * @param x       one feature array per row, all of one width
     * @param labels  one class index per row
     * @param classes the number of classes (≥ 2)
     * @return the data set
     */
    public static Dataset classification(float[][] x, int[] labels, int classes) {
        Objects.requireNonNull(x, "features (x) must not be null");
        Objects.requireNonNull(labels, "labels must not be null");
        if (x.length != labels.length)
            throw new ShapeException("features have " + x.length + " rows but there are " + labels.length + " labels");
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        return oneHot(flatten("features", x), x[0].length, labels, classes);
    }

    private static float[] flatten(String what, float[][] rows) {
        if (rows[0] == null) throw new NullPointerException(what + ": row 0 is null");
        int w = rows[0].length;
        long total = (long) rows.length * w;
        if (total > MAX_ARRAY_LENGTH)
            throw new IllegalArgumentException(what + ": " + rows.length + " rows × " + w + " = " + total
                    + " values exceed the " + MAX_ARRAY_LENGTH + " floats one array can hold");
        float[] out = new float[(int) total];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == null) throw new NullPointerException(what + ": row " + i + " is null");
            if (rows[i].length != w)
                throw new ShapeException(what + ": row " + i + " has " + rows[i].length + " values, row 0 has " + w);
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }

    /** Throws naming the first value that is not finite. */
    private static void requireFinite(String what, float[] v, int width) {
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new IllegalArgumentException(what + " value " + v[i] + " at row " + (i / width) + ", column "
                        + (i % width) + " is not finite");
    }

    /**
     * A data set divided into rows to train on and rows held out to validate on.
     *
     * @param train      the training rows
     * @param validation the validation rows
     */
    public record Split(Dataset train, Dataset validation) {
    }

    /**
     * Holds out a random {@code validationFraction} of the rows (rounded, at least one row, and at least
     * one left to train on), chosen by {@code seed}: the same seed gives the same split, so a resumed run
     * validates on the rows the original run did. Both parts keep the rows in their original order.
     *
     * <pre>
     * Dataset.Split s = data.split(0.1, 42);
     * trainer.fit(s.train(), s.validation(), 100);
     * </pre>
     *
     * @param validationFraction the share of rows held out, in (0, 1)
     * @param seed               seeds {@code new Random(seed)}, which shuffles the row indices
     * @return the two parts
     * @throws IllegalArgumentException for a fraction outside (0, 1), or a data set of one row
     */
    public Split split(double validationFraction, long seed) {
        int held = heldOut(validationFraction);
        return splitAt(shuffledOrder(rows, new Random(seed)), held);
    }

    /** How many rows a split holds out: the rounded fraction, at least one, and at least one left to train on. */
    private int heldOut(double validationFraction) {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        if (rows < 2)
            throw new IllegalArgumentException("a data set of " + rows + " row cannot be split into training and "
                    + "validation rows");
        return (int) Math.max(1, Math.min(rows - 1, Math.round(rows * validationFraction)));
    }

    /** The first {@code held} rows of {@code order} as the validation part, the rest as training, each in row order. */
    private Split splitAt(int[] order, int held) {
        int[] validation = Arrays.copyOfRange(order, 0, held), train = Arrays.copyOfRange(order, held, rows);
        Arrays.sort(validation);
        Arrays.sort(train);
        return new Split(rows(train), rows(validation));
    }

    /**
     * As {@link #split}, but stratified: rows with the same targets (a classification set's classes, or a
     * binary set's 0 and 1) are held out in the same share, so a rare class is neither missing from the
     * validation rows nor over-represented there. The number held out is the same as {@link #split}'s;
     * each class gets its share rounded by largest remainder, ties broken at random. With targets that
     * are nearly all distinct (a regression) it is a plain random split.
     *
     * <pre>
     * Dataset.Split s = data.stratifiedSplit(0.1, 42);   // each class: 10% of its rows held out
     * </pre>
     *
     * @param validationFraction the share of rows held out, in (0, 1)
     * @param seed               seeds {@code new Random(seed)}, which draws the rows
     * @return the two parts, each in the rows' original order
     * @throws IllegalArgumentException for a fraction outside (0, 1), or a data set of one row
     */
    public Split stratifiedSplit(double validationFraction, long seed) {
        int held = heldOut(validationFraction);
        return splitAt(stratifiedOrder(targetStrata(), held, seed), held);
    }

    /** Each row's stratum: rows with equal target values share one, numbered 0.. in order of first appearance. */
    int[] targetStrata() {
        java.util.Map<java.util.List<Float>, Integer> strata = new java.util.HashMap<>();
        int[] stratum = new int[rows];
        for (int r = 0; r < rows; r++) {
            Float[] t = new Float[targetCount];
            for (int j = 0; j < targetCount; j++) t[j] = targets[r * targetCount + j];
            stratum[r] = strata.computeIfAbsent(java.util.List.of(t), _ -> strata.size());
        }
        return stratum;
    }

    /**
     * The row indices 0..n−1 (n = {@code strata.length}) reordered so that the first {@code held} are a
     * stratified sample: stratum s (rows with {@code strata[i] == s}, ids 0..) gets held·count_s/n of them,
     * rounded down, and the rows left over go to the strata with the largest remainders (ties in an order
     * drawn at random). Within each stratum the rows are drawn at random. Everything is drawn from
     * {@code new Random(seed)}, so the same arguments give the same order. Both parts are shuffled.
     *
     * @param strata each row's stratum, ≥ 0 (a class id)
     * @param held   how many rows go first, 0..n
     * @param seed   seeds the draw
     * @return a permutation of 0..n−1, the sample first
     * @throws IllegalArgumentException for a negative stratum or {@code held} outside 0..n
     */
    public static int[] stratifiedOrder(int[] strata, int held, long seed) {
        int n = strata.length, k = 0;
        if (held < 0 || held > n) throw new IllegalArgumentException("held " + held + " is not in 0.." + n);
        for (int s : strata) {
            if (s < 0) throw new IllegalArgumentException("stratum " + s + " is negative");
            k = Math.max(k, s + 1);
        }
        int[] count = new int[k];
        for (int s : strata) count[s]++;
        int[][] members = new int[k][];
        for (int s = 0; s < k; s++) members[s] = new int[count[s]];
        int[] filled = new int[k];
        for (int i = 0; i < n; i++) members[strata[i]][filled[strata[i]]++] = i;
        Random rng = new Random(seed);
        int[] take = new int[k];
        long[] remainder = new long[k];
        int taken = 0;
        for (int s = 0; s < k; s++) {
            take[s] = (int) ((long) held * count[s] / n);
            remainder[s] = (long) held * count[s] % n;
            taken += take[s];
        }
        int[] byRemainder = shuffledOrder(k, rng);   // random tie order, then a stable sort by remainder
        Integer[] ranked = new Integer[k];
        for (int i = 0; i < k; i++) ranked[i] = byRemainder[i];
        Arrays.sort(ranked, (a, b) -> Long.compare(remainder[b], remainder[a]));
        for (int i = 0; taken < held; i++) {
            take[ranked[i]]++;
            taken++;
        }
        int[] sample = new int[held], rest = new int[n - held];
        int a = 0, b = 0;
        for (int s = 0; s < k; s++) {
            int[] m = members[s], drawn = shuffledOrder(m.length, rng);
            for (int i = 0; i < m.length; i++) {
                if (i < take[s]) sample[a++] = m[drawn[i]];
                else rest[b++] = m[drawn[i]];
            }
        }
        int[] order = new int[n];
        int[] sampleOrder = shuffledOrder(held, rng), restOrder = shuffledOrder(n - held, rng);
        for (int i = 0; i < held; i++) order[i] = sample[sampleOrder[i]];
        for (int i = 0; i < n - held; i++) order[held + i] = rest[restOrder[i]];
        return order;
    }

    /** {@code count} rows spread evenly over the set (row i·rows/count, at most all of them) as a new data set. */
    Dataset spread(int count) {
        int n = Math.min(count, rows);
        int[] which = new int[n];
        for (int i = 0; i < n; i++) which[i] = (int) ((long) i * rows / n);
        return rows(which);
    }

    /** The rows {@code which}, in that order, as a new data set. */
    private Dataset rows(int[] which) {
        float[] x = new float[which.length * featureCount], y = new float[which.length * targetCount];
        gather(which, 0, which.length, x, y);
        return new Dataset(featureCount, targetCount, x, y);
    }

    /** 0..n−1 shuffled by {@code rng} (Fisher–Yates from the end): an epoch's row order, a split's. */
    static int[] shuffledOrder(int n, Random rng) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** The data set's own arrays (never the caller's), for uploads within core. */
    float[] features() {
        return features;
    }

    float[] targets() {
        return targets;
    }

    /**
     * The number of samples.
     *
     * @return rows ≥ 1
     */
    public int rows() {
        return rows;
    }

    /**
     * Features per row: the network's input width.
     *
     * @return featureCount ≥ 1
     */
    public int featureCount() {
        return featureCount;
    }

    /**
     * Targets per row: the network's output width.
     *
     * @return targetCount ≥ 1
     */
    public int targetCount() {
        return targetCount;
    }

    /**
     * Copies rows order[from..from+count) into row-major buffers: a shuffled batch.
     *
     * @param order row indices, e.g. a permutation of 0..rows−1
     * @param from  the first position of {@code order} to take
     * @param count how many rows
     * @param x     receives count × featureCount values
     * @param y     receives count × targetCount values
     */
    public void gather(int[] order, int from, int count, float[] x, float[] y) {
        Objects.requireNonNull(order, "order must not be null");
        Objects.requireNonNull(x, "x must not be null");
        Objects.requireNonNull(y, "y must not be null");
        if (from < 0 || count < 0 || (long) from + count > order.length)
            throw new IndexOutOfBoundsException("gather rows " + from + ".." + ((long) from + count) + " of an order of "
                    + order.length);
        checkBuffers("gather", count, x, y);
        for (int i = 0; i < count; i++) {
            int r = order[from + i];
            if (r < 0 || r >= rows)
                throw new IndexOutOfBoundsException("gather: row index " + r + " is outside 0.." + (rows - 1));
            System.arraycopy(features, r * featureCount, x, i * featureCount, featureCount);
            System.arraycopy(targets, r * targetCount, y, i * targetCount, targetCount);
        }
    }

    /** Copies rows from..from+count, in order, into row-major buffers. */
    void copyRows(int from, int count, float[] x, float[] y) {
        checkBuffers("copyRows", count, x, y);
        System.arraycopy(features, from * featureCount, x, 0, count * featureCount);
        System.arraycopy(targets, from * targetCount, y, 0, count * targetCount);
    }

    private void checkBuffers(String op, int count, float[] x, float[] y) {
        if ((long) count * featureCount > x.length || (long) count * targetCount > y.length)
            throw new ShapeException(op + ": " + count + " rows need " + (long) count * featureCount + " + "
                    + (long) count * targetCount + " floats, buffers hold " + x.length + " + " + y.length);
    }

    /**
     * One target value.
     *
     * @param row    0-based row
     * @param column 0-based target column
     * @return the value
     */
    public float target(int row, int column) {
        return targets[row * targetCount + column];
    }
}
