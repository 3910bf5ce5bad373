// The optimizer's element updates (formulas in core's Optimizer), the one definition compiled into the
// CUDA and OpenCL kernels (optimizer.cu, optimizer.cl); cpu-backend's OptimizerMath mirrors it.
#ifndef BACKPROP4J_OPTIMIZER_MATH_H
#define BACKPROP4J_OPTIMIZER_MATH_H

#include "math_prelude.h"
#include "op_codes.h"

// The learning rate of the update with 1-based count t (k = t − 1 updates before it), base rate lr:
// linear warm-up lr·(k + 1)/W over the first W updates, then, with j = k − W, constant lr, step lr·γ^⌊j/N⌋,
// or cosine min + (lr − min)·(1 + cos(π·min(j, T − W)/(T − W)))/2. Core's LearningRateSchedule.learningRate
// is its Java twin.
MATH_FN float scheduled_learning_rate(float lr, int t, int schedule, int warmup, int period, float gamma, int total,
                                      float min_lr) {
    const int k = t - 1;
    if (k < warmup) return lr * ((float)(k + 1) / (float)warmup);
    const int j = k - warmup;
    if (schedule == SCHEDULE_STEP) return lr * pow(gamma, (float)(j / period));
    if (schedule == SCHEDULE_COSINE) {
        const int span = total - warmup;
        const float progress = j >= span ? 1.0f : (float)j / (float)span;
        return min_lr + (lr - min_lr) * 0.5f * (1.0f + cos(SCHEDULE_PI * progress));
    }
    return lr;
}

// g·clip + l2·w: the gradient scaled by clipping (1 without), then classic L2 decay folded in (l2 = 0 for
// biases).
MATH_FN float optimizer_gradient(float g, float clip, float w, float l2) {
    return g * clip + l2 * w;
}

// Global-norm clipping's factor min(1, max_norm/‖g‖), ‖g‖ = √sum_of_squares over every parameter's
// gradient. A NaN or infinite norm gives NaN, never 1 or 0: the update is poisoned and the trainer reports
// the divergence, where fmin(1, ·) would silently not clip and c/∞ would silently not update.
MATH_FN float gradient_clip_scale(float sum_of_squares, float max_norm) {
    const float norm = sqrt(sum_of_squares);
    if (isnan(norm) || isinf(norm)) return MATH_NAN;
    return norm > max_norm ? max_norm / norm : 1.0f;
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

// AdamW's decoupled decay factor 1 − lr·wd for this update's (scheduled) rate; 1 for wd = 0.
MATH_FN float decoupled_decay(float lr, float wd) {
    return 1.0f - lr * wd;
}

// w·decay − lr·(m·c1)/(√(v·c2) + ε); decay from decoupled_decay.
MATH_FN float adam_weight(float w, float m, float v, float lr, float eps, float decay, float c1, float c2) {
    return w * decay - lr * (m * c1) / (sqrt(v * c2) + eps);
}

#endif
