package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Optimizer;

/**
 * The coefficients of one parameter's optimizer update, as {@link Device#optimizerUpdate} applies them
 * (formulas in {@link Optimizer}; element updates in kernels/src/main/common/optimizer_math.h). The
 * handle builds it from the {@link Optimizer} record and whether the parameter is a weight; a device
 * picks its kernel by {@link #kind()} and passes the numbers on. The learning rate of the update with
 * count t is {@code schedule.learningRate(learningRate, t)}, computed on the device from its step count
 * ({@code scheduled_learning_rate}); AdamW's decay factor 1 − lr_t·wd is computed there from it too.
 *
 * <pre>
 * switch (rule.kind()) {
 *     case SGD -> sgdKernel(rule.learningRate(), rule.l2(), rule.schedule());
 *     case MOMENTUM, NESTEROV -> momentumKernel(rule.learningRate(), rule.momentum(), rule.l2(), rule.nesterov(), rule.schedule());
 *     case ADAM, ADAMW -> adamKernel(rule.learningRate(), rule.beta1(), rule.beta2(), rule.epsilon(), rule.l2(),
 *                                    rule.weightDecay(), rule.schedule());
 * }
 * </pre>
 *
 * @param kind         which update
 * @param learningRate the base rate the schedule scales
 * @param momentum     μ (MOMENTUM, NESTEROV; 0 otherwise)
 * @param beta1        Adam's first-moment decay (ADAM, ADAMW; 0 otherwise)
 * @param beta2        Adam's second-moment decay (ADAM, ADAMW; 0 otherwise)
 * @param epsilon      Adam's ε (ADAM, ADAMW; 0 otherwise)
 * @param l2           classic L2 decay folded into the gradient (0 for biases)
 * @param weightDecay  wd of AdamW's decoupled decay p ← p·(1 − lr_t·wd), applied first; 0 otherwise (and for biases)
 * @param schedule     the learning-rate schedule ({@link LearningRateSchedule#constant()} for none)
 */
public record UpdateRule(Kind kind, float learningRate, float momentum, float beta1, float beta2, float epsilon,
                         float l2, float weightDecay, LearningRateSchedule schedule) {

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
        /** Adam with decoupled decay: the Adam kernel with {@link #weightDecay()} above 0. */
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
