package io.github.backprop4j.core.spi;

/**
 * The complementary error function as every backend computes it for the exact GELU: the Java twin of
 * {@code activation_erfc} in kernels/src/main/common/activation_math.h (coefficients in op_codes.h).
 *
 * <p>For x ≥ 0, erfc(x) = t·exp(P(t) − x²) with t = 1/(1 + 0.4·x) and P a degree-10 polynomial fitted
 * (weighted least squares toward minimax, over x in [0, 10]) to log(erfc(x)·e^{x²}/t); erfc(−x) = 2 − erfc(x).
 * Relative error below 7e-8 evaluated in double for |x| ≤ 10 (beyond, erfc(x) &lt; 2e-45 is 0 in float);
 * in float, below 2e-6 for |x| ≤ 4 (the rounding of x² dominates). One formula for all backends, because
 * Java has no erf and the Vector API no erf lane operation, while exp, division and polynomials exist
 * everywhere: the cpu backend vectorizes it, and CUDA, OpenCL and the JVM evaluate the same expression
 * instead of three vendors' erfs.
 */
public final class Erfc {

    /** p of t = 1/(1 + p·|x|). */
    public static final float T_SCALE = 0.4f;

    /** P's coefficients, constant term first (op_codes.h: ERFC_C0 … ERFC_C10). */
    private static final float[] C = {-1.4886546f, 0.9998037f, 0.42419726f, 0.13263585f, 0.25327438f,
            -0.85601956f, 1.7532777f, -2.7654479f, 2.433112f, -1.0772042f, 0.19102551f};

    private Erfc() {
    }

    /**
     * The polynomial's degree.
     *
     * @return the degree (its coefficients are {@link #coefficient}(0 … degree))
     */
    public static int degree() {
        return C.length - 1;
    }

    /**
     * One coefficient of P.
     *
     * @param k the power of t
     * @return P's coefficient of t^k
     */
    public static float coefficient(int k) {
        return C[k];
    }

    /**
     * erfc(x) in float, in the kernels' order of operations.
     *
     * @param x any float
     * @return erfc(x); NaN for NaN
     */
    public static float erfc(float x) {
        float a = Math.abs(x);
        float t = 1f / (1f + T_SCALE * a);
        float p = C[C.length - 1];
        for (int k = C.length - 2; k >= 0; k--) p = p * t + C[k];
        float r = t * (float) Math.exp(p - a * a);
        return x < 0f ? 2f - r : r;
    }

    /**
     * The same approximation evaluated in double (the float64 statement of what the kernels compute).
     *
     * @param x any double
     * @return the approximation's erfc(x)
     */
    public static double erfc(double x) {
        double a = Math.abs(x);
        double t = 1 / (1 + T_SCALE * a);
        double p = C[C.length - 1];
        for (int k = C.length - 2; k >= 0; k--) p = p * t + C[k];
        double r = t * Math.exp(p - a * a);
        return x < 0 ? 2 - r : r;
    }
}
