// Device.sumOfSquares: out <- (accumulate ? out : 0) + sum of m[i]^2, the squared global gradient norm that
// clipping reads. sum_of_squares writes one partial per block (each thread's Kahan sum of a fixed grid
// stride, then block_sum), sum_of_squares_total adds them in order. The order depends on n and the grid,
// which the launcher sizes from n and the device alone (no atomics): the same bits run after run.
#include "common.cuh"

extern "C" __global__ void sum_of_squares(const float* m, long long n, float* block_partial) {
    float sum = 0.0f, comp = 0.0f;
    FOR_EACH_INDEX(i, n) kahan_add(sum, comp, m[i] * m[i]);
    const float s = block_sum(sum);
    if (threadIdx.x == 0) block_partial[blockIdx.x] = s;
}

// One block (the launcher's 256 threads) over the partials.
extern "C" __global__ void sum_of_squares_total(const float* block_partial, int blocks, int accumulate, float* out) {
    const float s = block_sum(strided_kahan_sum(block_partial, blocks));
    if (threadIdx.x == 0) out[0] = accumulate ? out[0] + s : s;
}
