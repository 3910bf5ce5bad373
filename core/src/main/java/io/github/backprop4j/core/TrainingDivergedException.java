package io.github.backprop4j.core;

/** The training loss became NaN or infinite; the message says where. */
public class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
