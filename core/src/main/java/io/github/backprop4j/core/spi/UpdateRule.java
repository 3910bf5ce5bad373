package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.Optimizer;

/**
 * The coefficients of one parameter's optimizer update, as {@link Device#optimizerUpdate} applies them
 * (formulas in {@link Optimizer}; element updates in kernels/src/main/common/optimizer_math.h).
 *
 * @param kind     SGD, MOMENTUM, NESTEROV, ADAM or ADAMW
 * @param l2       classic L2 decay folded into the gradient (0 for biases)
 * @param decay    the decoupled (AdamW) factor 1 − lr·wd applied to the parameter first; 1 otherwise
 */
public record UpdateRule(Optimizer.Kind kind, float learningRate, float momentum, float beta1, float beta2,
                         float epsilon, float l2, float decay) {

    /** Whether the velocity update is Nesterov's (only for MOMENTUM and NESTEROV). */
    public boolean nesterov() {
        return kind == Optimizer.Kind.NESTEROV;
    }
}
