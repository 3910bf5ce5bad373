package io.github.backprop4j.bench;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend on the test class path whose probe always says no: the report must list it, with the
 * reason. It counts the times it is asked for its priority (only a ranking of every provider asks).
 */
public final class UnavailableTestProvider implements BackendProvider {

    static final String NAME = "absent-test";
    static final String REASON = "the test device is switched off";
    static final AtomicInteger PRIORITY_ASKED = new AtomicInteger();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        PRIORITY_ASKED.incrementAndGet();
        return -1;
    }

    @Override
    public Availability probe() {
        return Availability.unavailable(REASON);
    }

    @Override
    public Device<?> open(BackendOptions options) {
        throw new BackendException("backend '" + NAME + "' is unavailable: " + REASON);
    }
}
