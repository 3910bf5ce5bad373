// Fused bias + activation forward and the activation backward (delta *= f'(z)).
// Forward keeps the pre-activation in z for the backward pass; out may alias z.
#include "common.cuh"

__device__ __forceinline__ float activation_apply(int f, float z) {
    switch (f) {
        // NaN passes through (as on the CPU and in OpenCL), so a diverged layer never looks finite downstream
        case ACT_RELU:       return z > 0.0f || isnan(z) ? z : 0.0f;
        case ACT_LEAKY_RELU: return z > 0.0f || isnan(z) ? z : LEAKY_SLOPE * z;
        case ACT_SIGMOID:    return 1.0f / (1.0f + expf(-z));
        case ACT_TANH:       return tanhf(z);
        case ACT_GELU:       return 0.5f * z * (1.0f + tanhf(GELU_C * (z + GELU_K * z * z * z)));
        default:             return z;
    }
}

// z <- z + bias (bias may be null: the GEMM epilogue already added it), out <- f(z).
extern "C" __global__ void bias_activation_forward(float* z, const float* bias, float* out,
                                                   int rows, int cols, int f) {
    const long long n = (long long)rows * cols;
    FOR_EACH_INDEX(i, n) {
        float v = z[i];
        if (bias != nullptr) {
            v += bias[i % cols];
            z[i] = v;
        }
        out[i] = activation_apply(f, v);
    }
}

// Row-wise, numerically stable softmax of z + bias: one warp per row, so a 10-class output costs
// one pass per row instead of one thread walking it serially.
extern "C" __global__ void bias_softmax_forward(float* z, const float* bias, float* out, int rows, int cols) {
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

// delta <- delta * f'(z). Where f' is a function of the output (ReLU, leaky ReLU, sigmoid, tanh),
// out is read instead of z, so a forward pass that fused the activation into the GEMM epilogue and
// never wrote z still back-propagates correctly. GELU needs z.
extern "C" __global__ void activation_backward(const float* z, const float* out, float* delta, long long n, int f) {
    FOR_EACH_INDEX(i, n) {
        float d;
        switch (f) {
            case ACT_RELU:       d = out[i] > 0.0f ? 1.0f : 0.0f; break;
            case ACT_LEAKY_RELU: d = out[i] > 0.0f ? 1.0f : LEAKY_SLOPE; break;
            case ACT_SIGMOID:    d = out[i] * (1.0f - out[i]); break;
            case ACT_TANH:       d = 1.0f - out[i] * out[i]; break;
            case ACT_GELU: {
                const float x = z[i];
                const float t = tanhf(GELU_C * (x + GELU_K * x * x * x));
                d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_K * x * x);
                break;
            }
            default:             d = 1.0f;
        }
        delta[i] *= d;
    }
}
