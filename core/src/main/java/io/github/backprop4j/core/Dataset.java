package io.github.backprop4j.core;

import java.util.Objects;

/**
 * Samples held on the host: features (rows × featureCount) and targets (rows × targetCount), both
 * row-major float32. Validated on construction: shapes agree, every value is finite, class labels in
 * range. The data set keeps its own copy of the caller's arrays (made while validating), so changing
 * them afterwards cannot slip an unchecked value past the validation. Batches are gathered from here
 * and uploaded into fixed device buffers.
 */
public final class Dataset {

    /** Longest Java array the JVM reliably allocates. */
    public static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

    private final float[] features;
    private final float[] targets;
    private final int rows;
    private final int featureCount;
    private final int targetCount;

    /** Copies {@code features} and {@code targets}; the caller may reuse or change them afterwards. */
    public Dataset(float[] features, int featureCount, float[] targets, int targetCount) {
        this(Objects.requireNonNull(features, "features must not be null"), featureCount,
                Objects.requireNonNull(targets, "targets must not be null"), targetCount, true, true);
    }

    private Dataset(float[] features, int featureCount, float[] targets, int targetCount, boolean copyFeatures,
                    boolean copyTargets) {
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
        this.features = checkedCopy("feature", features, featureCount, copyFeatures);
        this.targets = checkedCopy("target", targets, targetCount, copyTargets);
        this.rows = n;
        this.featureCount = featureCount;
        this.targetCount = targetCount;
    }

    /** From row arrays; every row must have the same width. */
    public static Dataset of(float[][] x, float[][] y) {
        Objects.requireNonNull(x, "features (x) must not be null");
        Objects.requireNonNull(y, "targets (y) must not be null");
        if (x.length != y.length)
            throw new ShapeException("features have " + x.length + " rows but targets have " + y.length);
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        float[] features = flatten("features", x), targets = flatten("targets", y);
        return new Dataset(features, x[0].length, targets, y[0].length, false, false);
    }

    /** Class labels 0..classes−1 turned into one-hot targets. */
    public static Dataset classification(float[] features, int featureCount, int[] labels, int classes) {
        return classification(features, featureCount, labels, classes, true);
    }

    private static Dataset classification(float[] features, int featureCount, int[] labels, int classes,
                                          boolean copyFeatures) {
        Objects.requireNonNull(features, "features must not be null");
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
        return new Dataset(features, featureCount, t, classes, copyFeatures, false);
    }

    public static Dataset classification(float[][] x, int[] labels, int classes) {
        Objects.requireNonNull(x, "features (x) must not be null");
        Objects.requireNonNull(labels, "labels must not be null");
        if (x.length != labels.length)
            throw new ShapeException("features have " + x.length + " rows but there are " + labels.length + " labels");
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        return classification(flatten("features", x), x[0].length, labels, classes, false);
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

    /** Validates every value while copying (or, for arrays made here, in place) and returns the array kept. */
    private static float[] checkedCopy(String what, float[] v, int width, boolean copy) {
        float[] kept = copy ? new float[v.length] : v;
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            if (!Float.isFinite(x))
                throw new IllegalArgumentException(what + " value " + x + " at row " + (i / width) + ", column "
                        + (i % width) + " is not finite");
            kept[i] = x;
        }
        return kept;
    }

    /** The data set's own arrays (never the caller's), for uploads within core. */
    float[] features() {
        return features;
    }

    float[] targets() {
        return targets;
    }

    public int rows() {
        return rows;
    }

    public int featureCount() {
        return featureCount;
    }

    public int targetCount() {
        return targetCount;
    }

    /** Copies rows order[from..from+count) into the given row-major buffers. */
    public void gather(int[] order, int from, int count, float[] x, float[] y) {
        Objects.requireNonNull(order, "order must not be null");
        Objects.requireNonNull(x, "x must not be null");
        Objects.requireNonNull(y, "y must not be null");
        if (from < 0 || count < 0 || (long) from + count > order.length)
            throw new IndexOutOfBoundsException("gather rows " + from + ".." + ((long) from + count) + " of an order of "
                    + order.length);
        if ((long) count * featureCount > x.length || (long) count * targetCount > y.length)
            throw new ShapeException("gather: " + count + " rows need " + (long) count * featureCount + " + "
                    + (long) count * targetCount + " floats, buffers hold " + x.length + " + " + y.length);
        for (int i = 0; i < count; i++) {
            int r = order[from + i];
            if (r < 0 || r >= rows)
                throw new IndexOutOfBoundsException("gather: row index " + r + " is outside 0.." + (rows - 1));
            System.arraycopy(features, r * featureCount, x, i * featureCount, featureCount);
            System.arraycopy(targets, r * targetCount, y, i * targetCount, targetCount);
        }
    }

    /** Row i's target values (a view copy). */
    public float target(int row, int column) {
        return targets[row * targetCount + column];
    }
}
