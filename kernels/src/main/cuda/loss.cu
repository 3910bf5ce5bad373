// Device.lossGradient in two kernels: loss_gradient writes delta and each row's loss (loss_math.h,
// shared with loss.cl), then loss_gradient_sum adds the rows into the 1x1 accumulator in an order fixed
// by the row count alone (no atomics): the same input gives the same bits on every run.
#include "common.cuh"
#include "loss_math.h"

// One warp per row; the row's columns are split over the lanes and added by warp_sum's fixed butterfly.
extern "C" __global__ void loss_gradient(const float* yhat, const float* y, float* delta, int rows, int cols,
                                         int loss, float inv_n, float* row_loss) {
    const int lane = threadIdx.x & 31;
    const int warps_per_block = blockDim.x >> 5;
    for (int r = blockIdx.x * warps_per_block + (threadIdx.x >> 5); r < rows; r += gridDim.x * warps_per_block) {
        float l = 0.0f;
        for (int j = lane; j < cols; j += 32) {
            const long long i = (long long)r * cols + j;
            delta[i] = loss_gradient_value(yhat[i], y[i], inv_n);
            l += loss_term(loss, yhat[i], y[i]);
        }
        l = warp_sum(l);
        if (lane == 0) row_loss[r] = l;
    }
}

// One block of LOSS_SUM_THREADS: thread k sums rows k, k + LOSS_SUM_THREADS, ... (Kahan), then the
// threads' sums are added by warp_sum within each warp and by warp 0 across the warps.
#define LOSS_SUM_THREADS 256
extern "C" __global__ void loss_gradient_sum(const float* row_loss, int rows, float* loss_sum) {
    __shared__ float warp_part[LOSS_SUM_THREADS / 32];
    float sum = 0.0f, comp = 0.0f;
    for (int i = threadIdx.x; i < rows; i += LOSS_SUM_THREADS) {
        const float y = row_loss[i] - comp;
        const float t = sum + y;
        comp = (t - sum) - y;
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
