package io.github.backprop4j.core;

/**
 * Samples held on the host: features (rows × featureCount) and targets (rows × targetCount), both
 * row-major float32. Validated on construction: shapes agree, every value is finite, class labels in
 * range. Batches are gathered from here and uploaded into fixed device buffers.
 */
public final class Dataset {

    private final float[] features;
    private final float[] targets;
    private final int rows;
    private final int featureCount;
    private final int targetCount;

    public Dataset(float[] features, int featureCount, float[] targets, int targetCount) {
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
        checkFinite("feature", features, featureCount);
        checkFinite("target", targets, targetCount);
        this.features = features;
        this.targets = targets;
        this.rows = n;
        this.featureCount = featureCount;
        this.targetCount = targetCount;
    }

    /** From row arrays; every row must have the same width. */
    public static Dataset of(float[][] x, float[][] y) {
        if (x.length != y.length)
            throw new ShapeException("features have " + x.length + " rows but targets have " + y.length);
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        return new Dataset(flatten("features", x), x[0].length, flatten("targets", y), y[0].length);
    }

    /** Class labels 0..classes−1 turned into one-hot targets. */
    public static Dataset classification(float[] features, int featureCount, int[] labels, int classes) {
        if (classes < 2) throw new IllegalArgumentException("classification needs >= 2 classes, got " + classes);
        float[] t = new float[labels.length * classes];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new IllegalArgumentException("label " + labels[i] + " at row " + i + " is outside 0.."
                        + (classes - 1));
            t[i * classes + labels[i]] = 1f;
        }
        return new Dataset(features, featureCount, t, classes);
    }

    public static Dataset classification(float[][] x, int[] labels, int classes) {
        if (x.length != labels.length)
            throw new ShapeException("features have " + x.length + " rows but there are " + labels.length + " labels");
        if (x.length == 0) throw new IllegalArgumentException("data set is empty (0 rows)");
        return classification(flatten("features", x), x[0].length, labels, classes);
    }

    private static float[] flatten(String what, float[][] rows) {
        int w = rows[0].length;
        float[] out = new float[rows.length * w];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != w)
                throw new ShapeException(what + ": row " + i + " has " + rows[i].length + " values, row 0 has " + w);
            System.arraycopy(rows[i], 0, out, i * w, w);
        }
        return out;
    }

    private static void checkFinite(String what, float[] v, int width) {
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new IllegalArgumentException(what + " value " + v[i] + " at row " + (i / width) + ", column "
                        + (i % width) + " is not finite");
    }

    /** The backing arrays, shared (not copied), for uploads within core. */
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
        for (int i = 0; i < count; i++) {
            int r = order[from + i];
            System.arraycopy(features, r * featureCount, x, i * featureCount, featureCount);
            System.arraycopy(targets, r * targetCount, y, i * targetCount, targetCount);
        }
    }

    /** Row i's target values (a view copy). */
    public float target(int row, int column) {
        return targets[row * targetCount + column];
    }
}
