package io.github.backprop4j.cuda;

import io.github.backprop4j.core.conformance.FiniteDifferenceGradientCheck;

/** FiniteDifferenceGradientCheck against CudaDevice's host code over the host stand-in: host logic, not the GPU. */
class StandInFiniteDifferenceGradientCheckTest extends FiniteDifferenceGradientCheck {
    @Override
    protected String backendName() {
        return "cuda-stand-in";
    }
}
