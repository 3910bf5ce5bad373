package io.github.backprop4j.opencl;

import io.github.backprop4j.core.conformance.ContractConformance;

/** The op contracts' clauses (ContractConformance) against the opencl backend. */
class OpenClContractConformanceTest extends ContractConformance {
    @Override
    protected String backendName() {
        return "opencl";
    }
}
