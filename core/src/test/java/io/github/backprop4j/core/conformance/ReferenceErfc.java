package io.github.backprop4j.core.conformance;

/**
 * erfc in float64 from its series and continued fraction, independent of the approximation the
 * backends share (core's spi.Erfc): the reference the exact GELU is checked against.
 */
final class ReferenceErfc {

    private ReferenceErfc() {
    }

    static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 0) return 2 - erfc(-x);
        if (x < 3) return 1 - erf(x);
        // e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated from the 80th term back
        double k = x;
        for (int n = 80; n >= 1; n--) k = x + (n / 2.0) / k;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / k;
    }

    /** erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ·x^{2n+1}/(1·3·…·(2n+1)): positive terms, no cancellation, for |x| < 3. */
    private static double erf(double x) {
        double term = x, sum = x;
        for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / Math.sqrt(Math.PI) * Math.exp(-x * x) * sum;
    }

    /** The exact GELU, 0.5·z·erfc(−z/√2). */
    static double gelu(double z) {
        return 0.5 * z * erfc(-z / Math.sqrt(2));
    }

    /** Its derivative Φ(z) + z·φ(z). */
    static double geluDerivative(double z) {
        return 0.5 * erfc(-z / Math.sqrt(2)) + z * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    }
}
