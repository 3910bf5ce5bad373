package io.github.backprop4j.cpu;

/**
 * kernels/src/main/common/optimizer_math.h in Java, function for function, in float
 * ({@code scheduled_learning_rate}'s twin is core's LearningRateSchedule.learningRate, which the host
 * reports with).
 */
final class OptimizerMath {

    private OptimizerMath() {
    }

    /** g·clip + l2·w. */
    static float optimizerGradient(float g, float clip, float w, float l2) {
        return g * clip + l2 * w;
    }

    /** min(1, maxNorm/√sumOfSquares); NaN for a NaN or infinite norm. */
    static float gradientClipScale(float sumOfSquares, float maxNorm) {
        float norm = (float) Math.sqrt(sumOfSquares);
        if (Float.isNaN(norm) || Float.isInfinite(norm)) return Float.NaN;
        return norm > maxNorm ? maxNorm / norm : 1f;
    }

    static float sgdWeight(float w, float g, float lr) {
        return w - lr * g;
    }

    static float momentumVelocity(float v, float g, float mu) {
        return mu * v + g;
    }

    static float momentumWeight(float w, float g, float v, float lr, float mu, boolean nesterov) {
        return w - lr * (nesterov ? g + mu * v : v);
    }

    static float adamFirstMoment(float m, float g, float beta1) {
        return beta1 * m + (1f - beta1) * g;
    }

    static float adamSecondMoment(float v, float g, float beta2) {
        return beta2 * v + (1f - beta2) * g * g;
    }

    /** 1/(1 − βᵗ) as −1/expm1(t·log β). */
    static float adamBiasCorrection(float beta, int t) {
        return -1f / (float) Math.expm1(t * (float) Math.log(beta));
    }

    /** 1 − lr·wd. */
    static float decoupledDecay(float lr, float wd) {
        return 1f - lr * wd;
    }

    static float adamWeight(float w, float m, float v, float lr, float eps, float decay, float c1, float c2) {
        return w * decay - lr * (m * c1) / ((float) Math.sqrt(v * c2) + eps);
    }
}
