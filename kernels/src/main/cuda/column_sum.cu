// Device.columnSum: out[j] <- alpha * sum_i m[i][j] + beta * out[j], e.g. the bias gradient db = 1^T delta.
// A 32 x 32 block owns 32 adjacent columns; its 32 thread rows stride down the batch (coalesced
// 128-byte row segments), then thread row 0 adds the 32 partial sums in order. The order depends on the
// shape only (no atomics): deterministic.
#include "common.cuh"

extern "C" __global__ void column_sum(const float* m, int rows, int cols, float alpha, float beta, float* out) {
    __shared__ float part[32][33];
    const int j = blockIdx.x * 32 + threadIdx.x;
    float sum = 0.0f;
    if (j < cols)
        for (int i = threadIdx.y; i < rows; i += 32) sum += m[(long long)i * cols + j];
    part[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && j < cols) {
        float total = 0.0f;
        for (int k = 0; k < 32; k++) total += part[k][threadIdx.x];
        out[j] = beta == 0.0f ? alpha * total : alpha * total + beta * out[j];
    }
}
