package io.github.backprop4j.core;

import java.util.Locale;

/**
 * The loss a network trains on, which fixes its {@link Task}. All are averaged over the batch (n rows):
 * <ul>
 *   <li>MSE: J = (1/2n)·Σ(ŷ−y)², so ∂J/∂Ŷ = (Ŷ−Y)/n (seed 000's ½Σ(ŷ−y)² for n = 1);</li>
 *   <li>BINARY_CROSS_ENTROPY on a sigmoid output: J = −(1/n)·Σ[y·log ŷ + (1−y)·log(1−ŷ)], ∂J/∂Z = (Ŷ−Y)/n;</li>
 *   <li>CATEGORICAL_CROSS_ENTROPY on a softmax output: J = −(1/n)·Σ y·log ŷ, ∂J/∂Z = (Ŷ−Y)/n.</li>
 * </ul>
 *
 * <pre>
 * Network.input(8).dense(16, Activation.RELU).output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
 * </pre>
 */
public enum Loss {
    /** Mean squared error, halved: regression (identity output, or any but softmax). */
    MSE,
    /** Binary cross-entropy on a sigmoid output, per output. */
    BINARY_CROSS_ENTROPY,
    /** Categorical cross-entropy on a softmax output: classification. */
    CATEGORICAL_CROSS_ENTROPY;

    /** Probabilities are clamped to [EPS, 1−EPS] inside the logarithms so that J stays finite. */
    public static final double LOG_EPS = 1e-7;

    /**
     * True when {@link Backend#lossGradient} already yields ∂J/∂Z for this output activation
     * (the cross-entropies on their matching activation); false when it yields ∂J/∂Ŷ and the trainer
     * must still multiply by f'(Z).
     *
     * @param output the output layer's activation
     * @return whether the loss gradient is already ∂J/∂Z
     */
    public boolean gradientIsWithRespectToZ(Activation output) {
        return switch (this) {
            case MSE -> output == Activation.IDENTITY;
            case BINARY_CROSS_ENTROPY -> output == Activation.SIGMOID;
            case CATEGORICAL_CROSS_ENTROPY -> output == Activation.SOFTMAX;
        };
    }

    /**
     * Throws when this loss cannot be used after the given output activation.
     *
     * @param output the output layer's activation
     * @throws IllegalArgumentException naming the pairing that is needed
     */
    public void checkOutputActivation(Activation output) {
        switch (this) {
            case MSE -> {
                if (output == Activation.SOFTMAX)
                    throw new IllegalArgumentException("MSE after a softmax output is not supported: "
                            + "use categorical cross-entropy with softmax");
            }
            case BINARY_CROSS_ENTROPY -> {
                if (output != Activation.SIGMOID)
                    throw new IllegalArgumentException("binary cross-entropy needs a sigmoid output layer, got "
                            + output.name().toLowerCase(Locale.ROOT));
            }
            case CATEGORICAL_CROSS_ENTROPY -> {
                if (output != Activation.SOFTMAX)
                    throw new IllegalArgumentException("categorical cross-entropy needs a softmax output layer, got "
                            + output.name().toLowerCase(Locale.ROOT));
            }
        }
    }

    /**
     * A loss by name, as the command line and checkpoints write it.
     *
     * @param text "mse", "bce" (or "binary_cross_entropy"), "cce" (or "ce", "cross_entropy",
     *             "categorical_cross_entropy")
     * @return the loss
     */
    public static Loss parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        return switch (t) {
            case "MSE" -> MSE;
            case "BCE", "BINARY_CROSS_ENTROPY" -> BINARY_CROSS_ENTROPY;
            case "CCE", "CE", "CROSS_ENTROPY", "CATEGORICAL_CROSS_ENTROPY" -> CATEGORICAL_CROSS_ENTROPY;
            default -> throw new IllegalArgumentException("unknown loss '" + text + "': expected mse, bce or cce");
        };
    }
}
