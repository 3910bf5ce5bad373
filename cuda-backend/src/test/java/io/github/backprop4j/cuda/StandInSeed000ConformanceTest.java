package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.Seed000Conformance;

/** Seed000Conformance against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInSeed000ConformanceTest extends Seed000Conformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
