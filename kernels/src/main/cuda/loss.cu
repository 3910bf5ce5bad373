// Loss gradient at the output, delta = (yHat - y) / n for every pairing the trainer allows (linear+MSE,
// sigmoid+BCE, softmax+CCE: the softmax/sigmoid Jacobian cancels into this one expression), and the
// batch's summed loss added into a 1x1 device accumulator. One warp per row; one atomicAdd per block.
#include "common.cuh"

extern "C" __global__ void loss_gradient(const float* yhat, const float* y, float* delta, int rows, int cols,
                                         int loss, float inv_n, float* loss_sum) {
    __shared__ float block_part[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps_per_block = blockDim.x >> 5;
    float mine = 0.0f;
    for (int r = blockIdx.x * warps_per_block + warp; r < rows; r += gridDim.x * warps_per_block) {
        float l = 0.0f;
        for (int j = lane; j < cols; j += 32) {
            const long long i = (long long)r * cols + j;
            const float p = yhat[i], t = y[i], diff = p - t;
            delta[i] = diff * inv_n;
            if (loss == LOSS_MSE) {
                l += 0.5f * diff * diff;
            } else {
                // fmaxf/fminf drop a NaN operand: keep it, so a diverged output never reads as a finite loss
                const float q = isnan(p) ? p : fminf(fmaxf(p, LOG_EPS), 1.0f - LOG_EPS);
                if (loss == LOSS_BCE) l -= t * logf(q) + (1.0f - t) * logf(1.0f - q);
                else if (t != 0.0f || isnan(p)) l -= t * logf(q);
            }
        }
        mine += l;
    }
    mine = warp_sum(mine);
    if (lane == 0) block_part[warp] = mine;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps_per_block ? block_part[lane] : 0.0f;
        s = warp_sum(s);
        // Idle blocks skip the atomic; NaN != 0 holds, so a NaN loss still reaches the sum.
        if (lane == 0 && s != 0.0f) atomicAdd(loss_sum, s);
    }
}
