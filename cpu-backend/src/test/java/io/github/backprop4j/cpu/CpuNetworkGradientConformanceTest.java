package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.NetworkGradientConformance;

/** The shared conformance suite (NetworkGradientConformance) against the cpu backend. */
class CpuNetworkGradientConformanceTest extends NetworkGradientConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
