package io.github.backprop4j.cpu;

import io.github.backprop4j.core.spi.DropoutMath;
import io.github.backprop4j.core.spi.Philox;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dropout's mask for {@link #BLOCKS} Philox blocks at once: {@link DropoutMath}'s definition lane by lane
 * (the conformance suite checks the two agree bit for bit). Each 32-bit counter word sits zero-extended in
 * a long lane, so a round's 32×32-bit products are exact 64-bit lane multiplies; the keep decision is the
 * sign of draw − threshold, without a branch (a random branch mispredicts half the time at p = 0.5).
 */
final class DropoutLanes {

    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    /** Philox blocks (of four elements) per call. */
    static final int BLOCKS = L.length();
    private static final long WORD = 0xffffffffL;
    private static final long M0 = Philox.M0 & WORD, M1 = Philox.M1 & WORD, W0 = Philox.W0 & WORD, W1 = Philox.W1 & WORD;
    private static final LongVector LANE = LongVector.zero(L).addIndex(1);

    /** The four words of the last call's blocks: words[w][j] is word w of block first + j. */
    private final long[][] words = new long[4][BLOCKS];

    /**
     * mask[i] for the elements i &lt; n of blocks {@code first} … {@code first + BLOCKS − 1}: scale when lane
     * i % 4 of block i / 4 is below the threshold, else 0.
     */
    void fill(float[] mask, int n, long seed, int step, int layer, int first, long keepThreshold, float scale) {
        LongVector c0 = LANE.add(first & WORD), c1 = LongVector.broadcast(L, layer & WORD);
        LongVector c2 = LongVector.broadcast(L, step & WORD), c3 = LongVector.zero(L);
        long k0 = seed & WORD, k1 = seed >>> 32;
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 = (k0 + W0) & WORD;
                k1 = (k1 + W1) & WORD;
            }
            LongVector p0 = c0.mul(M0), p1 = c2.mul(M1);
            LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0);
            LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1);
            c1 = p1.and(WORD);
            c3 = p0.and(WORD);
            c0 = n0;
            c2 = n2;
        }
        c0.intoArray(words[0], 0);
        c1.intoArray(words[1], 0);
        c2.intoArray(words[2], 0);
        c3.intoArray(words[3], 0);
        for (int j = 0, i = 4 * first; j < BLOCKS && i < n; j++)
            for (int w = 0; w < 4 && i < n; w++, i++) mask[i] = scale * (float) ((words[w][j] - keepThreshold) >>> 63);
    }
}
