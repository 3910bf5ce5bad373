package io.github.backprop4j.cpu;

import io.github.backprop4j.core.Activation;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The element-wise activations on one vector, shared by {@link CpuBackend#activate} and the GEMM
 * epilogue of a fused dense layer, so both compute exactly the same values. NaN passes through.
 */
final class Activations {

    private Activations() {
    }

    /** Whether {@code f} is element-wise (softmax is row-wise and has no vector form here). */
    static boolean elementWise(Activation f) {
        return f != Activation.SOFTMAX;
    }

    static FloatVector apply(Activation f, FloatVector x) {
        return switch (f) {
            case IDENTITY -> x;
            case RELU -> x.max(0f);
            case LEAKY_RELU -> x.max(x.mul((float) Activation.LEAKY_SLOPE));
            case SIGMOID -> FloatVector.broadcast(x.species(), 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            case TANH -> x.lanewise(VectorOperators.TANH);
            case GELU -> {
                float c = (float) Activation.GELU_C, k = (float) Activation.GELU_K;
                FloatVector inner = x.mul(x).mul(x).mul(k).add(x).mul(c);
                yield inner.lanewise(VectorOperators.TANH).add(1f).mul(x).mul(0.5f);
            }
            case SOFTMAX -> throw new IllegalArgumentException("softmax is row-wise, not element-wise");
        };
    }
}
