package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.TrainingConformance;

/** The shared conformance suite (TrainingConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaTrainingConformanceTest extends TrainingConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
