package io.github.backprop4j.core;

/**
 * A backend could not be found, opened or used; the message names the backend and the reason, e.g.
 * "backend 'cpu' is unavailable: the JVM was started without --add-modules jdk.incubator.vector".
 *
 * <pre>
 * try (Backend backend = Backends.open("cuda")) {
 *     ...
 * } catch (BackendException e) {
 *     System.err.println(e.getMessage());   // why CUDA cannot be used here
 * }
 * </pre>
 */
public class BackendException extends RuntimeException {

    /**
     * A backend error.
     *
     * @param message the backend and the reason
     */
    public BackendException(String message) {
        super(message);
    }

    /**
     * A backend error with the driver's exception underneath.
     *
     * @param message the backend and the reason
     * @param cause   what the driver or library threw
     */
    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
