package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.Seed000Conformance;

/** The shared conformance suite (Seed000Conformance) against the cpu backend. */
class CpuSeed000ConformanceTest extends Seed000Conformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
