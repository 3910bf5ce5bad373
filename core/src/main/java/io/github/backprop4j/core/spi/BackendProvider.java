package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.BackendOptions;

/**
 * Entry point of a backend, found with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.github.backprop4j.core.spi.BackendProvider}. {@link
 * io.github.backprop4j.core.Backends} wraps what {@link #open} returns in the validating
 * {@link io.github.backprop4j.core.Backend} handle.
 */
public interface BackendProvider {

    /** Short lower-case name used on the command line and in properties: "cuda", "opencl", "cpu". */
    String name();

    /** Higher wins in {@link io.github.backprop4j.core.Backends#best()}: cuda > opencl > cpu. */
    int priority();

    /** Whether the backend can be opened on this machine, and if not, exactly why. Never throws. */
    Availability probe();

    /**
     * Opens the device with these options; throws {@link io.github.backprop4j.core.BackendException}
     * naming the backend and the reason, e.g. a precision it cannot honour.
     */
    Device<?> open(BackendOptions options);
}
