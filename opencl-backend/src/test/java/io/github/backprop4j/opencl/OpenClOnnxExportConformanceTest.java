package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.OnnxExportConformance;

/** The shared conformance suite (OnnxExportConformance) against the opencl backend. */
class OpenClOnnxExportConformanceTest extends OnnxExportConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
