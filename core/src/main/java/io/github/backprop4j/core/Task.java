package io.github.backprop4j.core;

import java.util.List;

/**
 * What a network's outputs mean, which its output layer and loss decide ({@link Network#task()}):
 * class probabilities, the probability of a positive class, or values. Accuracy, class names and the
 * name of an exported model's output follow from it.
 *
 * <pre>
 * if (model.task() == Task.CLASSIFY) System.out.println(model.classNames());
 * </pre>
 */
public enum Task {
    /** Softmax output with categorical cross-entropy: one probability per class. */
    CLASSIFY("classify"),
    /** Sigmoid output with binary cross-entropy: the probability of the positive class, per output. */
    BINARY("binary"),
    /** Outputs used as they are, with mean squared error. */
    REGRESS("regress");

    private final String id;

    Task(String id) {
        this.id = id;
    }

    /**
     * The task a loss trains for.
     *
     * @param loss the network's loss
     * @return {@link #CLASSIFY} for categorical cross-entropy, {@link #BINARY} for binary cross-entropy,
     *         {@link #REGRESS} for MSE
     */
    public static Task of(Loss loss) {
        return switch (loss) {
            case CATEGORICAL_CROSS_ENTROPY -> CLASSIFY;
            case BINARY_CROSS_ENTROPY -> BINARY;
            case MSE -> REGRESS;
        };
    }

    /**
     * The lower-case name used in checkpoints, ONNX metadata and on the command line.
     *
     * @return "classify", "binary" or "regress"
     */
    public String id() {
        return id;
    }

    /**
     * Checks class names against a network's outputs: a classifier takes one name per output, a binary
     * network with one output takes one (the positive class) or two (negative, positive), and a
     * regression network takes none. An empty list always fits (no names).
     *
     * @param names   the names, in output order
     * @param outputs the network's output width
     * @throws IllegalArgumentException naming the problem, if they do not fit
     */
    public void checkClassNames(List<String> names, int outputs) {
        if (names.isEmpty()) return;
        boolean fits = switch (this) {
            case CLASSIFY -> names.size() == outputs;
            case BINARY -> names.size() == outputs || (outputs == 1 && names.size() == 2);
            case REGRESS -> throw new IllegalArgumentException("class names apply to classifiers, not to a regression "
                    + "network");
        };
        if (!fits)
            throw new IllegalArgumentException(names.size() + " class names for a network with " + outputs + " outputs");
        for (int i = 0; i < names.size(); i++)
            if (names.get(i) == null) throw new IllegalArgumentException("class name " + i + " is null");
    }
}
