package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.OnnxExportConformance;

/** The shared conformance suite (OnnxExportConformance) against the cuda backend. */
class CudaOnnxExportConformanceTest extends OnnxExportConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
