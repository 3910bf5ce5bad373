package io.github.backprop4j.core.spi;

import io.github.backprop4j.core.BackendOptions;

/**
 * Entry point of a backend, found with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.github.backprop4j.core.spi.BackendProvider}. {@link
 * io.github.backprop4j.core.Backends} wraps what {@link #open} returns in the validating
 * {@link io.github.backprop4j.core.Backend} handle.
 *
 * <pre>
 * public final class MyProvider implements BackendProvider {
 *     public String name() { return "mine"; }
 *     public int priority() { return 5; }
 *     public Availability probe() { return Availability.available("my device"); }
 *     public Device&lt;?&gt; open(BackendOptions options) { return new MyDevice(options); }
 * }
 * </pre>
 */
public interface BackendProvider {

    /**
     * The short lower-case name used on the command line and in properties.
     *
     * @return e.g. "cuda", "opencl", "cpu"
     */
    String name();

    /**
     * The rank in {@link io.github.backprop4j.core.Backends#best()}: higher wins.
     *
     * @return the priority (cuda &gt; opencl &gt; cpu)
     */
    int priority();

    /**
     * Whether the backend can be opened on this machine, and if not, exactly why. Never throws.
     *
     * @return the availability
     */
    Availability probe();

    /**
     * Opens the device.
     *
     * @param options device index, precision, threads
     * @return the device, which the handle wraps and later closes
     * @throws io.github.backprop4j.core.BackendException naming the backend and the reason, e.g. a
     *                                                    precision it cannot honour
     */
    Device<?> open(BackendOptions options);
}
