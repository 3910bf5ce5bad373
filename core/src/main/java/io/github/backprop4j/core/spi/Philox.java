package io.github.backprop4j.core.spi;

/**
 * Philox4x32-10, the counter-based generator of kernels/src/main/common/philox.h, in Java: any block of
 * four 32-bit draws is a pure function of a 128-bit counter and a 64-bit key, so every backend computes
 * the same bits in any order. Checked against Random123's known answers ({@code PhiloxTest}).
 */
public final class Philox {

    /** The round multipliers of counter words 0 and 2. */
    public static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    /** The Weyl increments of key words 0 and 1. */
    public static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {
    }

    /**
     * Ten rounds over counter (c0, c1, c2, c3) under key (k0, k1), the key bumped by the Weyl constants
     * before every round but the first; the four draws go to {@code out[0..3]} (as unsigned bits in ints).
     *
     * @param c0  counter word 0
     * @param c1  counter word 1
     * @param c2  counter word 2
     * @param c3  counter word 3
     * @param k0  key word 0
     * @param k1  key word 1
     * @param out four draws
     */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (c0 & 0xffffffffL) * (M0 & 0xffffffffL), p1 = (c2 & 0xffffffffL) * (M1 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0, n1 = (int) p1, n2 = (int) (p0 >>> 32) ^ c3 ^ k1, n3 = (int) p0;
            c0 = n0;
            c1 = n1;
            c2 = n2;
            c3 = n3;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }
}
