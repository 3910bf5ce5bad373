package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.Seed000Conformance;

/** The shared conformance suite (Seed000Conformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaSeed000ConformanceTest extends Seed000Conformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
