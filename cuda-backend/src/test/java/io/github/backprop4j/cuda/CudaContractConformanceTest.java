package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.ContractConformance;

/** The op contracts' clauses (ContractConformance) against the cuda backend. */
class CudaContractConformanceTest extends ContractConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
