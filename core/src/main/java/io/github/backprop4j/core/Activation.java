package io.github.backprop4j.core;

import java.util.Locale;

/**
 * Element-wise activations. The scalar formulas here are the definition every backend's kernels
 * must match (the conformance suite compares against them in float64).
 */
public enum Activation {
    IDENTITY,
    RELU,
    /** max(z, 0.01·z). */
    LEAKY_RELU,
    SIGMOID,
    TANH,
    /** GELU, tanh approximation: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))). */
    GELU,
    /** Row-wise softmax; output layer only, paired with categorical cross-entropy. */
    SOFTMAX;

    public static final double LEAKY_SLOPE = 0.01;
    public static final double GELU_C = 0.7978845608028654; // √(2/π)
    public static final double GELU_K = 0.044715;

    /** f(z) for the element-wise activations (not SOFTMAX, which is row-wise). */
    public double apply(double z) {
        return switch (this) {
            case IDENTITY -> z;
            case RELU -> z > 0 || Double.isNaN(z) ? z : 0;   // NaN propagates, as in max(z, 0)
            case LEAKY_RELU -> z > 0 || Double.isNaN(z) ? z : LEAKY_SLOPE * z;
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case GELU -> 0.5 * z * (1 + Math.tanh(GELU_C * (z + GELU_K * z * z * z)));
            case SOFTMAX -> throw new UnsupportedOperationException("softmax is row-wise, not element-wise");
        };
    }

    /** f'(z) for the element-wise activations. */
    public double derivative(double z) {
        return switch (this) {
            case IDENTITY -> 1;
            case RELU -> z > 0 ? 1 : 0;
            case LEAKY_RELU -> z > 0 ? 1 : LEAKY_SLOPE;
            case SIGMOID -> {
                double s = 1 / (1 + Math.exp(-z));
                yield s * (1 - s);
            }
            case TANH -> {
                double t = Math.tanh(z);
                yield 1 - t * t;
            }
            case GELU -> {
                double t = Math.tanh(GELU_C * (z + GELU_K * z * z * z));
                yield 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * z * z);
            }
            case SOFTMAX -> throw new UnsupportedOperationException(
                    "softmax has no element-wise derivative; use it with categorical cross-entropy");
        };
    }

    public boolean isElementWise() {
        return this != SOFTMAX;
    }

    /**
     * Whether f'(z) can be computed from the output f(z) alone (ReLU: out &gt; 0, sigmoid: out·(1−out),
     * tanh: 1−out²). For these a backend that fuses the activation into its GEMM may skip storing z.
     */
    public boolean derivativeFromOutput() {
        return this != GELU && this != SOFTMAX;
    }

    public static Activation parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (t.equals("LEAKYRELU")) t = "LEAKY_RELU";
        if (t.equals("LINEAR") || t.equals("NONE")) t = "IDENTITY";
        try {
            return valueOf(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown activation '" + text
                    + "': expected identity, relu, leaky_relu, sigmoid, tanh, gelu or softmax");
        }
    }
}
