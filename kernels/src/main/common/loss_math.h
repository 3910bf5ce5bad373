// The loss terms and the output error, the one definition compiled into the CUDA and OpenCL kernels
// (loss.cu, loss.cl); cpu-backend's LossMath mirrors it. Loss codes and LOG_EPS come from op_codes.h.
#ifndef BACKPROP4J_LOSS_MATH_H
#define BACKPROP4J_LOSS_MATH_H

#include "math_prelude.h"
#include "op_codes.h"

// A probability clamped to [LOG_EPS, 1 - LOG_EPS] before a log, so J stays finite; NaN is kept
// (fmin/fmax would drop it), so a diverged output never reads as a finite loss.
MATH_FN float loss_log_clamp(float p) {
    return isnan(p) ? p : fmin(fmax(p, LOG_EPS), 1.0f - LOG_EPS);
}

// One element's share of the batch's summed loss n·J: ½(ŷ−y)² (MSE), −[y·log ŷ + (1−y)·log(1−ŷ)]
// (binary cross-entropy), −y·log ŷ (categorical cross-entropy; a zero target adds nothing, unless ŷ is
// NaN: 0·log(NaN) keeps a NaN output visible).
MATH_FN float loss_term(int loss, float p, float t) {
    if (loss == LOSS_MSE) {
        const float d = p - t;
        return 0.5f * d * d;
    }
    const float q = loss_log_clamp(p);
    if (loss == LOSS_BCE) return -(t * log(q) + (1.0f - t) * log(1.0f - q));
    return t != 0.0f || isnan(p) ? -t * log(q) : 0.0f;
}

// δ = (ŷ − y)/n: ∂J/∂Z for every pairing the trainer allows (linear+MSE, sigmoid+BCE, softmax+CCE: the
// output activation's Jacobian cancels into this one expression), ∂J/∂Ŷ for MSE after other outputs.
MATH_FN float loss_gradient_value(float p, float t, float inv_n) {
    return (p - t) * inv_n;
}

#endif
