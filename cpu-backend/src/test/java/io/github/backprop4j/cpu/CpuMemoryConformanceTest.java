package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.MemoryConformance;

/** The shared conformance suite (MemoryConformance) against the cpu backend. */
class CpuMemoryConformanceTest extends MemoryConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
