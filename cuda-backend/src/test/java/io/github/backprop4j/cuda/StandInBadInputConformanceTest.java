package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.BadInputConformance;

/** BadInputConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInBadInputConformanceTest extends BadInputConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
