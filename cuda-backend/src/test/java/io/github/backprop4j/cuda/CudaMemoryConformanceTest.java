package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.MemoryConformance;

/** The shared conformance suite (MemoryConformance) against the cuda backend. */
class CudaMemoryConformanceTest extends MemoryConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }
}
