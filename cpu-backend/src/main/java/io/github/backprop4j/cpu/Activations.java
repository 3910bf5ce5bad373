package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;

/**
 * The element-wise activations over a run of a row ({@link ActivationMath}'s definitions), shared by
 * {@link CpuDevice#activationForward} and the GEMM epilogue of a fused dense layer, so both compute
 * exactly the same values. Plain loops on purpose: C2 vectorizes the ReLU and identity ones, and they
 * stay fast before C2 has compiled them (Vector API code is very slow until then, and the epilogue
 * runs once per GEMM tile). NaN passes through.
 */
final class Activations {

    private Activations() {
    }

    /** Whether {@code f} is element-wise (softmax is row-wise). */
    static boolean elementWise(Activation f) {
        return f != Activation.SOFTMAX;
    }

    /** z[off..off+len) += bias[col..col+len) (when bias is not null), then out = f(z) over the same run. */
    static void biasActivate(Activation f, float[] z, int off, float[] bias, int col, float[] out, int len) {
        if (bias != null) for (int j = 0; j < len; j++) z[off + j] += bias[col + j];
        switch (f) {
            case IDENTITY -> {
                if (z != out) System.arraycopy(z, off, out, off, len);
            }
            case RELU -> {
                for (int j = 0; j < len; j++) out[off + j] = Math.max(z[off + j], 0f);
            }
            case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise, not element-wise");
            default -> {
                for (int j = 0; j < len; j++) out[off + j] = ActivationMath.activationValue(f, z[off + j]);
            }
        }
    }
}
