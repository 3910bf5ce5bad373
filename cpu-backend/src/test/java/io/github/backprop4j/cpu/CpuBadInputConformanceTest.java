package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.BadInputConformance;

/** The shared conformance suite (BadInputConformance) against the cpu backend. */
class CpuBadInputConformanceTest extends BadInputConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
