package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.OnnxExportConformance;

/** The shared conformance suite (OnnxExportConformance) against the cpu backend. */
class CpuOnnxExportConformanceTest extends OnnxExportConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
