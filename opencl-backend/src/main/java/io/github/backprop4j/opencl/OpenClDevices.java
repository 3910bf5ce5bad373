package io.github.backprop4j.opencl;

import static org.jocl.CL.*;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.spi.JvmSignalHandlers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Enumerates OpenCL devices in the order the backend offers them (GPUs first, then accelerators, then
 * CPUs; platform and device index break ties) and answers which one a user asked for.
 */
final class OpenClDevices {

    /** {@code backprop4j.opencl.device} / {@code BACKPROP4J_OPENCL_DEVICE}: "P:D" indices or a name fragment. */
    static final String PROPERTY = "backprop4j.opencl.device";
    static final String ENVIRONMENT = "BACKPROP4J_OPENCL_DEVICE";

    record Device(int platformIndex, int deviceIndex, cl_platform_id platform, cl_device_id id,
                  String platformName, String name, long type, long globalMemory, long maxAlloc,
                  long maxWorkGroup, long localMemory, String version, int computeUnits) {

        boolean isGpu() {
            return (type & CL_DEVICE_TYPE_GPU) != 0;
        }

        String describe() {
            return name.trim() + " [" + platformName.trim() + ", " + version.trim() + ", "
                    + String.format(Locale.ROOT, "%.1f GiB", globalMemory / (double) (1L << 30)) + "]";
        }

        String key() {
            return platformIndex + ":" + deviceIndex;
        }
    }

    private OpenClDevices() {
    }

    /**
     * Loads JOCL and the ICD loader; a missing libOpenCL surfaces here as a LinkageError. The drivers it
     * loads may replace the JVM's signal handlers (PoCL's LLVM does): they are put back afterwards.
     */
    static List<Device> list() {
        JvmSignalHandlers.snapshot();
        try {
            return enumerate();
        } finally {
            JvmSignalHandlers.restore();
        }
    }

    private static List<Device> enumerate() {
        CL.setExceptionsEnabled(false);
        int[] count = new int[1];
        int rc = clGetPlatformIDs(0, null, count);
        if (rc == CL_PLATFORM_NOT_FOUND_KHR || count[0] == 0) return List.of();
        OpenClProgram.check(rc, "clGetPlatformIDs");
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        OpenClProgram.check(clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs");
        List<Device> out = new ArrayList<>();
        for (int p = 0; p < platforms.length; p++) {
            int[] n = new int[1];
            rc = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, null, n);
            if (rc == CL_DEVICE_NOT_FOUND || n[0] == 0) continue;
            OpenClProgram.check(rc, "clGetDeviceIDs");
            cl_device_id[] ids = new cl_device_id[n[0]];
            OpenClProgram.check(clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, ids.length, ids, null), "clGetDeviceIDs");
            String platformName = platformString(platforms[p], CL_PLATFORM_NAME);
            for (int d = 0; d < ids.length; d++) {
                cl_device_id id = ids[d];
                out.add(new Device(p, d, platforms[p], id, platformName, deviceString(id, CL_DEVICE_NAME),
                        deviceLong(id, CL_DEVICE_TYPE), deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE),
                        deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE), deviceSize(id, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                        deviceLong(id, CL_DEVICE_LOCAL_MEM_SIZE), deviceString(id, CL_DEVICE_VERSION),
                        deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS)));
            }
        }
        out.sort(Comparator.comparingInt((Device d) -> rank(d.type())).thenComparingInt(Device::platformIndex)
                .thenComparingInt(Device::deviceIndex));
        return out;
    }

    private static int rank(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) return 0;
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) return 1;
        return 2;
    }

    /** The device chosen by the override (property / environment) or else by index in offer order. */
    static Device choose(List<Device> devices, int index) {
        String wanted = System.getProperty(PROPERTY);
        if (wanted == null || wanted.isBlank()) wanted = System.getenv(ENVIRONMENT);
        if (wanted != null && !wanted.isBlank()) {
            String w = wanted.trim().toLowerCase(Locale.ROOT);
            for (Device d : devices) {
                if (d.key().equals(w) || (d.platformName() + " " + d.name()).toLowerCase(Locale.ROOT).contains(w))
                    return d;
            }
            throw new BackendException("opencl: no device matches '" + wanted + "' (" + PROPERTY + "); devices: "
                    + summary(devices));
        }
        if (index >= devices.size())
            throw new BackendException("opencl: device index " + index + " requested but only " + devices.size()
                    + " device(s) exist: " + summary(devices));
        return devices.get(index);
    }

    static String summary(List<Device> devices) {
        List<String> s = new ArrayList<>();
        for (Device d : devices) s.add(d.key() + " " + d.describe());
        return String.join("; ", s);
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        OpenClProgram.check(clGetPlatformInfo(p, param, 0, null, size), "clGetPlatformInfo");
        byte[] buf = new byte[(int) size[0]];
        OpenClProgram.check(clGetPlatformInfo(p, param, buf.length, Pointer.to(buf), null), "clGetPlatformInfo");
        return cString(buf);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        OpenClProgram.check(clGetDeviceInfo(d, param, 0, null, size), "clGetDeviceInfo");
        byte[] buf = new byte[(int) size[0]];
        OpenClProgram.check(clGetDeviceInfo(d, param, buf.length, Pointer.to(buf), null), "clGetDeviceInfo");
        return cString(buf);
    }

    private static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        OpenClProgram.check(clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null), "clGetDeviceInfo");
        return v[0];
    }

    private static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        OpenClProgram.check(clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null), "clGetDeviceInfo");
        return v[0];
    }

    private static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        OpenClProgram.check(clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null), "clGetDeviceInfo");
        return v[0];
    }

    private static String cString(byte[] buf) {
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }
}
