package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Optimizer;

/**
 * The coefficients of one parameter's optimizer update, as {@link Device#optimizerUpdate} applies them
 * (formulas in {@link Optimizer}; element updates in kernels/src/main/common/optimizer_math.h). The
 * learning rate of the update with count t is {@code schedule.learningRate(learningRate, t)}, computed on
 * the device from its step count ({@code scheduled_learning_rate}); AdamW's decay factor 1 − lr_t·wd is
 * computed there from it too.
 *
 * @param kind         SGD, MOMENTUM, NESTEROV, ADAM or ADAMW
 * @param learningRate the base rate the schedule scales
 * @param l2           classic L2 decay folded into the gradient (0 for biases)
 * @param weightDecay  wd of AdamW's decoupled decay p ← p·(1 − lr_t·wd), applied first; 0 otherwise (and for biases)
 * @param schedule     the learning-rate schedule ({@link LearningRateSchedule#constant()} for none)
 */
public record UpdateRule(Optimizer.Kind kind, float learningRate, float momentum, float beta1, float beta2,
                         float epsilon, float l2, float weightDecay, LearningRateSchedule schedule) {

    /** Whether the velocity update is Nesterov's (only for MOMENTUM and NESTEROV). */
    public boolean nesterov() {
        return kind == Optimizer.Kind.NESTEROV;
    }
}
