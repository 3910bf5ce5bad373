package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.spi.Erfc;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * kernels/src/main/common/activation_math.h in Java, function for function, in float: the definitions
 * the CUDA and OpenCL kernels compile. The vectorized loops of {@link CpuDevice} compute the same
 * expressions lane by lane (with {@link #erfc(FloatVector)} for {@link Erfc#erfc(float)} and
 * {@link #exp(FloatVector)} for Math.exp, each within an ulp or two of it) and use these for their tails.
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

    /** {@link Erfc#erfc(float)} lane by lane, in the same order of operations, with {@link #exp(FloatVector)}. */
    static FloatVector erfc(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector t = x.broadcast(1f).div(a.mul(Erfc.T_SCALE).add(1f));
        FloatVector p = x.broadcast(Erfc.coefficient(Erfc.degree()));
        for (int k = Erfc.degree() - 1; k >= 0; k--) p = p.mul(t).add(Erfc.coefficient(k));
        FloatVector r = t.mul(exp(p.sub(a.mul(a))));
        return r.blend(x.broadcast(2f).sub(r), x.compare(VectorOperators.LT, 0f));
    }

    private static final float LOG2E = 1.44269504f;
    /** ln 2 split so that n·LN2_HIGH is exact for every n used (LN2_HIGH has 9 significant bits). */
    private static final float LN2_HIGH = 0.693359375f, LN2_LOW = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND = 12582912f;
    /** 1/k! for k = 7 down to 2: e^r's Taylor polynomial, whose truncation error is below 0.1 ulp for |r| ≤ ln2/2. */
    private static final float[] TAYLOR = {1f / 5040, 1f / 720, 1f / 120, 1f / 24, 1f / 6, 1f / 2};

    /**
     * e^x lane by lane from IEEE additions, multiplications, fused multiply-adds and integer bit
     * operations only, so every JIT tier computes the same bits. {@code lanewise(EXP)} does not: it runs
     * Math.exp per lane until C2 compiles it to a vector math library whose result differs in the last
     * bit for about 1% of inputs, which made a run's weights depend on when the JIT got to it (a resumed
     * run drifted from an unbroken one by an ulp). x = n·ln2 + r with |r| ≤ ln2/2, e^r from its Taylor
     * polynomial, then ·2^n in two halves so that results down into the subnormals and up to the
     * overflow to infinity come out right; NaN stays NaN. Within 2 ulp of the exact e^x.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(-110f).min(90f);   // beyond: 0 and ∞ all the same (Math.max/min semantics keep NaN)
        FloatVector n = c.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = c.sub(n.mul(LN2_HIGH)).sub(n.mul(LN2_LOW));
        FloatVector p = x.broadcast(TAYLOR[0]);
        for (int k = 1; k < TAYLOR.length; k++) p = p.fma(r, x.broadcast(TAYLOR[k]));
        p = p.fma(r, x.broadcast(1f)).fma(r, x.broadcast(1f));
        IntVector whole = (IntVector) n.convert(VectorOperators.F2I, 0);   // NaN → 0: the NaN stays in p
        IntVector half = whole.lanewise(VectorOperators.ASHR, 1);
        return p.mul(powerOfTwo(half)).mul(powerOfTwo(whole.sub(half)));
    }

    /** 2^e as floats, for −127 < e < 128. */
    private static FloatVector powerOfTwo(IntVector e) {
        return e.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    }
}
