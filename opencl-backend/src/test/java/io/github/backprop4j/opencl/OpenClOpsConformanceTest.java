package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.OpsConformance;

/** The shared conformance suite (OpsConformance) against the opencl backend. */
class OpenClOpsConformanceTest extends OpsConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
