package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FiniteDifferenceGradientCheck;

/** The shared conformance suite (FiniteDifferenceGradientCheck) against the cuda backend; skipped without a GPU unless BACKPROP4J_REQUIRE names cuda. */
class CudaFiniteDifferenceGradientCheckTest extends FiniteDifferenceGradientCheck {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
