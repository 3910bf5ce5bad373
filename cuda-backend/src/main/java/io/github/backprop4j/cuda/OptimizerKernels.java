package io.github.backprop4j.cuda;

import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.spi.UpdateRule;
import java.util.List;

/** optimizer.cu's launcher: one grid-stride update kernel per rule, then the step count's advance. */
record OptimizerKernels(KernelLauncher launcher) {

    private static final String SGD = "optimizer_update_sgd", MOMENTUM = "optimizer_update_momentum",
            ADAM = "optimizer_update_adam", STEP = "optimizer_update_step";
    static final KernelLauncher.Family FAMILY = new KernelLauncher.Family("optimizer", List.of(SGD, MOMENTUM, ADAM, STEP));

    /**
     * Each kernel takes its rule's coefficients, then the step count, the clipping norm (null: no clipping)
     * and the learning-rate schedule's constants.
     */
    void optimizerUpdate(UpdateRule r, CudaBuffer w, CudaBuffer g, CudaBuffer slot0, CudaBuffer slot1, CudaBuffer step,
                         CudaBuffer sumOfSquares, float maxNorm, long n) {
        KernelLauncher.Launch update = switch (r.kind()) {
            case SGD -> launcher.launch(SGD).ptr(w).ptr(g).i64(n).f32(r.learningRate()).f32(r.l2());
            case MOMENTUM, NESTEROV -> launcher.launch(MOMENTUM).ptr(w).ptr(g).ptr(slot0).i64(n).f32(r.learningRate())
                    .f32(r.momentum()).f32(r.l2()).i32(r.nesterov() ? 1 : 0);
            case ADAM, ADAMW -> launcher.launch(ADAM).ptr(w).ptr(g).ptr(slot0).ptr(slot1).i64(n).f32(r.learningRate())
                    .f32(r.beta1()).f32(r.beta2()).f32(r.epsilon()).f32(r.l2()).f32(r.weightDecay());
        };
        LearningRateSchedule s = r.schedule();
        update.ptr(step).ptr(sumOfSquares).f32(maxNorm).i32(s.kind().ordinal()).i32(s.warmupSteps()).i32(s.period())
                .f32(s.gamma()).i32(s.totalSteps()).f32(s.minLearningRate()).gridStride(n);
        launcher.launch(STEP).ptr(step).grid(1, 1, 1);
    }
}
