package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Loss;

/** kernels/src/main/common/loss_math.h in Java, function for function, in float. */
final class LossMath {

    static final float LOG_EPS = (float) Loss.LOG_EPS;

    private LossMath() {
    }

    /** p clamped to [LOG_EPS, 1 − LOG_EPS] before a log; NaN kept. */
    static float lossLogClamp(float p) {
        return Float.isNaN(p) ? p : Math.min(Math.max(p, LOG_EPS), 1f - LOG_EPS);
    }

    /** One element's share of the batch's summed loss n·J. */
    static float lossTerm(Loss loss, float p, float t) {
        if (loss == Loss.MSE) {
            float d = p - t;
            return 0.5f * d * d;
        }
        float q = lossLogClamp(p);
        if (loss == Loss.BINARY_CROSS_ENTROPY) return -(t * (float) Math.log(q) + (1f - t) * (float) Math.log(1f - q));
        return t != 0f || Float.isNaN(p) ? -t * (float) Math.log(q) : 0f;
    }

    /** δ = (ŷ − y)/n. */
    static float lossGradientValue(float p, float t, float invN) {
        return (p - t) * invN;
    }
}
