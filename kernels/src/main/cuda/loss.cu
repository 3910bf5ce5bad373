// Device.lossGradient in two kernels: loss_gradient writes delta and each block's share of the loss
// (loss_math.h, shared with loss.cl), then loss_gradient_sum adds the blocks' shares into the 1x1
// accumulator. Every sum runs in an order fixed by the shape and the grid (which the launcher sizes from
// the device alone), never by scheduling or atomics: the same input gives the same bits on every run.
#include "common.cuh"
#include "loss_math.h"

// One warp per row (rows strided over the grid); a lane adds its columns row after row, then block_sum's
// fixed order gives block_loss[blockIdx.x].
extern "C" __global__ void loss_gradient(const float* yhat, const float* y, float* delta, int rows, int cols,
                                         int loss, float inv_n, float* block_loss) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps_per_block = blockDim.x >> 5;
    float mine = 0.0f;
    for (int r = blockIdx.x * warps_per_block + warp; r < rows; r += gridDim.x * warps_per_block) {
        for (int j = lane; j < cols; j += 32) {
            const long long i = (long long)r * cols + j;
            delta[i] = loss_gradient_value(yhat[i], y[i], inv_n);
            mine += loss_term(loss, yhat[i], y[i]);
        }
    }
    const float s = block_sum(mine);
    if (threadIdx.x == 0) block_loss[blockIdx.x] = s;
}

// One block (the launcher's 256 threads): thread k adds blocks k, k + 256, ... (Kahan), then block_sum.
extern "C" __global__ void loss_gradient_sum(const float* block_loss, int blocks, float* loss_sum) {
    const float s = block_sum(strided_kahan_sum(block_loss, blocks));
    if (threadIdx.x == 0) loss_sum[0] += s;
}
