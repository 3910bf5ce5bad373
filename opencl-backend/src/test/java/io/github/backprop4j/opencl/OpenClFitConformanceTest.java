package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.FitConformance;

/** The shared conformance suite (FitConformance) against the opencl backend. */
class OpenClFitConformanceTest extends FitConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
