// Device.dropoutForward and Device.dropoutBackward (contracts in core's Device); the mask is
// dropout_math.h's, shared with dropout.cl. The step count t is read from the optimizer's device buffer,
// so a recorded CUDA graph draws a fresh mask on every replay.
#include "common.cuh"
#include "dropout_math.h"

// One thread per Philox block of four elements (grid-stride): mask <- 1/(1 - p) or 0, out <- in * mask.
// out may be in; mask is neither.
extern "C" __global__ void dropout_forward(const float* in, float* out, float* mask, long long n, long long seed,
                                           int layer, const int* step, long long keep_threshold, float scale) {
    const math_u32 t = (math_u32)step[0];
    FOR_EACH_INDEX(block, (n + 3) / 4) {
        const philox4 d = dropout_draws((math_u64)seed, t, (math_u32)layer, (math_u32)block);
        const math_u32 draws[4] = {d.x, d.y, d.z, d.w};
        for (int lane = 0; lane < 4 && 4 * block + lane < n; lane++) {
            const long long i = 4 * block + lane;
            const float m = dropout_mask_value(draws[lane], (math_u64)keep_threshold, scale);
            mask[i] = m;
            out[i] = in[i] * m;
        }
    }
}

// delta <- delta * mask: the gradient flows through kept elements only, scaled as they were.
extern "C" __global__ void dropout_backward(float* delta, const float* mask, long long n) {
    FOR_EACH_INDEX(i, n) delta[i] *= mask[i];
}
