package io.github.backprop4j.core.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Philox4x32-10 against Random123's known answers (tests/kat_vectors), and dropout's keying on top of it. */
class PhiloxTest {

    private static int[] block(int[] counter, int[] key) {
        int[] out = new int[4];
        Philox.block(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
        return out;
    }

    @Test
    void knownAnswers() {
        assertArrayEquals(new int[]{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                block(new int[]{0, 0, 0, 0}, new int[]{0, 0}));
        assertArrayEquals(new int[]{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                block(new int[]{-1, -1, -1, -1}, new int[]{-1, -1}));
        assertArrayEquals(new int[]{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                block(new int[]{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, new int[]{0xa4093822, 0x299f31d0}));
    }

    /** Counter (i / 4, layer, step, 0), key (seed lo, seed hi), lane i % 4. */
    @Test
    void dropoutKeying() {
        long seed = 0x299f31d0a4093822L;
        int[] draws = new int[4];
        DropoutMath.draws(seed, 0x13198a2e, 0x85a308d3, 0x243f6a88, draws);
        assertArrayEquals(block(new int[]{0x243f6a88, 0x85a308d3, 0x13198a2e, 0}, new int[]{0xa4093822, 0x299f31d0}), draws);
        float[] mask = DropoutMath.mask(10, 0.25f, seed, 7, 3);
        DropoutMath.draws(seed, 7, 3, 2, draws);
        long threshold = DropoutMath.keepThreshold(0.25f);
        assertEquals(Integer.toUnsignedLong(draws[1]) < threshold ? 4f / 3 : 0f, mask[9], "element 9 is block 2, lane 1");
    }

    @Test
    void thresholdAndScale() {
        assertEquals(1L << 32, DropoutMath.keepThreshold(0f), "p = 0 keeps every draw");
        assertEquals(1f, DropoutMath.keepScale(0f));
        assertEquals(3L << 30, DropoutMath.keepThreshold(0.25f));
        assertEquals(2f, DropoutMath.keepScale(0.5f));
        assertEquals(1L << 31, DropoutMath.keepThreshold(0.5f));
        assertTrue(DropoutMath.keepThreshold(Math.nextDown(1f)) > 0);
        for (float m : DropoutMath.mask(1000, 0f, 1, 2, 3)) assertEquals(1f, m);
    }
}
