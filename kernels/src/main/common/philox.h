// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-based
// generator, so any element's random bits are a pure function of (counter, key) and every backend draws
// the same ones in any order. Core's spi.Philox is its Java twin, checked against Random123's known
// answers.
#ifndef BACKPROP4J_PHILOX_H
#define BACKPROP4J_PHILOX_H

#include "math_prelude.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

typedef struct {
    math_u32 x, y, z, w;
} philox4;

// The high 32 bits of the 64-bit product.
MATH_FN math_u32 philox_mulhi(math_u32 a, math_u32 b) {
    return (math_u32)(((math_u64)a * b) >> 32);
}

// Ten rounds over the counter c; the key (k0, k1) is bumped by the Weyl constants before every round but the first.
MATH_FN philox4 philox4x32_10(philox4 c, math_u32 k0, math_u32 k1) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        const math_u32 hi0 = philox_mulhi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
        const math_u32 hi1 = philox_mulhi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
        philox4 next = {hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
        c = next;
    }
    return c;
}

#endif
