// Dropout's mask, the one definition compiled into dropout.cu and dropout.cl; core's spi.DropoutMath is
// its Java twin (the cpu backend's and the conformance suite's). Element i of a layer's rows x cols
// activation takes lane i % 4 of Philox4x32-10 with key (seed lo, seed hi) and counter (i / 4, layer,
// step, 0), step being the optimizer's device count t: the same (seed, t, layer) gives the same mask
// bits on every backend, and a replayed step draws a fresh mask with no host work.
#ifndef BACKPROP4J_DROPOUT_MATH_H
#define BACKPROP4J_DROPOUT_MATH_H

#include "philox.h"

// The draws of elements 4·block … 4·block + 3.
MATH_FN philox4 dropout_draws(math_u64 seed, math_u32 step, math_u32 layer, math_u32 block) {
    philox4 counter = {block, layer, step, 0u};
    return philox4x32_10(counter, (math_u32)seed, (math_u32)(seed >> 32));
}

// Kept (× scale = 1/(1 − p), inverted dropout) when the draw is below keep_threshold = round((1 − p)·2³²),
// which the host computes once (2³² keeps everything); else 0.
MATH_FN float dropout_mask_value(math_u32 draw, math_u64 keep_threshold, float scale) {
    return (math_u64)draw < keep_threshold ? scale : 0.0f;
}

#endif
