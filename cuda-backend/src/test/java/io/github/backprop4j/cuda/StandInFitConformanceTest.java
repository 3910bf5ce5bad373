package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FitConformance;

/** FitConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInFitConformanceTest extends FitConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
