package io.github.backprop4j.cpu;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;

/** The pure-Java backend: always there, the reference and the fallback. */
public final class CpuBackendProvider implements BackendProvider {

    static final String VECTOR_MODULE = "jdk.incubator.vector";

    /** The provider {@link java.util.ServiceLoader} instantiates; {@link #probe} and {@link #open} do the work. */
    public CpuBackendProvider() {
        // nothing to set up until a probe or an open
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability probe() {
        // The Vector API is an incubator module: without --add-modules its classes cannot load.
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty())
            return Availability.unavailable("the JVM was started without --add-modules " + VECTOR_MODULE);
        return Availability.available(CpuDevice.describeMachine());
    }

    @Override
    public Device<float[]> open(BackendOptions options) {
        Availability a = probe();
        if (!a.available()) throw new BackendException("backend 'cpu' is unavailable: " + a.reason());
        if (options.precision() != Precision.FP32)
            throw new BackendException("backend 'cpu' supports fp32 only, not " + options.precision()
                    + " (tf32 is a tensor-core format of NVIDIA GPUs)");
        if (options.device() != 0)
            throw new BackendException("backend 'cpu' has one device (index 0), not index " + options.device());
        return new CpuDevice(options.threads() == 0 ? Runtime.getRuntime().availableProcessors() : options.threads());
    }
}
