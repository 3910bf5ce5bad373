package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.Seed001Conformance;

/** Seed001Conformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInSeed001ConformanceTest extends Seed001Conformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
