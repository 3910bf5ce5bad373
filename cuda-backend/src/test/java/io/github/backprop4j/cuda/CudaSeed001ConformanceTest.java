package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.Seed001Conformance;

/** The shared conformance suite (Seed001Conformance) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaSeed001ConformanceTest extends Seed001Conformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
