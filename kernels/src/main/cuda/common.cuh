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
