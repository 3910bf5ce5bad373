package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.ContractConformance;

/** ContractConformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInContractConformanceTest extends ContractConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
