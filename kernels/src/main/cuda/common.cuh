// Shared by every CUDA op family (each .cu file is its own module in the fatbin set): launch shapes and
// warp reductions. The op codes and the scalar math come from kernels/src/main/common/ (nvcc -I), which
// the OpenCL kernels share.
#pragma once

#include "op_codes.h"

// Grid-stride loop over [0, n): launchers size the grid to the device, not to n.
#define FOR_EACH_INDEX(i, n) \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (long long)gridDim.x * blockDim.x)

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// One step of Kahan summation: sum += v, with comp carrying what the last additions rounded away.
__device__ __forceinline__ void kahan_add(float& sum, float& comp, float v) {
    const float y = v - comp;
    const float t = sum + y;
    comp = (t - sum) - y;
    sum = t;
}

// The sum of v over the block's threads (blockDim.x a multiple of 32) in an order fixed by blockDim.x:
// warp_sum's butterfly within each warp, then the warps' sums in order by warp 0. Valid in thread 0.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float warp_part[32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) warp_part[warp] = v;
    __syncthreads();
    float s = 0.0f;
    if (warp == 0) {
        s = lane < (int)(blockDim.x >> 5) ? warp_part[lane] : 0.0f;
        s = warp_sum(s);
    }
    return s;
}

// Thread k's Kahan sum of v[k], v[k + blockDim.x], ...: the first half of adding n partial sums in one block.
__device__ __forceinline__ float strided_kahan_sum(const float* v, int n) {
    float sum = 0.0f, comp = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) kahan_add(sum, comp, v[i]);
    return sum;
}
