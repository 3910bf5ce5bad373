package io.github.backprop4j.opencl;

import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.spi.UpdateRule;
import org.jocl.cl_mem;

/** optimizer.cl's launcher: one update kernel per rule, then the step count's advance. */
final class OptimizerKernels {

    private final OpenClProgram.Kernel sgd, momentum, adam, step;

    OptimizerKernels(OpenClProgram program) {
        sgd = program.kernel("optimizer_update_sgd");
        momentum = program.kernel("optimizer_update_momentum");
        adam = program.kernel("optimizer_update_adam");
        step = program.kernel("optimizer_update_step");
    }

    /**
     * Each kernel takes its rule's coefficients, then the step count, the clipping norm (null: no clipping)
     * and the learning-rate schedule's constants.
     */
    void optimizerUpdate(UpdateRule r, cl_mem w, cl_mem g, cl_mem slot0, cl_mem slot1, cl_mem stepCount,
                         cl_mem sumOfSquares, float maxNorm, int n) {
        OpenClProgram.Launch update = switch (r.kind()) {
            case SGD -> sgd.launch().mem(w).mem(g).i32(n).f32(r.learningRate()).f32(r.l2());
            case MOMENTUM, NESTEROV -> momentum.launch().mem(w).mem(g).mem(slot0).i32(n).f32(r.learningRate())
                    .f32(r.momentum()).f32(r.l2()).i32(r.nesterov() ? 1 : 0);
            case ADAM, ADAMW -> adam.launch().mem(w).mem(g).mem(slot0).mem(slot1).i32(n).f32(r.learningRate())
                    .f32(r.beta1()).f32(r.beta2()).f32(r.epsilon()).f32(r.l2()).f32(r.weightDecay());
        };
        LearningRateSchedule s = r.schedule();
        update.mem(stepCount).mem(sumOfSquares).f32(maxNorm).i32(s.kind().ordinal()).i32(s.warmupSteps())
                .i32(s.period()).f32(s.gamma()).i32(s.totalSteps()).f32(s.minLearningRate()).items(n);
        step.launch().mem(stepCount).items(1);
    }
}
