// Device.lossGradient in two kernels: loss_gradient writes delta and each block's share of the loss
// (loss_math.h, shared with loss.cl), then loss_gradient_sum adds the blocks' shares into the 1x1
// accumulator. Every sum runs in an order fixed by the shape and the grid (which the launcher sizes from
// the device alone), never by scheduling or atomics: the same input gives the same bits on every run.
#include "common.cuh"
#include "loss_math.h"

// One warp per row (rows strided over the grid); a lane adds its columns row after row, warp_sum's fixed
// butterfly then the block's warps in order give block_loss[blockIdx.x].
extern "C" __global__ void loss_gradient(const float* yhat, const float* y, float* delta, int rows, int cols,
                                         int loss, float inv_n, float* block_loss) {
    __shared__ float warp_part[32];
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
    mine = warp_sum(mine);
    if (lane == 0) warp_part[warp] = mine;
    __syncthreads();
    if (warp == 0) {
        float s = lane < warps_per_block ? warp_part[lane] : 0.0f;
        s = warp_sum(s);
        if (lane == 0) block_loss[blockIdx.x] = s;
    }
}

// One block of LOSS_SUM_THREADS: thread k adds blocks k, k + LOSS_SUM_THREADS, ... (Kahan), then the
// threads' sums are added by warp_sum within each warp and by warp 0 across the warps.
#define LOSS_SUM_THREADS 256
extern "C" __global__ void loss_gradient_sum(const float* block_loss, int blocks, float* loss_sum) {
    __shared__ float warp_part[LOSS_SUM_THREADS / 32];
    float sum = 0.0f, comp = 0.0f;
    for (int i = threadIdx.x; i < blocks; i += LOSS_SUM_THREADS) {
        const float v = block_loss[i] - comp;
        const float t = sum + v;
        comp = (t - sum) - v;
        sum = t;
    }
    sum = warp_sum(sum);
    if ((threadIdx.x & 31) == 0) warp_part[threadIdx.x >> 5] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        float s = threadIdx.x < LOSS_SUM_THREADS / 32 ? warp_part[threadIdx.x] : 0.0f;
        s = warp_sum(s);
        if (threadIdx.x == 0) loss_sum[0] += s;
    }
}
