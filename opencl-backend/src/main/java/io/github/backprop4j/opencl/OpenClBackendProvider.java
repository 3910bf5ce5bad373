package io.github.backprop4j.opencl;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.spi.Device;
import java.util.List;

/** OpenCL through JOCL: AMD, Intel, NVIDIA GPUs, or a CPU through PoCL. */
public final class OpenClBackendProvider implements BackendProvider {

    /** The provider {@link java.util.ServiceLoader} instantiates; {@link #probe} and {@link #open} do the work. */
    public OpenClBackendProvider() {
        // nothing to set up until a probe or an open
    }

    @Override
    public String name() {
        return "opencl";
    }

    /**
     * 20 (above cpu) when a GPU or accelerator is present; 5 (below cpu) when the only devices are
     * CPUs, e.g. PoCL: the Java backend trains faster on the same cores (1.8 vs 13.5 s a Fashion
     * epoch here), so {@code Backends.best()} should not pick OpenCL-on-CPU unless asked by name.
     */
    @Override
    public int priority() {
        try {
            for (OpenClDevices.Device d : OpenClDevices.list())
                if ((d.type() & (org.jocl.CL.CL_DEVICE_TYPE_GPU | org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR)) != 0) return 20;
            return 5;
        } catch (LinkageError | RuntimeException e) {
            return 20; // the probe reports why OpenCL is unusable
        }
    }

    @Override
    public Availability probe() {
        List<OpenClDevices.Device> devices;
        try {
            devices = OpenClDevices.list();
        } catch (LinkageError e) {
            // JOCL dlopens the unversioned name, which Debian ships only in the -dev package
            return Availability.unavailable("no OpenCL ICD loader could be loaded: JOCL needs libOpenCL.so "
                    + "(Debian: apt-get install ocl-icd-opencl-dev, plus a driver such as pocl-opencl-icd; or put a "
                    + "libOpenCL.so symlink to libOpenCL.so.1 on LD_LIBRARY_PATH): " + e.getMessage());
        } catch (RuntimeException e) {
            return Availability.unavailable("OpenCL enumeration failed: " + e.getMessage());
        }
        if (devices.isEmpty())
            return Availability.unavailable("the OpenCL loader found no platform with a device (install a driver: "
                    + "NVIDIA/AMD/Intel, or pocl-opencl-icd for the CPU)");
        if (OpenClDevice.class.getResource(OpenClProgram.KERNEL_PATH + GemmKernels.SOURCE) == null)
            return Availability.unavailable("the OpenCL kernel sources are not on the class path "
                    + "(backprop4j-kernels jar missing)");
        try {
            return Availability.available(OpenClDevices.choose(devices, 0).describe());
        } catch (BackendException e) {
            return Availability.unavailable(e.getMessage());
        }
    }

    @Override
    public Device<?> open(BackendOptions options) {
        Availability a = probe();
        if (!a.available()) throw new BackendException("backend 'opencl' is unavailable: " + a.reason());
        if (options.precision() != Precision.FP32)
            throw new BackendException("backend 'opencl' supports fp32 only, not " + options.precision());
        return new OpenClDevice(OpenClDevices.choose(OpenClDevices.list(), options.device()));
    }
}
