package io.github.backprop4j.core;

/**
 * Entry point of a backend, found with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.github.backprop4j.core.BackendProvider}.
 */
public interface BackendProvider {

    /** Short lower-case name used on the command line and in properties: "cuda", "opencl", "cpu". */
    String name();

    /** Higher wins in {@link Backends#best()}: cuda > opencl > cpu. */
    int priority();

    /** Whether the backend can be opened on this machine, and if not, exactly why. Never throws. */
    Availability probe();

    /** Opens the backend; throws {@link BackendException} naming the backend and the reason. */
    Backend open(BackendOptions options);
}
