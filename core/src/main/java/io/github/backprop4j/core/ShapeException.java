package io.github.backprop4j.core;

/**
 * Operands whose shapes do not fit together; the message names the operation and both shapes, e.g.
 * "cpu: gemm: A is 2×3 but B is 4×5: A's columns must equal B's rows".
 *
 * <pre>
 * try {
 *     model.predict(row, 1);
 * } catch (ShapeException e) {
 *     System.err.println(e.getMessage());   // "predict: 3 floats is not 1 rows of 4"
 * }
 * </pre>
 */
public class ShapeException extends IllegalArgumentException {

    /**
     * A shape error.
     *
     * @param message what did not fit, naming the operation and the shapes
     */
    public ShapeException(String message) {
        super(message);
    }
}
