package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.NetworkGradientConformance;

/** The shared conformance suite (NetworkGradientConformance) against the opencl backend. */
class OpenClNetworkGradientConformanceTest extends NetworkGradientConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
