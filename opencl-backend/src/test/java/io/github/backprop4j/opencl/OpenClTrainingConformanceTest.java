package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.TrainingConformance;

/** The shared conformance suite (TrainingConformance) against the opencl backend. */
class OpenClTrainingConformanceTest extends TrainingConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
