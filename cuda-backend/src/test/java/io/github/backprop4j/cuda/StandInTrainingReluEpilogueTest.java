package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.TrainingConformance;

/** TrainingConformance on the host stand-in with the opt-in ReLU epilogue: the option must fail no test. */
class StandInTrainingReluEpilogueTest extends TrainingConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in-relu-epilogue";
    }
}
