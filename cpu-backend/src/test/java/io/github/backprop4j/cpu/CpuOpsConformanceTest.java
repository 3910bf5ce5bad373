package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.OpsConformance;

/** The shared conformance suite (OpsConformance) against the cpu backend. */
class CpuOpsConformanceTest extends OpsConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
