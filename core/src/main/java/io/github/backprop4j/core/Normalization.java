package io.github.backprop4j.core;

import java.util.Arrays;
import java.util.Objects;

/**
 * How raw features become the network's inputs: per feature, {@code (x − offset) / scale}. A
 * {@link Model} carries one, applies it in {@link Model#predict predict}, {@link Model#evaluate
 * evaluate} and {@link Trainer#fit fit} (so all of them take features as the data comes), saves it in
 * its checkpoint and puts it into its ONNX export. Three kinds:
 * <ul>
 *   <li>{@link #none()}: the features are the inputs;</li>
 *   <li>{@link #pixels()}: 8-bit pixel values divided by 255 ("pixels/255", any width);</li>
 *   <li>{@link #standardize(float[], float[])}: minus a per-feature mean, divided by a per-feature
 *       standard deviation ("standardize"), e.g. the training rows' ({@link #standardize(Dataset)}).</li>
 * </ul>
 * Immutable; two normalizations are equal when they compute the same thing.
 *
 * <pre>
 * Normalization n = Normalization.standardize(train);   // the training rows' mean and deviation
 * model.setNormalization(n);                             // fit, evaluate and predict now take raw rows
 * </pre>
 */
public final class Normalization {

    /** The kind name of {@link #none()}. */
    public static final String NONE_KIND = "none";
    /** The kind name of {@link #pixels()}. */
    public static final String PIXELS_KIND = "pixels/255";
    /** The kind name of {@link #standardize(float[], float[])}. */
    public static final String STANDARDIZE_KIND = "standardize";

    private static final float PIXEL_SCALE = 255f;
    private static final Normalization NONE = new Normalization(NONE_KIND, null, null);
    private static final Normalization PIXELS = new Normalization(PIXELS_KIND, null, null);

    private final String kind;
    private final float[] mean;
    private final float[] std;

    private Normalization(String kind, float[] mean, float[] std) {
        this.kind = kind;
        this.mean = mean;
        this.std = std;
    }

    /**
     * The identity: features are fed to the first layer as they are.
     *
     * @return the normalization that changes nothing
     */
    public static Normalization none() {
        return NONE;
    }

    /**
     * 8-bit pixel values scaled to [0, 1]: x / 255 for every feature, whatever the width.
     *
     * @return the pixel normalization
     */
    public static Normalization pixels() {
        return PIXELS;
    }

    /**
     * (x − mean) / std per feature. The arrays are copied.
     *
     * @param mean per feature, finite
     * @param std  per feature, finite and &gt; 0
     * @return the standardization
     * @throws IllegalArgumentException if the arrays differ in length, are empty, or hold a value
     *                                  outside those ranges (naming the feature)
     */
    public static Normalization standardize(float[] mean, float[] std) {
        Objects.requireNonNull(mean, "mean must not be null");
        Objects.requireNonNull(std, "std must not be null");
        if (mean.length != std.length || mean.length == 0)
            throw new IllegalArgumentException("normalization needs a mean and a std per feature, got " + mean.length
                    + " means and " + std.length + " deviations");
        for (int i = 0; i < mean.length; i++)
            if (!Float.isFinite(mean[i]) || !(std[i] > 0) || !Float.isFinite(std[i]))
                throw new IllegalArgumentException("normalization of feature " + i + " is mean " + mean[i] + ", std "
                        + std[i] + ": must be finite with std > 0");
        return new Normalization(STANDARDIZE_KIND, mean.clone(), std.clone());
    }

    /**
     * The standardization of {@code data}'s features: each feature's mean and (population) standard
     * deviation over its rows, computed in float64. A constant feature keeps std 1; a mean beyond the
     * float range is clamped to it.
     *
     * @param data the rows to learn the statistics from, usually the training set
     * @return the standardization
     */
    public static Normalization standardize(Dataset data) {
        Objects.requireNonNull(data, "data must not be null");
        return standardize(data.features(), data.featureCount(), data.rows());
    }

    /**
     * The standardization of {@code data}'s targets, as {@link #standardize(Dataset)} computes it for
     * features: what a regression model's targets go through in training, and its outputs through in
     * reverse ({@link #invert}) in prediction ({@link Model#setTargetNormalization}).
     *
     * @param data the rows to learn the statistics from, usually the training set
     * @return the standardization of its target columns
     */
    public static Normalization standardizeTargets(Dataset data) {
        Objects.requireNonNull(data, "data must not be null");
        return standardize(data.targets(), data.targetCount(), data.rows());
    }

    /** Mean and deviation per column of {@code rows} rows of {@code width} values. */
    private static Normalization standardize(float[] x, int w, int n) {
        double[] sum = new double[w], squares = new double[w];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < w; j++) {
                double v = x[i * w + j];
                sum[j] += v;
                squares[j] += v * v;
            }
        float[] mean = new float[w], std = new float[w];
        for (int j = 0; j < w; j++) {
            double m = sum[j] / n;
            double variance = Math.max(0, squares[j] / n - m * m);
            mean[j] = (float) Math.max(-Float.MAX_VALUE, Math.min(Float.MAX_VALUE, m));
            std[j] = variance > 1e-12 && Double.isFinite(variance) ? (float) Math.min(Math.sqrt(variance), Float.MAX_VALUE)
                    : 1f;
        }
        return new Normalization(STANDARDIZE_KIND, mean, std);
    }

    /**
     * The kind, as checkpoints record it.
     *
     * @return {@value #NONE_KIND}, {@value #PIXELS_KIND} or {@value #STANDARDIZE_KIND}
     */
    public String kind() {
        return kind;
    }

    /**
     * Whether this normalization changes nothing ({@link #none()}).
     *
     * @return true for the identity
     */
    public boolean isIdentity() {
        return this == NONE;
    }

    /**
     * Whether this normalization applies to rows of {@code width} features: any width for
     * {@link #none()} and {@link #pixels()}, the width of its statistics for a standardization.
     *
     * @param width features per row
     * @return whether it fits
     */
    public boolean fits(int width) {
        return mean == null || mean.length == width;
    }

    /**
     * One normalized value.
     *
     * @param x       a raw feature value
     * @param feature its column (0-based)
     * @return (x − offset) / scale of that feature
     */
    public float apply(float x, int feature) {
        if (mean != null) return (x - mean[feature]) / std[feature];
        return this == PIXELS ? x / PIXEL_SCALE : x;
    }

    /**
     * The inverse of {@link #apply}: value·scale + offset, e.g. a regression output back in the units of
     * its target.
     *
     * @param value   a normalized value
     * @param feature its column (0-based)
     * @return the raw value
     */
    public float invert(float value, int feature) {
        if (mean != null) return value * std[feature] + mean[feature];
        return this == PIXELS ? value * PIXEL_SCALE : value;
    }

    /**
     * The per-feature offsets of the affine form (x − offset) / scale, e.g. for an ONNX graph.
     *
     * @param width features per row (must {@link #fits fit})
     * @return a new array: the means, or zeros
     */
    public float[] offset(int width) {
        checkFits(width);
        return mean != null ? mean.clone() : new float[width];
    }

    /**
     * The per-feature scales of the affine form (x − offset) / scale.
     *
     * @param width features per row (must {@link #fits fit})
     * @return a new array: the deviations, 255 for pixels, or ones
     */
    public float[] scale(int width) {
        checkFits(width);
        if (std != null) return std.clone();
        float[] s = new float[width];
        Arrays.fill(s, this == PIXELS ? PIXEL_SCALE : 1f);
        return s;
    }

    private void checkFits(int width) {
        if (!fits(width))
            throw new ShapeException("the normalization standardizes " + mean.length + " features, not " + width);
    }

    /**
     * For messages: the kind, with the number of features of a standardization.
     *
     * @return e.g. "pixels/255" or "standardize (4 features)"
     */
    public String describe() {
        return mean == null ? kind : kind + " (" + mean.length + " features)";
    }

    /** Normalizes {@code rows} rows of {@code width} at the start of {@code x}, in place. */
    void applyInPlace(float[] x, int rows, int width) {
        if (this == NONE) return;
        int n = rows * width;
        for (int i = 0; i < n; i++) x[i] = apply(x[i], i % width);
    }

    /**
     * Checks that every feature of {@code data} stays finite once normalized (a value near the float
     * limit divided by a small deviation may not), naming the first one that does not.
     */
    void checkFinite(Dataset data, String op) {
        checkFinite(data.features(), data.featureCount(), "feature", op);
    }

    /** As {@link #checkFinite(Dataset, String)} for the targets of {@code data} (a target normalization). */
    void checkFiniteTargets(Dataset data, String op) {
        checkFinite(data.targets(), data.targetCount(), "target", op);
    }

    private void checkFinite(float[] values, int width, String what, String op) {
        if (this == NONE) return;
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(apply(values[i], i % width)))
                throw new IllegalArgumentException(op + ": " + what + " value " + values[i] + " at row " + i / width
                        + ", column " + i % width + " is beyond the float range once normalized (" + describe() + ")");
    }

    /** The mean per feature of a standardization, else null (for the checkpoint's metadata). */
    float[] means() {
        return mean;
    }

    /** The deviation per feature of a standardization, else null. */
    float[] deviations() {
        return std;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && kind.equals(n.kind) && Arrays.equals(mean, n.mean)
                && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * kind.hashCode() + 17 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[" + describe() + "]";
    }
}
