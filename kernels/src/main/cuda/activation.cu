// Device.activationForward and Device.activationBackward (contracts in core's Device); the scalar
// math is activation_math.h, shared with activation.cl.
#include "common.cuh"
#include "activation_math.h"

// z <- z + bias, out <- f(z); bias may be null (the GEMM epilogue added it): then z is only read.
extern "C" __global__ void activation_forward(float* z, const float* bias, float* out, int rows, int cols, int f) {
    const long long n = (long long)rows * cols;
    FOR_EACH_INDEX(i, n) {
        float v = z[i];
        if (bias != nullptr) {
            v += bias[i % cols];
            z[i] = v;
        }
        out[i] = activation_value(f, v);
    }
}

// Row-wise, numerically stable softmax of z + bias: one warp per row, so a 10-class output costs
// one pass per row instead of one thread walking it serially.
extern "C" __global__ void activation_forward_softmax(float* z, const float* bias, float* out, int rows, int cols) {
    const int lane = threadIdx.x & 31;
    const int warps_per_block = blockDim.x >> 5;
    for (int r = blockIdx.x * warps_per_block + (threadIdx.x >> 5); r < rows; r += gridDim.x * warps_per_block) {
        float* zr = z + (long long)r * cols;
        float* o = out + (long long)r * cols;
        float mx = -INFINITY;
        for (int j = lane; j < cols; j += 32) {
            float v = zr[j];
            if (bias != nullptr) {
                v += bias[j];
                zr[j] = v;
            }
            mx = fmaxf(mx, v);
        }
        mx = warp_max(mx);
        float sum = 0.0f;
        for (int j = lane; j < cols; j += 32) {
            const float e = expf(zr[j] - mx);
            o[j] = e;
            sum += e;
        }
        const float inv = 1.0f / warp_sum(sum);
        for (int j = lane; j < cols; j += 32) o[j] *= inv;
    }
}

// delta <- delta * f'; f' reads out, or z for GELU, never both.
extern "C" __global__ void activation_backward(const float* z, const float* out, float* delta, long long n, int f) {
    const int reads_z = activation_derivative_reads_z(f);
    FOR_EACH_INDEX(i, n) delta[i] *= activation_derivative(f, reads_z ? 0.0f : out[i], reads_z ? z[i] : 0.0f);
}
