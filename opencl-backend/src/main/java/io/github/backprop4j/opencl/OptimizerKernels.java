package io.github.backprop4j.opencl;

import io.github.backprop4j.core.spi.UpdateRule;
import java.util.List;
import org.jocl.cl_mem;

/** optimizer.cl's launcher: one update kernel per rule, then the step count's advance. */
final class OptimizerKernels {

    static final String SOURCE = "optimizer.cl";
    static final List<String> ENTRY_POINTS = List.of("optimizer_update_sgd", "optimizer_update_momentum",
            "optimizer_update_adam", "optimizer_update_step");

    private final OpenClProgram program;
    private final OpenClProgram.Kernel sgd;
    private final OpenClProgram.Kernel momentum;
    private final OpenClProgram.Kernel adam;
    private final OpenClProgram.Kernel step;

    OptimizerKernels(OpenClProgram program) {
        this.program = program;
        sgd = program.kernel("optimizer_update_sgd");
        momentum = program.kernel("optimizer_update_momentum");
        adam = program.kernel("optimizer_update_adam");
        step = program.kernel("optimizer_update_step");
    }

    void optimizerUpdate(UpdateRule r, cl_mem w, cl_mem g, cl_mem slot0, cl_mem slot1, cl_mem stepCount, int n) {
        switch (r.kind()) {
            case SGD -> program.launch(sgd).mem(w).mem(g).i32(n).f32(r.learningRate()).f32(r.l2()).items(n);
            case MOMENTUM, NESTEROV -> program.launch(momentum).mem(w).mem(g).mem(slot0).i32(n).f32(r.learningRate())
                    .f32(r.momentum()).f32(r.l2()).i32(r.nesterov() ? 1 : 0).items(n);
            case ADAM, ADAMW -> program.launch(adam).mem(w).mem(g).mem(slot0).mem(slot1).i32(n).f32(r.learningRate())
                    .f32(r.beta1()).f32(r.beta2()).f32(r.epsilon()).f32(r.l2()).f32(r.decay()).mem(stepCount).items(n);
        }
        program.launch(step).mem(stepCount).items(1);
    }
}
