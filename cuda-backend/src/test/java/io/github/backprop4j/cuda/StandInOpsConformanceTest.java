package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.OpsConformance;

/** OpsConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInOpsConformanceTest extends OpsConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
