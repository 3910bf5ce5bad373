package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.TrainingConformance;

/** TrainingConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInTrainingConformanceTest extends TrainingConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
