package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.TrainingConformance;

/** The shared conformance suite (TrainingConformance) against the cpu backend. */
class CpuTrainingConformanceTest extends TrainingConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
