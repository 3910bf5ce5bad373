package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.FiniteDifferenceGradientCheck;

/** The shared conformance suite (FiniteDifferenceGradientCheck) against the opencl backend. */
class OpenClFiniteDifferenceGradientCheckTest extends FiniteDifferenceGradientCheck {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
