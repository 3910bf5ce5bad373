package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.FusedOpsConformance;

/** The shared conformance suite (FusedOpsConformance) against the opencl backend. */
class OpenClFusedOpsConformanceTest extends FusedOpsConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
