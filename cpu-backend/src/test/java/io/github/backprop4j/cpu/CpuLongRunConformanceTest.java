package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.LongRunConformance;

/** The shared conformance suite (LongRunConformance) against the cpu backend. */
class CpuLongRunConformanceTest extends LongRunConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }

    @Override
    protected int ciSteps() {
        return 1200;   // ~6 ms a step on 2 cores
    }
}
