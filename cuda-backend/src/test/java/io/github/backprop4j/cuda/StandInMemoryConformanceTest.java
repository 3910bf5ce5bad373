package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.MemoryConformance;

/** MemoryConformance against CudaDevice's host code over the host stand-in (no GPU). */
class StandInMemoryConformanceTest extends MemoryConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
