package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.conformance.MemoryConformance;

/** MemoryConformance against CudaBackend's host code over the host stand-in (no GPU). */
class StandInMemoryConformanceTest extends MemoryConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }

    @Override
    protected Backend open() {
        return new HostStandInDriver(1L << 30).open();
    }
}
