package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.FusedOpsConformance;

/** The shared conformance suite (FusedOpsConformance) against the cpu backend. */
class CpuFusedOpsConformanceTest extends FusedOpsConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
