package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.Seed000Conformance;

/** The shared conformance suite (Seed000Conformance) against the opencl backend. */
class OpenClSeed000ConformanceTest extends Seed000Conformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
