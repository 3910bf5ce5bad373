package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Availability;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.BackendProvider;

/**
 * "cuda-stand-in", registered for cuda-backend's tests only: CudaBackend over a fresh
 * {@link HostStandInDriver} that fails the backend's close if anything leaked or was misused, with
 * the default fused paths. The StandIn* suites run the shared conformance suites on it, checking host
 * logic without a GPU. Lowest priority, so that {@code Backends.best()} never picks it.
 */
public class StandInCudaProvider implements BackendProvider {

    private final String name;
    private final CudaBackend.Fusion fusion;

    public StandInCudaProvider() {
        this("cuda-stand-in", CudaBackend.Fusion.DEFAULT);
    }

    StandInCudaProvider(String name, CudaBackend.Fusion fusion) {
        this.name = name;
        this.fusion = fusion;
    }

    /** "cuda-stand-in-relu-epilogue": the same with the opt-in ReLU epilogue. */
    public static final class ReluEpilogue extends StandInCudaProvider {
        public ReluEpilogue() {
            super("cuda-stand-in-relu-epilogue", new CudaBackend.Fusion(true, true, true));
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
        return Availability.available("CudaBackend over a host-memory stand-in for the driver (not a GPU), " + fusion);
    }

    @Override
    public Backend open(BackendOptions options) {
        HostStandInDriver driver = new HostStandInDriver(4L << 30);
        driver.checkAtLastRelease();
        return new CudaBackend(driver, 0, options.precision(), fusion, PinnedStaging.DEFAULT_CHUNK_BYTES);
    }
}
