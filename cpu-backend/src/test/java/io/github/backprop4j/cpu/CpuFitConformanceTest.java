package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.FitConformance;

/** The shared conformance suite (FitConformance) against the cpu backend. */
class CpuFitConformanceTest extends FitConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
