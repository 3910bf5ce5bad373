package io.github.backprop4j.core;

import java.util.Locale;

/**
 * Arithmetic used by the backend's matrix multiplications. Element-wise ops are always fp32.
 *
 * <pre>
 * Backend gpu = Backends.open("cuda", BackendOptions.defaults().withPrecision(Precision.TF32));
 * </pre>
 */
public enum Precision {
    /** IEEE float32 everywhere. */
    FP32,
    /** TensorFloat-32 tensor-core GEMMs (10-bit mantissa inputs, fp32 accumulate) where the device has them. */
    TF32;

    /**
     * A precision by name.
     *
     * @param text "fp32" or "tf32", any case
     * @return the precision
     */
    public static Precision parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + text + "': expected fp32 or tf32");
        }
    }
}
