package io.github.backprop4j.core;

/** A backend could not be found, opened or used; the message names the backend and the reason. */
public class BackendException extends RuntimeException {

    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
