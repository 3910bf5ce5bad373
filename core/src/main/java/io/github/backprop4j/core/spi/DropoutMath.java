package io.github.backprop4j.core.spi;

/**
 * Dropout's mask, kernels/src/main/common/dropout_math.h in Java: what the cpu backend computes and what
 * the conformance suite compares every backend's mask with, bit for bit. Element i of a layer's activation
 * takes lane i % 4 of {@link Philox} with key (seed lo, seed hi) and counter (i / 4, layer, step, 0); it
 * is kept, scaled by {@link #keepScale}, when that draw is below {@link #keepThreshold}, else zeroed.
 * Devices pass the threshold and the scale to their kernels as computed here, once, so every backend
 * uses the same two numbers.
 */
public final class DropoutMath {

    private DropoutMath() {
    }

    /**
     * round((1 − p)·2³²): a 32-bit draw below it keeps its element (2³², for p = 0, keeps all).
     *
     * @param dropProbability p
     * @return the threshold, in [0, 2³²]
     */
    public static long keepThreshold(float dropProbability) {
        return Math.round((1.0 - dropProbability) * 0x1p32);
    }

    /**
     * 1/(1 − p) in float: what kept elements are multiplied by (inverted dropout).
     *
     * @param dropProbability p
     * @return the scale
     */
    public static float keepScale(float dropProbability) {
        return (float) (1.0 / (1.0 - dropProbability));
    }

    /**
     * The draws of elements 4·block … 4·block + 3 into {@code out[0..3]}.
     *
     * @param seed  the key
     * @param step  the optimizer step count t
     * @param layer the layer index
     * @param block the element index / 4
     * @param out   four draws (unsigned bits in ints)
     */
    public static void draws(long seed, int step, int layer, int block, int[] out) {
        Philox.block(block, layer, step, 0, (int) seed, (int) (seed >>> 32), out);
    }

    /**
     * One element's mask value.
     *
     * @param draw          its draw (unsigned bits)
     * @param keepThreshold from {@link #keepThreshold}
     * @param scale         from {@link #keepScale}
     * @return scale when the draw is below the threshold, else 0
     */
    public static float maskValue(int draw, long keepThreshold, float scale) {
        return Integer.toUnsignedLong(draw) < keepThreshold ? scale : 0f;
    }

    /**
     * The mask of an n-element activation, element by element (the reference).
     *
     * @param n               elements
     * @param dropProbability p
     * @param seed            the key
     * @param step            the optimizer step count t
     * @param layer           the layer index
     * @return n mask values, 1/(1 − p) or 0
     */
    public static float[] mask(int n, float dropProbability, long seed, int step, int layer) {
        long threshold = keepThreshold(dropProbability);
        float scale = keepScale(dropProbability);
        float[] mask = new float[n];
        int[] draws = new int[4];
        for (int i = 0; i < n; i++) {
            if (i % 4 == 0) draws(seed, step, layer, i / 4, draws);
            mask[i] = maskValue(draws[i % 4], threshold, scale);
        }
        return mask;
    }
}
