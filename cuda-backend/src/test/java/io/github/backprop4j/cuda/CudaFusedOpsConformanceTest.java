package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FusedOpsConformance;

/** The shared conformance suite (FusedOpsConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaFusedOpsConformanceTest extends FusedOpsConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
