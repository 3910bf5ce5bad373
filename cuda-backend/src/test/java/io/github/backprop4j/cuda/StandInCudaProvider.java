package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;

/**
 * "cuda-stand-in", registered for cuda-backend's tests only: CudaDevice over a fresh
 * {@link HostStandInDriver} that fails the backend's close if anything leaked or was misused, with
 * the default fused paths. The StandIn* suites run the shared conformance suites on it, checking host
 * logic without a GPU. Lowest priority, so that {@code Backends.best()} never picks it.
 */
public class StandInCudaProvider implements BackendProvider {

    private final String name;
    private final CudaDevice.Fusion fusion;

    public StandInCudaProvider() {
        this("cuda-stand-in", CudaDevice.Fusion.DEFAULT);
    }

    StandInCudaProvider(String name, CudaDevice.Fusion fusion) {
        this.name = name;
        this.fusion = fusion;
    }

    /** "cuda-stand-in-relu-epilogue": the same with the opt-in ReLU epilogue. */
    public static final class ReluEpilogue extends StandInCudaProvider {
        public ReluEpilogue() {
            super("cuda-stand-in-relu-epilogue", new CudaDevice.Fusion(true, true, true));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int priority() {
        return Integer.MIN_VALUE;
    }

    @Override
    public Availability probe() {
        return Availability.available("CudaDevice over a host-memory stand-in for the driver (not a GPU), " + fusion);
    }

    @Override
    public Device<?> open(BackendOptions options) {
        HostStandInDriver driver = new HostStandInDriver(4L << 30);
        driver.checkAtLastRelease();
        return new CudaDevice(driver, 0, options.precision(), fusion, PinnedStaging.DEFAULT_CHUNK_BYTES);
    }
}
