package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.BadInputConformance;

/** The shared conformance suite (BadInputConformance) against the opencl backend. */
class OpenClBadInputConformanceTest extends BadInputConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
