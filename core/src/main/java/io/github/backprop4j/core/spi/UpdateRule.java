package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.Optimizer;

/**
 * The coefficients of one parameter's optimizer update, as {@link Device#optimizerUpdate} applies them
 * (formulas in {@link Optimizer}; element updates in kernels/src/main/common/optimizer_math.h). The
 * handle builds it from the {@link Optimizer} record and whether the parameter is a weight; a device
 * picks its kernel by {@link #kind()} and passes the numbers on.
 *
 * <pre>
 * switch (rule.kind()) {
 *     case SGD -> sgdKernel(rule.learningRate(), rule.l2());
 *     case MOMENTUM, NESTEROV -> momentumKernel(rule.learningRate(), rule.momentum(), rule.l2(), rule.nesterov());
 *     case ADAM, ADAMW -> adamKernel(rule.learningRate(), rule.beta1(), rule.beta2(), rule.epsilon(), rule.l2(), rule.decay());
 * }
 * </pre>
 *
 * @param kind         which update
 * @param learningRate the step size
 * @param momentum     μ (MOMENTUM, NESTEROV; 0 otherwise)
 * @param beta1        Adam's first-moment decay (ADAM, ADAMW; 0 otherwise)
 * @param beta2        Adam's second-moment decay (ADAM, ADAMW; 0 otherwise)
 * @param epsilon      Adam's ε (ADAM, ADAMW; 0 otherwise)
 * @param l2           classic L2 decay folded into the gradient (0 for biases)
 * @param decay        the decoupled (AdamW) factor 1 − lr·wd applied to the parameter first; 1 otherwise
 */
public record UpdateRule(Kind kind, float learningRate, float momentum, float beta1, float beta2, float epsilon,
                         float l2, float decay) {

    /** The update families; each maps to one kernel (NESTEROV shares MOMENTUM's, ADAMW shares ADAM's). */
    public enum Kind {
        /** p ← p − lr·g. */
        SGD,
        /** Heavy-ball momentum. */
        MOMENTUM,
        /** Nesterov momentum: the momentum kernel with {@link #nesterov()} set. */
        NESTEROV,
        /** Adam. */
        ADAM,
        /** Adam with decoupled decay: the Adam kernel with {@link #decay()} below 1. */
        ADAMW
    }

    /**
     * Whether the velocity update is Nesterov's.
     *
     * @return true only for {@link Kind#NESTEROV}
     */
    public boolean nesterov() {
        return kind == Kind.NESTEROV;
    }
}
