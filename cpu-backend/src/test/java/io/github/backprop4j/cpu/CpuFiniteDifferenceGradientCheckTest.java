package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.FiniteDifferenceGradientCheck;

/** The shared conformance suite (FiniteDifferenceGradientCheck) against the cpu backend. */
class CpuFiniteDifferenceGradientCheckTest extends FiniteDifferenceGradientCheck {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
