package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.LongRunConformance;

/** The shared conformance suite (LongRunConformance) against the opencl backend. */
class OpenClLongRunConformanceTest extends LongRunConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }

    @Override
    protected int ciSteps() {
        return 160;   // PoCL on 2 CPU cores is ~10x slower than the cpu backend
    }
}
