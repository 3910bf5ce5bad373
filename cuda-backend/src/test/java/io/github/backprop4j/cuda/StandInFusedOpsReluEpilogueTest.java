package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FusedOpsConformance;

/** FusedOpsConformance on the host stand-in with the opt-in ReLU epilogue: the option must fail no test. */
class StandInFusedOpsReluEpilogueTest extends FusedOpsConformance {
    @Override
    protected String backendName() {
        return "cuda-stand-in-relu-epilogue";
    }
}
