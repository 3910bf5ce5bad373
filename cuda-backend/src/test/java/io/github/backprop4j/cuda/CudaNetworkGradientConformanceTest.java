package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.NetworkGradientConformance;

/** The shared conformance suite (NetworkGradientConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaNetworkGradientConformanceTest extends NetworkGradientConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
