package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FusedOpsConformance;

/** FusedOpsConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInFusedOpsConformanceTest extends FusedOpsConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
