// Device.dropoutForward and Device.dropoutBackward (contracts in core's Device); the mask is
// dropout_math.h's, shared with dropout.cu. The step count t is read from the optimizer's device buffer.
#include "dropout_math.h"

// One work-item per Philox block of four elements: mask <- 1/(1 - p) or 0, out <- in * mask. out may be
// in; mask is neither.
__kernel void dropout_forward(__global const float* in, __global float* out, __global float* mask, const int n,
                              const long seed, const int layer, __global const int* step, const long keep_threshold,
                              const float scale)
{
    const int block = get_global_id(0);
    if (block >= (n + 3) / 4) return;
    const philox4 d = dropout_draws((math_u64) seed, (math_u32) step[0], (math_u32) layer, (math_u32) block);
    const math_u32 draws[4] = {d.x, d.y, d.z, d.w};
    for (int lane = 0; lane < 4 && 4 * block + lane < n; lane++) {
        const int i = 4 * block + lane;
        const float m = dropout_mask_value(draws[lane], (math_u64) keep_threshold, scale);
        mask[i] = m;
        out[i] = in[i] * m;
    }
}

// delta <- delta * mask.
__kernel void dropout_backward(__global float* delta, __global const float* mask, const int n)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    delta[i] *= mask[i];
}
