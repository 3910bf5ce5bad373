package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;

/**
 * kernels/src/main/common/activation_math.h in Java, function for function, in float: the definitions
 * the CUDA and OpenCL kernels compile. The vectorized loops of {@link CpuDevice} compute the same
 * expressions lane by lane and use these for their tails.
 */
final class ActivationMath {

    static final float LEAKY_SLOPE = (float) Activation.LEAKY_SLOPE;
    static final float GELU_C = (float) Activation.GELU_C;
    static final float GELU_K = (float) Activation.GELU_K;

    private ActivationMath() {
    }

    /** f(z); NaN passes through every f. */
    static float activationValue(Activation f, float z) {
        return switch (f) {
            case RELU -> z > 0f || Float.isNaN(z) ? z : 0f;
            case LEAKY_RELU -> z > 0f || Float.isNaN(z) ? z : LEAKY_SLOPE * z;
            case SIGMOID -> 1f / (1f + (float) Math.exp(-z));
            case TANH -> (float) Math.tanh(z);
            case GELU -> 0.5f * z * (1f + (float) Math.tanh(GELU_C * (z + GELU_K * z * z * z)));
            default -> z;
        };
    }

    /** f′ from out = f(z) for ReLU, leaky ReLU, sigmoid and tanh; from z for GELU. */
    static float activationDerivative(Activation f, float out, float z) {
        return switch (f) {
            case RELU -> out > 0f ? 1f : 0f;
            case LEAKY_RELU -> out > 0f ? 1f : LEAKY_SLOPE;
            case SIGMOID -> out * (1f - out);
            case TANH -> 1f - out * out;
            case GELU -> {
                float t = (float) Math.tanh(GELU_C * (z + GELU_K * z * z * z));
                yield 0.5f * (1f + t) + 0.5f * z * (1f - t * t) * GELU_C * (1f + 3f * GELU_K * z * z);
            }
            default -> 1f;
        };
    }

    /** Whether {@link #activationDerivative} reads z (GELU) rather than out. */
    static boolean activationDerivativeReadsZ(Activation f) {
        return f == Activation.GELU;
    }
}
