package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.Seed001Conformance;

/** The shared conformance suite (Seed001Conformance) against the cpu backend. */
class CpuSeed001ConformanceTest extends Seed001Conformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
