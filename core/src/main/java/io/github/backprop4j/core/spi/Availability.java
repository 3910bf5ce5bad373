package io.github.backprop4j.core.spi;

/**
 * What a {@link BackendProvider#probe()} found: whether the backend can be opened here, and if not,
 * why (in words a user can act on), plus the device it would run on.
 *
 * <pre>
 * return driverLoaded ? Availability.available("NVIDIA H100") : Availability.unavailable("libcuda.so.1 not found");
 * </pre>
 *
 * @param available whether {@link BackendProvider#open} can succeed
 * @param reason    "available", or why not
 * @param device    the device it would run on, "none" when unavailable
 */
public record Availability(boolean available, String reason, String device) {

    /**
     * The backend can be opened.
     *
     * @param device the device it would run on
     * @return an available result
     */
    public static Availability available(String device) {
        return new Availability(true, "available", device);
    }

    /**
     * The backend cannot be opened here.
     *
     * @param reason why, in words a user can act on
     * @return an unavailable result
     */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason, "none");
    }
}
