package io.github.backprop4j.cuda;

import io.github.backprop4j.core.spi.JvmSignalHandlers;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.util.Locale;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * What this process can use of CUDA, found once: our kernels (built by nvcc?), the driver (JCuda's
 * JNI library needs only libcuda.so.1), the devices, cuBLAS/cuBLASLt. Each missing piece becomes the
 * probe's reason, in that order, so the reason names the first thing to fix.
 */
final class CudaRuntime {

    /** The oldest architecture the fatbin carries SASS for (sm_80); older GPUs cannot run it. */
    static final int MIN_COMPUTE_CAPABILITY = 80;

    record DeviceInfo(int ordinal, String name, long totalBytes, int computeCapability, int multiprocessors) {
        String describe(int driverVersion, String cublasVersion) {
            return String.format(Locale.ROOT, "%s (%.1f GiB, compute %d.%d, %d SMs, driver CUDA %d.%d, cuBLAS %s)",
                    name, totalBytes / (double) (1L << 30), computeCapability / 10, computeCapability % 10,
                    multiprocessors, driverVersion / 1000, driverVersion % 1000 / 10, cublasVersion);
        }
    }

    private static volatile CudaRuntime instance;

    final String unavailableReason;
    final Cublas cublas;
    final int driverVersion;
    final DeviceInfo[] devices;

    private CudaRuntime(String reason, Cublas cublas, int driverVersion, DeviceInfo[] devices) {
        this.unavailableReason = reason;
        this.cublas = cublas;
        this.driverVersion = driverVersion;
        this.devices = devices;
    }

    static CudaRuntime get() {
        CudaRuntime r = instance;
        if (r == null) {
            synchronized (CudaRuntime.class) {
                r = instance;
                if (r == null) instance = r = discover();
            }
        }
        return r;
    }

    boolean available() {
        return unavailableReason == null;
    }

    private static CudaRuntime discover() {
        String kernels = CudaKernels.unavailableReason();
        if (kernels != null) return unavailable(kernels);

        int init;
        JvmSignalHandlers.snapshot();   // before the driver loads: it might install handlers of its own
        try {
            JCudaDriver.setExceptionsEnabled(false);
            init = cuInit(0);
        } catch (LinkageError e) {
            return unavailable(driverLoadFailure(e));
        } finally {
            JvmSignalHandlers.restore();
        }
        if (init == CUresult.CUDA_ERROR_NO_DEVICE)
            return unavailable("no CUDA device: the driver is installed but sees no GPU (cuInit: CUDA_ERROR_NO_DEVICE)");
        if (init != CUresult.CUDA_SUCCESS)
            return unavailable("the CUDA driver failed to initialize: cuInit returned " + CUresult.stringFor(init));
        int[] version = new int[1];
        cuDriverGetVersion(version);
        int[] count = new int[1];
        int rc = cuDeviceGetCount(count);
        if (rc != CUresult.CUDA_SUCCESS) return unavailable("cuDeviceGetCount failed: " + CUresult.stringFor(rc));
        if (count[0] == 0) return unavailable("no CUDA device: the driver reports 0 devices");

        DeviceInfo[] devices = new DeviceInfo[count[0]];
        for (int i = 0; i < count[0]; i++) {
            CUdevice d = new CUdevice();
            rc = cuDeviceGet(d, i);
            if (rc != CUresult.CUDA_SUCCESS) return unavailable("cuDeviceGet(" + i + ") failed: " + CUresult.stringFor(rc));
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, d);
            long[] mem = new long[1];
            cuDeviceTotalMem(mem, d);
            int[] major = new int[1], minor = new int[1], sms = new int[1];
            cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
            cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
            cuDeviceGetAttribute(sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
            devices[i] = new DeviceInfo(i, cString(name), mem[0], major[0] * 10 + minor[0], sms[0]);
        }

        Cublas cublas;
        try {
            cublas = Cublas.load();
        } catch (LinkageError e) {
            return unavailable(e.getMessage() + "; install the CUDA toolkit's cuBLAS (CUDA 12 or 13) or put its lib64 on LD_LIBRARY_PATH");
        }
        return new CudaRuntime(null, cublas, version[0], devices);
    }

    /** The probe's reason for one device, or null when it can be used. */
    String deviceProblem(int ordinal) {
        if (ordinal >= devices.length)
            return "CUDA device " + ordinal + " does not exist (" + devices.length + " device(s): 0.." + (devices.length - 1) + ")";
        DeviceInfo d = devices[ordinal];
        if (d.computeCapability() < MIN_COMPUTE_CAPABILITY)
            return String.format(Locale.ROOT, "%s has compute capability %d.%d; the kernels are built for 8.0 and newer",
                    d.name(), d.computeCapability() / 10, d.computeCapability() % 10);
        return null;
    }

    String describe(int ordinal) {
        return devices[ordinal].describe(driverVersion, cublas.version());
    }

    private static CudaRuntime unavailable(String reason) {
        return new CudaRuntime(reason, null, 0, new DeviceInfo[0]);
    }

    /** JCuda's loader message is pages long; the first line naming libcuda says what is missing. */
    private static String driverLoadFailure(LinkageError e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("libcuda.so"))
            return "no CUDA driver: libcuda.so.1 could not be loaded (install the NVIDIA driver)";
        String first = m.lines().filter(l -> !l.isBlank()).findFirst().orElse(m);
        return "no CUDA driver: JCuda's driver library did not load (" + first.trim() + ")";
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
