// Each element-wise activation and its derivative, the one definition compiled into the CUDA and
// OpenCL kernels (activation.cu, activation.cl); cpu-backend's ActivationMath mirrors it. Activation
// codes and constants come from op_codes.h.
#ifndef BACKPROP4J_ACTIVATION_MATH_H
#define BACKPROP4J_ACTIVATION_MATH_H

#include "math_prelude.h"
#include "op_codes.h"

// erfc(x) = t·exp(P(t) − x²), t = 1/(1 + 0.4·|x|), for x ≥ 0, and 2 − erfc(−x) below 0: one approximation
// (relative error below 2e-6 in float for |x| ≤ 4) that every backend evaluates alike, the cpu backend
// vectorized, since Java has no erf. Its twin and the fit are described in core's spi.Erfc.
MATH_FN float activation_erfc(float x) {
    const float a = fabs(x);
    const float t = 1.0f / (1.0f + ERFC_T_SCALE * a);
    float p = ERFC_C10;
    p = p * t + ERFC_C9;
    p = p * t + ERFC_C8;
    p = p * t + ERFC_C7;
    p = p * t + ERFC_C6;
    p = p * t + ERFC_C5;
    p = p * t + ERFC_C4;
    p = p * t + ERFC_C3;
    p = p * t + ERFC_C2;
    p = p * t + ERFC_C1;
    p = p * t + ERFC_C0;
    const float r = t * exp(p - a * a);
    return x < 0.0f ? 2.0f - r : r;
}

// f(z). NaN passes through every f, so a diverged layer never looks finite downstream.
MATH_FN float activation_value(int f, float z) {
    switch (f) {
        case ACT_RELU:       return z > 0.0f || isnan(z) ? z : 0.0f;
        case ACT_LEAKY_RELU: return z > 0.0f || isnan(z) ? z : LEAKY_SLOPE * z;
        case ACT_SIGMOID:    return 1.0f / (1.0f + exp(-z));
        case ACT_TANH:       return tanh(z);
        case ACT_GELU:       return 0.5f * z * activation_erfc(-z * SQRT_HALF);
        case ACT_GELU_TANH:  return 0.5f * z * (1.0f + tanh(GELU_C * (z + GELU_K * z * z * z)));
        default:             return z;
    }
}

// f'. From the output out = f(z) alone for ReLU, leaky ReLU, sigmoid and tanh (so a forward pass that
// fused the activation into a GEMM and never wrote z back-propagates the same); from z alone for both GELUs.
MATH_FN float activation_derivative(int f, float out, float z) {
    switch (f) {
        case ACT_RELU:       return out > 0.0f ? 1.0f : 0.0f;
        case ACT_LEAKY_RELU: return out > 0.0f ? 1.0f : LEAKY_SLOPE;
        case ACT_SIGMOID:    return out * (1.0f - out);
        case ACT_TANH:       return 1.0f - out * out;
        case ACT_GELU:       return 0.5f * activation_erfc(-z * SQRT_HALF) + z * INV_SQRT_2PI * exp(-0.5f * z * z);
        case ACT_GELU_TANH: {
            const float t = tanh(GELU_C * (z + GELU_K * z * z * z));
            return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * GELU_C * (1.0f + 3.0f * GELU_K * z * z);
        }
        default:             return 1.0f;
    }
}

// Whether activation_derivative reads z (either GELU) rather than out.
MATH_FN int activation_derivative_reads_z(int f) {
    return f == ACT_GELU || f == ACT_GELU_TANH;
}

#endif
