package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FitConformance;

/** The shared conformance suite (FitConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaFitConformanceTest extends FitConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
