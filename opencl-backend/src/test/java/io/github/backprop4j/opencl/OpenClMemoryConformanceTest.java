package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.MemoryConformance;

/** The shared conformance suite (MemoryConformance) against the opencl backend. */
class OpenClMemoryConformanceTest extends MemoryConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
