package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Availability;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.BackendProvider;

/**
 * "cuda-stand-in", registered for cuda-backend's tests only: CudaBackend over a fresh
 * {@link HostStandInDriver} that fails the backend's close if anything leaked or was misused. The
 * StandIn* suites run the shared conformance suites on it, checking host logic without a GPU. Lowest
 * priority, so that {@code Backends.best()} never picks it.
 */
public final class StandInCudaProvider implements BackendProvider {

    @Override
    public String name() {
        return "cuda-stand-in";
    }

    @Override
    public int priority() {
        return Integer.MIN_VALUE;
    }

    @Override
    public Availability probe() {
        return Availability.available("CudaBackend over a host-memory stand-in for the driver (not a GPU)");
    }

    @Override
    public Backend open(BackendOptions options) {
        HostStandInDriver driver = new HostStandInDriver(4L << 30);
        driver.checkAtLastRelease();
        return new CudaBackend(driver, 0, options.precision());
    }
}
