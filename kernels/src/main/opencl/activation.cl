// Fused bias + activation forward, and the activation's backward (delta *= f'(z)).

inline float activation_apply(const int f, const float z) {
    switch (f) {
        // NaN passes through (as in the CPU backend), so a diverged layer never looks finite downstream
        case ACT_RELU:       return z > 0.0f || isnan(z) ? z : 0.0f;
        case ACT_LEAKY_RELU: return z > 0.0f || isnan(z) ? z : LEAKY_SLOPE * z;
        case ACT_SIGMOID:    return 1.0f / (1.0f + exp(-z));
        case ACT_TANH:       return tanh(z);
        case ACT_GELU:       return 0.5f * z * (1.0f + tanh(GELU_C * (z + GELU_K * z * z * z)));
        default:             return z;
    }
}

// z <- z + bias (kept for the backward pass), out <- f(z). One work-item per element.
__kernel void bias_activation_forward(__global float* z, __global const float* bias, __global float* out,
                                      const int rows, const int cols, const int f)
{
    const int i = get_global_id(0);
    if (i >= rows * cols) return;
    const float v = z[i] + bias[i % cols];
    z[i] = v;
    out[i] = activation_apply(f, v);
}

// Row-wise softmax of z + bias, numerically stable (subtracts the row max). One work-item per row.
__kernel void bias_softmax_forward(__global float* z, __global const float* bias, __global float* out,
                                   const int rows, const int cols)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global float* zr = z + r * cols;
    __global float* o = out + r * cols;
    float mx = -INFINITY;
    for (int j = 0; j < cols; j++) {
        const float v = zr[j] + bias[j];
        zr[j] = v;
        mx = fmax(mx, v);
    }
    float sum = 0.0f;
    for (int j = 0; j < cols; j++) {
        const float e = exp(zr[j] - mx);
        o[j] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < cols; j++) o[j] *= inv;
}

// delta <- delta * f'(z); sigmoid and tanh use their output a = f(z).
__kernel void activation_backward(__global const float* z, __global const float* out, __global float* delta,
                                  const int n, const int f)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const float x = z[i];
    float d;
    switch (f) {
        case ACT_RELU:       d = x > 0.0f ? 1.0f : 0.0f; break;
        case ACT_LEAKY_RELU: d = x > 0.0f ? 1.0f : LEAKY_SLOPE; break;
        case ACT_SIGMOID:    d = out[i] * (1.0f - out[i]); break;
        case ACT_TANH:       d = 1.0f - out[i] * out[i]; break;
        case ACT_GELU: {
            const float t = tanh(GELU_C * (x + GELU_K * x * x * x));
            d = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_K * x * x);
            break;
        }
        default:             d = 1.0f;
    }
    delta[i] *= d;
}
