package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.fail;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Matrix;
import java.util.SplittableRandom;

/** Element-wise comparisons against float64 references that report the worst element. */
final class Check {

    private Check() {
    }

    /** |got − ref| ≤ rel·scale[i] + abs for every i, scale[i] being the magnitude the error is relative to. */
    static void close(String what, double[] ref, float[] got, double[] scale, double rel, double abs) {
        if (ref.length != got.length) fail(what + ": expected " + ref.length + " values, got " + got.length);
        double factor = BackendFixture.toleranceScale();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - ref[i]);
            double allowed = factor * (rel * scale[i] + abs);
            if (!(err <= allowed) && (worst < 0 || err - allowed > worstExcess)) {
                worst = i;
                worstExcess = err - allowed;
            }
        }
        if (worst >= 0)
            fail(what + ": element " + worst + " is " + got[worst] + ", reference " + ref[worst] + " (error "
                    + Math.abs(got[worst] - ref[worst]) + " > allowed " + factor * (rel * scale[worst] + abs) + ")");
    }

    /** Relative to max(1, |ref|). */
    static void close(String what, double[] ref, float[] got, double rel) {
        double[] scale = new double[ref.length];
        for (int i = 0; i < ref.length; i++) scale[i] = Math.max(1, Math.abs(ref[i]));
        close(what, ref, got, scale, rel, 0);
    }

    static float[] random(SplittableRandom rng, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return v;
    }

    /** rows samples of uniform features in [-1, 1) with uniformly drawn labels. */
    static Dataset classification(SplittableRandom rng, int rows, int features, int classes) {
        int[] labels = new int[rows];
        for (int i = 0; i < rows; i++) labels[i] = rng.nextInt(classes);
        return Dataset.classification(random(rng, rows * features, -1, 1), features, labels, classes);
    }

    static Matrix upload(Backend b, int rows, int cols, float[] v) {
        Matrix m = b.allocate(rows, cols);
        b.upload(v, m);
        return m;
    }

    static float[] download(Backend b, Matrix m) {
        float[] v = new float[(int) m.size()];
        b.download(m, v);
        return v;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }
}
