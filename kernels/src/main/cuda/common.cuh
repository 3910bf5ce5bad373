// Shared by every CUDA op family (each .cu file is its own module in the fatbin set).
// Activation codes are io.github.backprop4j.core.Activation ordinals; loss codes are Loss ordinals,
// the same numbering as kernels/src/main/opencl/common.cl.
#pragma once

#define ACT_IDENTITY   0
#define ACT_RELU       1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID    3
#define ACT_TANH       4
#define ACT_GELU       5
#define ACT_SOFTMAX    6

#define LOSS_MSE 0
#define LOSS_BCE 1
#define LOSS_CCE 2

#define LEAKY_SLOPE 0.01f
#define GELU_C 0.7978845608028654f
#define GELU_K 0.044715f
#define LOG_EPS 1e-7f

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
