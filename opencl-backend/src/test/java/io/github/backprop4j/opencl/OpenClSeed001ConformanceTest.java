package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.Seed001Conformance;

/** The shared conformance suite (Seed001Conformance) against the opencl backend. */
class OpenClSeed001ConformanceTest extends Seed001Conformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
