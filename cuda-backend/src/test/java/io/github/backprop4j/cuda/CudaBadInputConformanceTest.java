package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.BadInputConformance;

/** The shared conformance suite (BadInputConformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaBadInputConformanceTest extends BadInputConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
