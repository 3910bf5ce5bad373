package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.Erfc;
import java.util.Locale;

/**
 * A layer's activation f, applied to Z = A_prev·W + 1·bᵀ. The scalar formulas here are the definition
 * every backend's kernels must match (the conformance suite compares against them in float64).
 *
 * <pre>
 * Network net = Network.input(4).dense(16, Activation.GELU).output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
 * double y = Activation.TANH.apply(0.5);   // the float64 reference
 * </pre>
 */
public enum Activation {
    /** f(z) = z: a linear layer (regression outputs). */
    IDENTITY,
    /** max(z, 0); NaN passes through. */
    RELU,
    /** max(z, 0.01·z). */
    LEAKY_RELU,
    /** 1 / (1 + e^−z). */
    SIGMOID,
    /** tanh(z). */
    TANH,
    /**
     * GELU, exact (PyTorch's default, {@code approximate='none'}): z·Φ(z) = 0.5·z·erfc(−z/√2), with erfc as
     * {@link Erfc} computes it on every backend.
     */
    GELU,
    /** GELU, tanh approximation: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))) (PyTorch's {@code approximate='tanh'}). */
    GELU_TANH,
    /** Row-wise softmax; output layer only, paired with categorical cross-entropy. */
    SOFTMAX;

    /** Leaky ReLU's slope below zero. */
    public static final double LEAKY_SLOPE = 0.01;
    /** √(2/π), in GELU's tanh approximation. */
    public static final double GELU_C = 0.7978845608028654;
    /** The cubic coefficient of GELU's tanh approximation. */
    public static final double GELU_K = 0.044715;
    /** 1/√2, in the exact GELU's Φ(z) = erfc(−z/√2)/2. */
    public static final double SQRT_HALF = 0.7071067811865476;
    /** 1/√(2π), in the exact GELU's derivative Φ(z) + z·φ(z). */
    public static final double INV_SQRT_2PI = 0.3989422804014327;

    /**
     * f(z) in float64, the reference the kernels are checked against.
     *
     * @param z the pre-activation
     * @return f(z)
     * @throws UnsupportedOperationException for {@link #SOFTMAX}, which is row-wise
     */
    public double apply(double z) {
        return switch (this) {
            case IDENTITY -> z;
            case RELU -> z > 0 || Double.isNaN(z) ? z : 0;   // NaN propagates, as in max(z, 0)
            case LEAKY_RELU -> z > 0 || Double.isNaN(z) ? z : LEAKY_SLOPE * z;
            case SIGMOID -> 1 / (1 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case GELU -> 0.5 * z * Erfc.erfc(-z * SQRT_HALF);
            case GELU_TANH -> 0.5 * z * (1 + Math.tanh(GELU_C * (z + GELU_K * z * z * z)));
            case SOFTMAX -> throw new UnsupportedOperationException("softmax is row-wise, not element-wise");
        };
    }

    /**
     * f'(z) in float64.
     *
     * @param z the pre-activation
     * @return f'(z)
     * @throws UnsupportedOperationException for {@link #SOFTMAX}, which has no element-wise derivative
     */
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
            case GELU -> 0.5 * Erfc.erfc(-z * SQRT_HALF) + z * INV_SQRT_2PI * Math.exp(-0.5 * z * z); // Φ(z) + z·φ(z)
            case GELU_TANH -> {
                double t = Math.tanh(GELU_C * (z + GELU_K * z * z * z));
                yield 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * z * z);
            }
            case SOFTMAX -> throw new UnsupportedOperationException(
                    "softmax has no element-wise derivative; use it with categorical cross-entropy");
        };
    }

    /**
     * Whether f maps each element on its own (every activation but softmax).
     *
     * @return false only for {@link #SOFTMAX}
     */
    public boolean isElementWise() {
        return this != SOFTMAX;
    }

    /**
     * Whether f'(z) can be computed from the output f(z) alone (ReLU: out &gt; 0, sigmoid: out·(1−out),
     * tanh: 1−out²). For these a backend that fuses the activation into its GEMM may skip storing z.
     *
     * @return false for GELU and softmax
     */
    public boolean derivativeFromOutput() {
        return this != GELU && this != GELU_TANH && this != SOFTMAX;
    }

    /**
     * An activation by name, as the command line and checkpoints write it.
     *
     * @param text e.g. "relu", "leaky_relu" (or "leakyrelu", "leaky-relu"), "identity" (or "linear", "none")
     * @return the activation
     * @throws IllegalArgumentException listing the names, for an unknown one
     */
    public static Activation parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (t.equals("LEAKYRELU")) t = "LEAKY_RELU";
        if (t.equals("LINEAR") || t.equals("NONE")) t = "IDENTITY";
        try {
            return valueOf(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown activation '" + text
                    + "': expected identity, relu, leaky_relu, sigmoid, tanh, gelu, gelu_tanh or softmax");
        }
    }
}
