package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.NetworkGradientConformance;

/** NetworkGradientConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInNetworkGradientConformanceTest extends NetworkGradientConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
