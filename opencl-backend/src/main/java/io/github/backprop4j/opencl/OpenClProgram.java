package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_KERNEL_NUM_ARGS;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_PROGRAM_KERNEL_NAMES;
import static org.jocl.CL.CL_SUCCESS;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clGetKernelInfo;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clGetProgramInfo;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.spi.JvmSignalHandlers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * One OpenCL program built from the kernels module's sources, and the launching of its kernels. The
 * typed launchers ({@link GemmKernels}, {@link ActivationKernels}, ...) are the only code that knows a
 * kernel's argument list; this class only sets arguments in order and enqueues.
 */
final class OpenClProgram implements AutoCloseable {

    static final String KERNEL_PATH = "/io/github/backprop4j/kernels/opencl/";
    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#include\\s+\"([^\"]+)\"\\s*$");
    private static final int ELEMENTWISE_GROUP = 64;

    private final cl_program program;
    private final cl_command_queue queue;
    private final List<cl_kernel> created = new ArrayList<>();
    private final Set<String> launched = new TreeSet<>();
    /** clSetKernelArg calls made, over all kernels (the test of argument reuse reads it). */
    private long argumentsSet;

    /**
     * A kernel of this program: its handle, entry-point name (for messages) and the value each argument
     * was last set to. OpenCL keeps a kernel's arguments from one enqueue to the next, so a launch sets
     * only those that changed: most do not (an optimizer's constants, a layer's shapes), and each
     * clSetKernelArg through JOCL costs about as much as a small kernel's enqueue on PoCL.
     */
    final class Kernel {
        private final cl_kernel handle;
        private final String name;
        /** Per argument: the cl_mem set, NULL_BUFFER, or the scalar's type tag (its bits in lastBits); null: never set. */
        private final Object[] lastValue;
        private final long[] lastBits;

        private Kernel(cl_kernel handle, String name, int arguments) {
            this.handle = handle;
            this.name = name;
            lastValue = new Object[arguments];
            lastBits = new long[arguments];
        }

        /** Sets this kernel's arguments in order, then enqueues it. */
        Launch launch() {
            return new Launch(this);
        }
    }

    private OpenClProgram(cl_program program, cl_command_queue queue) {
        this.program = program;
        this.queue = queue;
    }

    /**
     * The source of {@code files} in order, each {@code #include "x.h"} replaced by that resource (once
     * per program: the headers are shared with the CUDA kernels, which nvcc compiles with -I).
     */
    static String source(String... files) {
        StringBuilder out = new StringBuilder();
        Set<String> included = new HashSet<>();
        for (String f : files) append(out, f, included);
        return out.toString();
    }

    private static void append(StringBuilder out, String name, Set<String> included) {
        if (!included.add(name)) return;
        String text = resource(name);
        Matcher m = INCLUDE.matcher(text);
        int from = 0;
        out.append("// ---- ").append(name).append(" ----\n");
        while (m.find()) {
            out.append(text, from, m.start());
            append(out, m.group(1), included);
            from = m.end();
        }
        out.append(text, from, text.length()).append('\n');
    }

    private static String resource(String name) {
        try (InputStream in = OpenClProgram.class.getResourceAsStream(KERNEL_PATH + name)) {
            if (in == null) throw new BackendException("opencl: kernel source " + name + " is missing from the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackendException("opencl: cannot read kernel source " + name + ": " + e.getMessage(), e);
        }
    }

    /** Builds {@code files} as one program for {@code device}, with compiler {@code options}. */
    static OpenClProgram build(cl_context context, OpenClDevices.Device device, cl_command_queue queue, String options,
                               String... files) {
        int[] rc = new int[1];
        cl_program p = clCreateProgramWithSource(context, 1, new String[]{source(files)}, null, rc);
        check(rc[0], "clCreateProgramWithSource");
        int buildRc = clBuildProgram(p, 1, new cl_device_id[]{device.id()}, options, null, null);
        JvmSignalHandlers.restore();   // a compiler inside the driver may have taken the JVM's handlers
        if (buildRc != CL_SUCCESS) {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, device.id(), CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] log = new byte[(int) Math.max(1, size[0])];
            clGetProgramBuildInfo(p, device.id(), CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
            clReleaseProgram(p);
            throw new BackendException("opencl: building " + String.join(", ", files) + " for " + device.describe()
                    + " failed (" + CL.stringFor_errorCode(buildRc) + "), options '" + options + "'; build log:\n"
                    + new String(log, StandardCharsets.UTF_8).trim());
        }
        return new OpenClProgram(p, queue);
    }

    Kernel kernel(String name) {
        int[] rc = new int[1];
        cl_kernel k = clCreateKernel(program, name, rc);
        check(rc[0], "clCreateKernel(" + name + ")");
        created.add(k);
        launched.add(name);
        int[] arguments = new int[1];
        check(clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, Sizeof.cl_uint, Pointer.to(arguments), null),
                "clGetKernelInfo(" + name + ", CL_KERNEL_NUM_ARGS)");
        return new Kernel(k, name, arguments[0]);
    }

    long argumentsSet() {
        return argumentsSet;
    }

    /** The entry points the launchers asked for (each resolved, or {@link #kernel} would have thrown). */
    Set<String> launcherEntryPoints() {
        return Set.copyOf(launched);
    }

    /** Every kernel entry point the built program holds (CL_PROGRAM_KERNEL_NAMES). */
    Set<String> entryPoints() {
        long[] size = new long[1];
        check(clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, 0, null, size), "clGetProgramInfo");
        byte[] names = new byte[(int) size[0]];
        check(clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, names.length, Pointer.to(names), null),
                "clGetProgramInfo");
        String all = new String(names, StandardCharsets.UTF_8).replace("\0", "").trim();
        return new TreeSet<>(Arrays.asList(all.split(";")));
    }

    static void check(int rc, String call) {
        if (rc != CL_SUCCESS) throw new BackendException("opencl: " + call + " failed: " + CL.stringFor_errorCode(rc));
    }

    @Override
    public void close() {
        created.forEach(CL::clReleaseKernel);
        created.clear();
        clReleaseProgram(program);
    }

    /** Sets one kernel's arguments in order (those that changed since its last launch), then enqueues it. */
    final class Launch {
        /** Tags of {@link Kernel#lastValue}: a null buffer, and each scalar type (equal bits of another type differ). */
        private static final Object NULL_BUFFER = new Object(), INT32 = new Object(), INT64 = new Object(),
                FLOAT32 = new Object();

        private final Kernel kernel;
        private int index;

        private Launch(Kernel kernel) {
            this.kernel = kernel;
        }

        /** A buffer argument; null passes a null pointer (the kernel tests for it). */
        Launch mem(cl_mem m) {
            Object value = m == null ? NULL_BUFFER : m;
            if (unchanged(value, 0)) return this;
            return set(Sizeof.cl_mem, m == null ? null : Pointer.to(m), value, 0);
        }

        Launch i32(int v) {
            if (unchanged(INT32, v)) return this;
            return set(Sizeof.cl_int, Pointer.to(new int[]{v}), INT32, v);
        }

        /** A {@code long} (64 bits in OpenCL C). */
        Launch i64(long v) {
            if (unchanged(INT64, v)) return this;
            return set(Sizeof.cl_long, Pointer.to(new long[]{v}), INT64, v);
        }

        Launch f32(float v) {
            int bits = Float.floatToRawIntBits(v);
            if (unchanged(FLOAT32, bits)) return this;
            return set(Sizeof.cl_float, Pointer.to(new float[]{v}), FLOAT32, bits);
        }

        /** True (and on to the next argument) when this argument already holds the value. */
        private boolean unchanged(Object value, long bits) {
            if (kernel.lastValue[index] != value || kernel.lastBits[index] != bits) return false;
            index++;
            return true;
        }

        private Launch set(long size, Pointer pointer, Object value, long bits) {
            check(clSetKernelArg(kernel.handle, index, size, pointer), "clSetKernelArg(" + kernel.name + ", " + index + ")");
            argumentsSet++;
            kernel.lastValue[index] = value;
            kernel.lastBits[index] = bits;
            index++;
            return this;
        }

        /** One work-item per item, in groups of 64. */
        void items(long items) {
            long global = (items + ELEMENTWISE_GROUP - 1) / ELEMENTWISE_GROUP * ELEMENTWISE_GROUP;
            grid(new long[]{global}, new long[]{ELEMENTWISE_GROUP});
        }

        void grid(long[] global, long[] local) {
            if (index != kernel.lastValue.length)
                throw new IllegalStateException("opencl: " + kernel.name + " was launched with " + index + " of its "
                        + kernel.lastValue.length + " arguments");
            check(clEnqueueNDRangeKernel(queue, kernel.handle, global.length, null, global, local, 0, null, null),
                    "clEnqueueNDRangeKernel(" + kernel.name + ")");
            JvmSignalHandlers.restore();   // PoCL compiles a kernel at its first launch (one system call otherwise)
        }
    }
}
