package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.spi.Erfc;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * kernels/src/main/common/activation_math.h in Java, function for function, in float: the definitions
 * the CUDA and OpenCL kernels compile. The vectorized loops of {@link CpuDevice} compute the same
 * expressions lane by lane (with {@link #erfc(FloatVector)} for {@link Erfc#erfc(float)}) and use these
 * for their tails.
 */
final class ActivationMath {

    static final float LEAKY_SLOPE = (float) Activation.LEAKY_SLOPE;
    static final float GELU_C = (float) Activation.GELU_C;
    static final float GELU_K = (float) Activation.GELU_K;
    static final float SQRT_HALF = (float) Activation.SQRT_HALF;
    static final float INV_SQRT_2PI = (float) Activation.INV_SQRT_2PI;

    private ActivationMath() {
    }

    /** f(z); NaN passes through every f. */
    static float activationValue(Activation f, float z) {
        return switch (f) {
            case RELU -> z > 0f || Float.isNaN(z) ? z : 0f;
            case LEAKY_RELU -> z > 0f || Float.isNaN(z) ? z : LEAKY_SLOPE * z;
            case SIGMOID -> 1f / (1f + (float) Math.exp(-z));
            case TANH -> (float) Math.tanh(z);
            case GELU -> 0.5f * z * Erfc.erfc(-z * SQRT_HALF);
            case GELU_TANH -> 0.5f * z * (1f + (float) Math.tanh(GELU_C * (z + GELU_K * z * z * z)));
            default -> z;
        };
    }

    /** f′ from out = f(z) for ReLU, leaky ReLU, sigmoid and tanh; from z for both GELUs. */
    static float activationDerivative(Activation f, float out, float z) {
        return switch (f) {
            case RELU -> out > 0f ? 1f : 0f;
            case LEAKY_RELU -> out > 0f ? 1f : LEAKY_SLOPE;
            case SIGMOID -> out * (1f - out);
            case TANH -> 1f - out * out;
            case GELU -> 0.5f * Erfc.erfc(-z * SQRT_HALF) + z * INV_SQRT_2PI * (float) Math.exp(-0.5f * z * z);
            case GELU_TANH -> {
                float t = (float) Math.tanh(GELU_C * (z + GELU_K * z * z * z));
                yield 0.5f * (1f + t) + 0.5f * z * (1f - t * t) * GELU_C * (1f + 3f * GELU_K * z * z);
            }
            default -> 1f;
        };
    }

    /** Whether {@link #activationDerivative} reads z (either GELU) rather than out. */
    static boolean activationDerivativeReadsZ(Activation f) {
        return f == Activation.GELU || f == Activation.GELU_TANH;
    }

    /** {@link Erfc#erfc(float)} lane by lane, in the same order of operations. */
    static FloatVector erfc(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector t = x.broadcast(1f).div(a.mul(Erfc.T_SCALE).add(1f));
        FloatVector p = x.broadcast(Erfc.coefficient(Erfc.degree()));
        for (int k = Erfc.degree() - 1; k >= 0; k--) p = p.mul(t).add(Erfc.coefficient(k));
        FloatVector r = t.mul(p.sub(a.mul(a)).lanewise(VectorOperators.EXP));
        return r.blend(x.broadcast(2f).sub(r), x.compare(VectorOperators.LT, 0f));
    }
}
