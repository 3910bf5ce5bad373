package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.LongRunConformance;

/**
 * LongRunConformance against CudaDevice's host code over the host stand-in: recorded steps replayed
 * as graphs, memory flat after warm-up. Few steps, since the stand-in computes GEMMs in plain loops.
 */
class StandInLongRunConformanceTest extends LongRunConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }

    @Override
    protected int ciSteps() {
        return 40;
    }
}
