// The optimizer's element updates (formulas in core's Optimizer), the one definition compiled into the
// CUDA and OpenCL kernels (optimizer.cu, optimizer.cl); cpu-backend's OptimizerMath mirrors it.
#ifndef BACKPROP4J_OPTIMIZER_MATH_H
#define BACKPROP4J_OPTIMIZER_MATH_H

#include "math_prelude.h"

// g + l2·w: classic L2 decay folded into the gradient (l2 = 0 for biases).
MATH_FN float optimizer_gradient(float g, float w, float l2) {
    return g + l2 * w;
}

MATH_FN float sgd_weight(float w, float g, float lr) {
    return w - lr * g;
}

// PyTorch's convention: v ← μ·v + g, then w ← w − lr·v, or w − lr·(g + μ·v) for Nesterov.
MATH_FN float momentum_velocity(float v, float g, float mu) {
    return mu * v + g;
}

MATH_FN float momentum_weight(float w, float g, float v, float lr, float mu, int nesterov) {
    return w - lr * (nesterov ? g + mu * v : v);
}

MATH_FN float adam_first_moment(float m, float g, float beta1) {
    return beta1 * m + (1.0f - beta1) * g;
}

MATH_FN float adam_second_moment(float v, float g, float beta2) {
    return beta2 * v + (1.0f - beta2) * g * g;
}

// 1/(1 − βᵗ) for the update's 1-based count t, as −1/expm1(t·log β): no cancellation in 1 − βᵗ.
MATH_FN float adam_bias_correction(float beta, int t) {
    return -1.0f / expm1((float)t * log(beta));
}

// w·decay − lr·(m·c1)/(√(v·c2) + ε); decay = 1 − lr·wd for AdamW's decoupled decay, else 1.
MATH_FN float adam_weight(float w, float m, float v, float lr, float eps, float decay, float c1, float c2) {
    return w * decay - lr * (m * c1) / (sqrt(v * c2) + eps);
}

#endif
