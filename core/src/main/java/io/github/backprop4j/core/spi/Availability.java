package io.github.backprop4j.core.spi;

/**
 * What a {@link BackendProvider#probe()} found: whether the backend can be opened here, and if not,
 * why (in words a user can act on), plus the device it would run on.
 */
public record Availability(boolean available, String reason, String device) {

    public static Availability available(String device) {
        return new Availability(true, "available", device);
    }

    public static Availability unavailable(String reason) {
        return new Availability(false, reason, "none");
    }
}
