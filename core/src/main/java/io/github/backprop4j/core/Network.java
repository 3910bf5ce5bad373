package io.github.backprop4j.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A multilayer perceptron's shape: input width, dense layers (units + activation; the last one is the
 * output layer) and the loss. Immutable and validated when built; it holds no parameters (a
 * {@link Model} does).
 *
 * <pre>
 * Network net = Network.input(784).dense(256, Activation.RELU).dropout(0.2).dense(128, Activation.RELU)
 *                      .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
 * </pre>
 *
 * @param inputs features per sample, ≥ 1
 * @param layers the dense layers, input side first; softmax only on the last
 * @param loss   the loss, which must suit the output activation
 */
public record Network(int inputs, List<Layer> layers, Loss loss) {

    /**
     * One dense layer: Z = A_prev·W + 1·bᵀ, A = f(Z); with dropout p &gt; 0 (hidden layers only), training
     * passes A ⊙ mask on instead of A (inverted dropout: kept units × 1/(1 − p)), evaluation and prediction A.
     *
     * @param units      outputs of the layer, ≥ 1
     * @param activation f
     * @param dropout    the drop probability p in [0, 1); 0 for none
     */
    public record Layer(int units, Activation activation, float dropout) {

        /**
         * A layer without dropout.
         *
         * @param units      outputs of the layer, ≥ 1
         * @param activation f
         */
        public Layer(int units, Activation activation) {
            this(units, activation, 0f);
        }
    }

    /** Validates the shape: positive widths, softmax last, a loss that suits the output. */
    public Network {
        if (inputs <= 0) throw new IllegalArgumentException("network input width must be >= 1, got " + inputs);
        if (layers == null || layers.isEmpty())
            throw new IllegalArgumentException("a network needs at least one layer");
        if (loss == null) throw new IllegalArgumentException("a network needs a loss");
        layers = List.copyOf(layers);
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            if (layer.units() <= 0)
                throw new IllegalArgumentException("layer " + (l + 1) + " must have >= 1 units, got " + layer.units());
            if (layer.activation() == null)
                throw new IllegalArgumentException("layer " + (l + 1) + " has no activation");
            if (layer.activation() == Activation.SOFTMAX && l != layers.size() - 1)
                throw new IllegalArgumentException("layer " + (l + 1) + ": softmax is allowed only on the output layer");
            if (!(layer.dropout() >= 0 && layer.dropout() < 1))
                throw new IllegalArgumentException("layer " + (l + 1) + ": dropout must be in [0, 1), got " + layer.dropout());
            if (layer.dropout() > 0 && l == layers.size() - 1)
                throw new IllegalArgumentException("layer " + (l + 1) + ": dropout applies to hidden layers, not the "
                        + "output layer");
        }
        loss.checkOutputActivation(layers.getLast().activation());
        if (loss == Loss.CATEGORICAL_CROSS_ENTROPY && layers.getLast().units() < 2)
            throw new IllegalArgumentException("categorical cross-entropy needs >= 2 output units, got "
                    + layers.getLast().units());
    }

    /**
     * Starts a network.
     *
     * @param inputs features per sample
     * @return a builder to add layers to
     */
    public static Builder input(int inputs) {
        return new Builder(inputs);
    }

    /**
     * The number of dense layers.
     *
     * @return the depth
     */
    public int depth() {
        return layers.size();
    }

    /**
     * Width of layer l's input (l = 0 is the first dense layer).
     *
     * @param l 0-based layer
     * @return its fan-in
     */
    public int fanIn(int l) {
        return l == 0 ? inputs : layers.get(l - 1).units();
    }

    /**
     * Width of layer l's output.
     *
     * @param l 0-based layer
     * @return its units
     */
    public int fanOut(int l) {
        return layers.get(l).units();
    }

    /**
     * The output width.
     *
     * @return the last layer's units
     */
    public int outputs() {
        return layers.getLast().units();
    }

    /**
     * The output layer's activation.
     *
     * @return the last layer's activation
     */
    public Activation outputActivation() {
        return layers.getLast().activation();
    }

    /**
     * What the outputs mean, from the loss.
     *
     * @return {@link Task#of(Loss) Task.of(loss)}
     */
    public Task task() {
        return Task.of(loss);
    }

    /**
     * The number of trainable parameters.
     *
     * @return Σ fan-in·fan-out + fan-out
     */
    public long parameterCount() {
        long p = 0;
        for (int l = 0; l < depth(); l++) p += (long) fanIn(l) * fanOut(l) + fanOut(l);
        return p;
    }

    /**
     * FLOPs of one training step on n samples (forward, dW and δ GEMMs).
     *
     * @param n rows per step
     * @return 6·n·Σ f_{l−1}·f_l
     */
    public double flopsPerStep(int n) {
        double s = 0;
        for (int l = 0; l < depth(); l++) s += (double) fanIn(l) * fanOut(l);
        return 6.0 * n * s;
    }

    /**
     * Whether any layer drops out units in training.
     *
     * @return true when a layer has dropout &gt; 0
     */
    public boolean hasDropout() {
        return layers.stream().anyMatch(l -> l.dropout() > 0);
    }

    /**
     * For messages.
     *
     * @return e.g. "784-256-128-10 relu,relu,softmax categorical_cross_entropy"; a layer with dropout reads
     *         "relu(dropout 0.2)"
     */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(inputs);
        for (Layer l : layers) sb.append('-').append(l.units());
        sb.append(' ');
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            sb.append(i == 0 ? "" : ",").append(l.activation().name().toLowerCase(Locale.ROOT));
            if (l.dropout() > 0) sb.append("(dropout ").append(l.dropout()).append(')');
        }
        return sb.append(' ').append(loss.name().toLowerCase(Locale.ROOT)).toString();
    }

    /** Adds layers from the input side; {@link #output} ends the network. */
    public static final class Builder {
        private final int inputs;
        private final List<Layer> layers = new ArrayList<>();

        private Builder(int inputs) {
            this.inputs = inputs;
        }

        /**
         * Adds a hidden layer.
         *
         * @param units      its width
         * @param activation its activation
         * @return this builder
         */
        public Builder dense(int units, Activation activation) {
            layers.add(new Layer(units, activation));
            return this;
        }

        /**
         * Dropout on the layer added last: in training, each of its units is zeroed with probability
         * {@code probability} and the others scaled by 1/(1 − probability); never in evaluation or prediction.
         *
         * @param probability the drop probability, in [0, 1)
         * @return this builder
         */
        public Builder dropout(double probability) {
            if (layers.isEmpty()) throw new IllegalStateException("dropout applies to the layer added last: add one first");
            Layer last = layers.removeLast();
            layers.add(new Layer(last.units(), last.activation(), (float) probability));
            return this;
        }

        /**
         * Adds the output layer and builds the network.
         *
         * @param units      the output width
         * @param activation the output activation
         * @param loss       the loss
         * @return the network
         */
        public Network output(int units, Activation activation, Loss loss) {
            layers.add(new Layer(units, activation));
            return new Network(inputs, layers, loss);
        }
    }
}
