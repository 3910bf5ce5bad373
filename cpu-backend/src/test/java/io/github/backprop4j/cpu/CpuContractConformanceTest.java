package io.github.backprop4j.cpu;

import io.github.backprop4j.core.conformance.ContractConformance;

/** The op contracts' clauses (ContractConformance) against the cpu backend. */
class CpuContractConformanceTest extends ContractConformance {
    @Override
    protected String backendName() {
        return "cpu";
    }
}
