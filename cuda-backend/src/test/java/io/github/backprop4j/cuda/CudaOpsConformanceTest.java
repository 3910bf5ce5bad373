package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.OpsConformance;

/** The shared conformance suite (OpsConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaOpsConformanceTest extends OpsConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
