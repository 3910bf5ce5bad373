package io.github.backprop4j.core;

/** Operands whose shapes do not fit together; the message names the operation and both shapes. */
public class ShapeException extends IllegalArgumentException {

    public ShapeException(String message) {
        super(message);
    }
}
