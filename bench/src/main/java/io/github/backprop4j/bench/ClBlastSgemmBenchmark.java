package io.github.backprop4j.bench;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_SUCCESS;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueueWithProperties;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseMemObject;

import io.github.backprop4j.bench.GemmBenchmark.Shape;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.blast.CLBlast;
import org.jocl.blast.CLBlastLayout;
import org.jocl.blast.CLBlastStatusCode;
import org.jocl.blast.CLBlastTranspose;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_queue_properties;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CLBlast's SGEMM on the OpenCL device that {@code GemmBenchmark -p backend=opencl} measures gemm.cl on,
 * with the same shapes, data and timing (the product and a {@code clFinish} per operation): the yardstick
 * that decides whether the OpenCL backend keeps its own kernels. CLBlast is reached through JOCLBlast,
 * which bundles the library; no backend uses it.
 *
 * <p>The device is the one the backend chooses (its rules and {@code -Dbackprop4j.opencl.device}), found
 * again here by platform and device name. Before timing, CLBlast's C is compared with the backend's for the
 * same inputs, so the two are known to compute the same product in the same layout.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar 'GemmBenchmark|ClBlastSgemmBenchmark' -p backend=opencl -p precision=fp32 -p size=1024,128x10x128:NT
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchmarkSupport.ADD_VECTOR, BenchmarkSupport.NATIVE_ACCESS})
public class ClBlastSgemmBenchmark {

    /** n (square) or MxKxN[:TN|:NT|:TT], as in {@link GemmBenchmark}. */
    @Param({"256", "1024", "2048", "4096"})
    public String size;

    private Shape shape;
    private cl_context context;
    private cl_command_queue queue;
    private cl_mem a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        shape = Shape.parse(size);
        SplittableRandom rng = new SplittableRandom(42);
        float[] hostA = GemmBenchmark.random(rng, shape.m() * shape.k());
        float[] hostB = GemmBenchmark.random(rng, shape.k() * shape.n());
        float[] expected = new float[shape.m() * shape.n()];
        String description;
        try (Backend ours = BenchmarkSupport.open("opencl", "fp32")) {
            description = ours.device();
            Matrix ma = shape.transA() ? ours.allocate(shape.k(), shape.m()) : ours.allocate(shape.m(), shape.k());
            Matrix mb = shape.transB() ? ours.allocate(shape.n(), shape.k()) : ours.allocate(shape.k(), shape.n());
            Matrix mc = ours.allocate(shape.m(), shape.n());
            ours.upload(hostA, ma);
            ours.upload(hostB, mb);
            ours.gemm(shape.transA(), shape.transB(), 1f, ma, mb, 0f, mc);
            ours.download(mc, expected);
        }
        cl_platform_id[] platform = new cl_platform_id[1];
        cl_device_id device = findDevice(description, platform);
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL_CONTEXT_PLATFORM, platform[0]);
        // JOCL's status codes are checked here rather than turned into exceptions: that switch is global,
        // and the backend, in the same JVM, reads the codes itself.
        int[] status = new int[1];
        context = clCreateContext(properties, 1, new cl_device_id[] {device}, null, null, status);
        check(status[0], "clCreateContext");
        queue = clCreateCommandQueueWithProperties(context, device, new cl_queue_properties(), status);
        check(status[0], "clCreateCommandQueueWithProperties");
        a = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) hostA.length * Sizeof.cl_float,
                Pointer.to(hostA), status);
        check(status[0], "clCreateBuffer(A)");
        b = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) hostB.length * Sizeof.cl_float,
                Pointer.to(hostB), status);
        check(status[0], "clCreateBuffer(B)");
        c = clCreateBuffer(context, CL_MEM_READ_WRITE, (long) expected.length * Sizeof.cl_float, null, status);
        check(status[0], "clCreateBuffer(C)");
        sgemm();
        float[] actual = new float[expected.length];
        check(clEnqueueReadBuffer(queue, c, CL_TRUE, 0, (long) actual.length * Sizeof.cl_float, Pointer.to(actual), 0,
                null, null), "clEnqueueReadBuffer(C)");
        // Both sum k products of numbers in [-1, 1] in their own order: they agree to fp32 rounding of such a sum.
        double tolerance = 1e-5 * shape.k();
        for (int i = 0; i < actual.length; i++)
            if (!(Math.abs(actual[i] - expected[i]) <= tolerance))
                throw new IllegalStateException("CLBlast and the opencl backend disagree at " + size + ", C[" + i / shape.n()
                        + "][" + i % shape.n() + "]: " + actual[i] + " against " + expected[i]);
        System.out.printf("%n# CLBlast on %s, %s: %.6f GFLOP per op (GFLOP/s = that / seconds per op)%n", description,
                size, shape.flops() / 1e9);
    }

    @Benchmark
    public void sgemm() {
        int status = CLBlast.CLBlastSgemm(CLBlastLayout.CLBlastLayoutRowMajor, transpose(shape.transA()),
                transpose(shape.transB()), shape.m(), shape.n(), shape.k(), 1f,
                a, 0, shape.transA() ? shape.m() : shape.k(),
                b, 0, shape.transB() ? shape.k() : shape.n(),
                0f, c, 0, shape.n(), queue, null);
        if (status != CLBlastStatusCode.CLBlastSuccess)
            throw new IllegalStateException("CLBlastSgemm at " + size + ": " + CLBlastStatusCode.stringFor(status));
        check(clFinish(queue), "clFinish");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (cl_mem m : new cl_mem[] {a, b, c}) if (m != null) clReleaseMemObject(m);
        if (queue != null) clReleaseCommandQueue(queue);
        if (context != null) clReleaseContext(context);
        a = b = c = null;
        queue = null;
        context = null;
    }

    /**
     * The device whose "name [platform, …" starts the backend's description of its device. Several match
     * only where a machine holds identical devices (two of one GPU model): the first of them is the same
     * hardware as the backend's. None matching fails, naming every device seen.
     */
    static cl_device_id findDevice(String description, cl_platform_id[] platformOut) {
        int[] count = new int[1];
        check(clGetPlatformIDs(0, null, count), "clGetPlatformIDs");
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        check(clGetPlatformIDs(platforms.length, platforms, null), "clGetPlatformIDs");
        List<String> seen = new ArrayList<>();
        cl_device_id found = null;
        for (cl_platform_id p : platforms) {
            String platformName = platformString(p);
            int[] devices = new int[1];
            // a platform without devices answers CL_DEVICE_NOT_FOUND, and has none to offer
            if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, devices) != CL_SUCCESS) continue;
            cl_device_id[] ids = new cl_device_id[devices[0]];
            check(clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, ids.length, ids, null), "clGetDeviceIDs");
            for (cl_device_id d : ids) {
                String prefix = deviceName(d) + " [" + platformName + ",";
                seen.add(prefix);
                if (found != null || !description.startsWith(prefix)) continue;
                found = d;
                platformOut[0] = p;
            }
        }
        if (found == null)
            throw new IllegalStateException("no OpenCL device matches the backend's '" + description + "' among " + seen);
        return found;
    }

    private static String platformString(cl_platform_id p) {
        return infoString("clGetPlatformInfo", (size, value, sizeOut) -> clGetPlatformInfo(p, CL_PLATFORM_NAME, size,
                value, sizeOut));
    }

    private static String deviceName(cl_device_id d) {
        return infoString("clGetDeviceInfo", (size, value, sizeOut) -> clGetDeviceInfo(d, CL_DEVICE_NAME, size, value,
                sizeOut));
    }

    /** clGet*Info for one string-valued parameter: its length, then its bytes. */
    private interface InfoQuery {
        int query(long size, Pointer value, long[] sizeOut);
    }

    private static String infoString(String call, InfoQuery info) {
        long[] length = new long[1];
        check(info.query(0, null, length), call);
        byte[] bytes = new byte[(int) length[0]];
        check(info.query(bytes.length, Pointer.to(bytes), null), call);
        return cString(bytes);
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }

    private static void check(int status, String call) {
        if (status != CL_SUCCESS) throw new IllegalStateException(call + ": " + CL.stringFor_errorCode(status));
    }

    private static int transpose(boolean t) {
        return t ? CLBlastTranspose.CLBlastTransposeYes : CLBlastTranspose.CLBlastTransposeNo;
    }
}
