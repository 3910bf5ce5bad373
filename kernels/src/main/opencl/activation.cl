// Device.activationForward and Device.activationBackward (contracts in core's Device); the scalar
// math is activation_math.h, shared with activation.cu.
#include "activation_math.h"

// z <- z + bias, out <- f(z); bias may be null (a GEMM epilogue added it): then z is only read.
// One work-item per element.
__kernel void activation_forward(__global float* z, __global const float* bias, __global float* out,
                                 const int rows, const int cols, const int f)
{
    const int i = get_global_id(0);
    if (i >= rows * cols) return;
    float v = z[i];
    if (bias != 0) {
        v += bias[i % cols];
        z[i] = v;
    }
    out[i] = activation_value(f, v);
}

// Row-wise softmax of z + bias, numerically stable (exp of z minus the row max). One work-item per row.
__kernel void activation_forward_softmax(__global float* z, __global const float* bias, __global float* out,
                                         const int rows, const int cols)
{
    const int r = get_global_id(0);
    if (r >= rows) return;
    __global float* zr = z + r * cols;
    __global float* o = out + r * cols;
    float mx = -INFINITY;
    for (int j = 0; j < cols; j++) {
        float v = zr[j];
        if (bias != 0) {
            v += bias[j];
            zr[j] = v;
        }
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

// delta <- delta * f'; f' reads out, or z for GELU, never both.
__kernel void activation_backward(__global const float* z, __global const float* out, __global float* delta,
                                  const int n, const int f)
{
    const int i = get_global_id(0);
    if (i >= n) return;
    const int reads_z = activation_derivative_reads_z(f);
    delta[i] *= activation_derivative(f, reads_z ? 0.0f : out[i], reads_z ? z[i] : 0.0f);
}
