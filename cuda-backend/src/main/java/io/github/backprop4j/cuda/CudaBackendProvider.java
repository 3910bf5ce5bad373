package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;

/** NVIDIA GPUs through the CUDA driver (JCuda), cuBLAS/cuBLASLt (FFM) and our nvcc-built kernels. */
public final class CudaBackendProvider implements BackendProvider {

    /** The provider {@link java.util.ServiceLoader} instantiates; {@link #probe} and {@link #open} do the work. */
    public CudaBackendProvider() {
        // nothing to set up until a probe or an open
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 30;
    }

    @Override
    public Availability probe() {
        try {
            CudaRuntime rt = CudaRuntime.get();
            if (!rt.available()) return Availability.unavailable(rt.unavailableReason);
            String problem = rt.deviceProblem(0);
            if (problem != null) return Availability.unavailable(problem);
            return Availability.available(rt.describe(0));
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("CUDA discovery failed: " + e);
        }
    }

    @Override
    public Device<?> open(BackendOptions options) {
        CudaRuntime rt = CudaRuntime.get();
        if (!rt.available()) throw new BackendException("backend 'cuda' is unavailable: " + rt.unavailableReason);
        String problem = rt.deviceProblem(options.device());
        if (problem != null) throw new BackendException("backend 'cuda' is unavailable: " + problem);
        return new CudaDevice(new NativeCudaDriver(rt), options.device(), options.precision());
    }
}
