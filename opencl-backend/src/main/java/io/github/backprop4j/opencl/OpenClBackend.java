package io.github.backprop4j.opencl;

import static org.jocl.CL.*;

import io.github.backprop4j.core.AbstractBackend;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Precision;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * The SPI on one OpenCL device: one context, one in-order queue, one program built from the
 * kernels module's {@code .cl} files (cached for the backend's life). Every call is enqueued;
 * {@link #download} and {@link #synchronize} wait.
 */
final class OpenClBackend extends AbstractBackend {

    static final String KERNEL_PATH = "/io/github/backprop4j/kernels/opencl/";
    /** Built as one program, in this order (op_codes.h, shared with CUDA, defines what the others use). */
    private static final String[] SOURCES = {"op_codes.h", "gemm.cl", "activation.cl", "column_sum.cl", "loss.cl",
            "optimizer.cl", "gather.cl"};
    private static final int ELEMENTWISE_GROUP = 64;
    private static final int REDUCE_GROUP = 256; // loss.cl's REDUCE_WG

    /** SGEMM tiling: TS × TS of C per work-group, WPT × WPT per work-item, TSK deep. */
    record GemmTiling(int ts, int wpt, int tsk) {
        int side() {
            return ts / wpt;
        }
    }

    private final OpenClDevices.Device device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final GemmTiling tiling;
    private final String tilingSource;
    private long allocatedBytes;
    private cl_mem rowLoss;
    private int rowLossCapacity;

    OpenClBackend(OpenClDevices.Device device) {
        super("opencl", Precision.FP32);
        this.device = device;
        int[] rc = new int[1];
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, device.platform());
        context = clCreateContext(props, 1, new org.jocl.cl_device_id[]{device.id()}, null, null, rc);
        check(rc[0], "clCreateContext");
        @SuppressWarnings("deprecation")
        cl_command_queue q = clCreateCommandQueue(context, device.id(), 0, rc);
        queue = q;
        check(rc[0], "clCreateCommandQueue");
        OpenClTuning.Choice choice = OpenClTuning.choose(device, context, queue);
        tiling = choice.tiling();
        tilingSource = choice.source();
        program = build(context, device, SOURCES, tiling);
    }

    /**
     * The starting point when nothing is forced, cached or tuned. Bigger register blocks on GPUs (more outputs per work-item hide memory latency), smaller
     * work-groups where the device caps them; local memory use is 2·TSK·(TS+1)·4 bytes. CPU devices
     * (PoCL) want few work-items with large blocks: 64,16,32 measured 11 GFLOP/s at 1024 on 2 EPYC
     * cores against 4 for 64,4,16 and 8 for 32,8,32.
     */
    static GemmTiling gemmTiling(OpenClDevices.Device d) {
        String forced = System.getProperty(TILING_PROPERTY);
        if (forced != null && !forced.isBlank()) return parseTiling(forced);
        GemmTiling t;
        if (!d.isGpu() && (d.type() & CL_DEVICE_TYPE_CPU) != 0) t = new GemmTiling(64, 16, 32);
        else if (d.isGpu() && d.maxWorkGroup() >= 256) t = new GemmTiling(128, 8, 16);
        else if (d.maxWorkGroup() >= 256) t = new GemmTiling(64, 4, 16);
        else if (d.maxWorkGroup() >= 64) t = new GemmTiling(32, 4, 16);
        else t = new GemmTiling(16, 4, 16);
        long local = 2L * t.tsk() * (t.ts() + 1) * Float.BYTES;
        if (local > d.localMemory() && t.ts() > 16) t = new GemmTiling(t.ts() / 2, t.wpt(), t.tsk());
        return t;
    }

    /** "TS,WPT,TSK", e.g. "128,8,16": overrides the per-device choice (for tuning on new hardware). */
    static final String TILING_PROPERTY = "backprop4j.opencl.gemmTiling";

    static GemmTiling parseTiling(String text) {
        String[] p = text.split(",");
        try {
            if (p.length == 3) {
                GemmTiling t = new GemmTiling(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()),
                        Integer.parseInt(p[2].trim()));
                if (t.ts() > 0 && t.wpt() > 0 && t.tsk() > 0 && t.ts() % t.wpt() == 0) return t;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BackendException("opencl: " + TILING_PROPERTY + "='" + text
                + "' must be TS,WPT,TSK with positive integers and TS divisible by WPT");
    }

    /** Builds {@code sources} (in order) as one program for {@code device} with the given SGEMM tiling. */
    static cl_program build(cl_context context, OpenClDevices.Device device, String[] sources, GemmTiling tiling) {
        StringBuilder src = new StringBuilder();
        for (String name : sources) {
            try (InputStream in = OpenClBackend.class.getResourceAsStream(KERNEL_PATH + name)) {
                if (in == null) throw new BackendException("opencl: kernel source " + name + " is missing from the class path");
                src.append("// ---- ").append(name).append(" ----\n")
                        .append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new BackendException("opencl: cannot read kernel source " + name + ": " + e.getMessage(), e);
            }
        }
        int[] rc = new int[1];
        cl_program p = clCreateProgramWithSource(context, 1, new String[]{src.toString()}, null, rc);
        check(rc[0], "clCreateProgramWithSource");
        String options = String.format(Locale.ROOT, "-DTS=%d -DWPT=%d -DTSK=%d", tiling.ts(), tiling.wpt(), tiling.tsk());
        int buildRc = clBuildProgram(p, 1, new org.jocl.cl_device_id[]{device.id()}, options, null, null);
        if (buildRc != CL_SUCCESS) {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, device.id(), CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] log = new byte[(int) Math.max(1, size[0])];
            clGetProgramBuildInfo(p, device.id(), CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
            clReleaseProgram(p);
            throw new BackendException("opencl: building the kernels for " + device.describe() + " failed ("
                    + CL.stringFor_errorCode(buildRc) + "), options '" + options + "'; build log:\n"
                    + new String(log, StandardCharsets.UTF_8).trim());
        }
        return p;
    }

    private cl_kernel kernel(String name) {
        cl_kernel k = kernels.get(name);
        if (k == null) {
            int[] rc = new int[1];
            k = clCreateKernel(program, name, rc);
            check(rc[0], "clCreateKernel(" + name + ")");
            kernels.put(name, k);
        }
        return k;
    }

    static void check(int rc, String call) {
        if (rc != CL_SUCCESS)
            throw new BackendException("opencl: " + call + " failed: " + CL.stringFor_errorCode(rc));
    }

    @Override
    public String device() {
        return device.describe();
    }

    /** Platform name and version, driver version and OpenCL C version, as the driver reports them. */
    @Override
    public String runtimeVersion() {
        return device.platformName().trim() + " (" + OpenClDevices.platformString(device.platform(), CL_PLATFORM_VERSION).trim()
                + "), driver " + OpenClDevices.deviceString(device.id(), CL_DRIVER_VERSION).trim() + ", "
                + OpenClDevices.deviceString(device.id(), CL_DEVICE_OPENCL_C_VERSION).trim()
                + ", SGEMM tiles " + tiling.ts() + "/" + tiling.wpt() + "/" + tiling.tsk() + " (" + tilingSource + ")";
    }

    GemmTiling tiling() {
        return tiling;
    }

    long allocatedBytes() {
        return allocatedBytes;
    }

    /** Every buffer this backend created and has not released: matrices plus the loss scratch. */
    @Override
    public long memoryInUse() {
        return allocatedBytes;
    }

    long maxAllocation() {
        return device.maxAlloc();
    }

    long globalMemory() {
        return device.globalMemory();
    }

    void released(long bytes) {
        allocatedBytes -= bytes;
    }

    private static cl_mem mem(Matrix m) {
        return ((OpenClMatrix) m).buffer;
    }

    // ---- memory ----

    @Override
    protected Matrix doAllocate(int rows, int cols) {
        long bytes;
        try {
            bytes = checkAllocation(rows, cols, allocatedBytes, device.maxAlloc(), device.globalMemory(),
                    device.name().trim());
        } catch (BackendException full) {
            // short of global memory: matrices dropped without close() may be what holds it
            if ((long) rows * cols * Float.BYTES > device.maxAlloc() || !reclaimUnreachableAfterGc()) throw full;
            bytes = checkAllocation(rows, cols, allocatedBytes, device.maxAlloc(), device.globalMemory(),
                    device.name().trim());
        }
        int[] rc = new int[1];
        cl_mem buf = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, rc);
        check(rc[0], "clCreateBuffer(" + bytes + " bytes)");
        check(clEnqueueFillBuffer(queue, buf, Pointer.to(new float[]{0f}), Float.BYTES, 0, bytes, 0, null, null),
                "clEnqueueFillBuffer");
        allocatedBytes += bytes;
        return new OpenClMatrix(this, rows, cols, buf);
    }

    /**
     * The byte size of a rows × cols buffer, or a BackendException when it is larger than the device's
     * largest single allocation or than its global memory left after what this backend holds: checked
     * before clCreateBuffer, whose failure modes for oversized requests vary by driver.
     */
    static long checkAllocation(int rows, int cols, long allocated, long maxAlloc, long globalMemory, String deviceName) {
        long bytes = (long) rows * cols * Float.BYTES;
        if (bytes > maxAlloc)
            throw new BackendException("opencl: allocate " + rows + "×" + cols + " (" + (bytes >> 20) + " MiB) exceeds "
                    + deviceName + "'s largest single allocation of " + (maxAlloc >> 20) + " MiB");
        if (allocated + bytes > globalMemory)
            throw new BackendException("opencl: allocate " + rows + "×" + cols + " (" + (bytes >> 20) + " MiB) would exceed "
                    + deviceName + "'s " + (globalMemory >> 20) + " MiB of global memory (" + (allocated >> 20)
                    + " MiB already allocated by this backend)");
        return bytes;
    }

    @Override
    protected void doUpload(float[] src, Matrix dst) {
        // blocking: the caller may refill src as soon as we return
        check(clEnqueueWriteBuffer(queue, mem(dst), CL_TRUE, 0, (long) src.length * Float.BYTES, Pointer.to(src),
                0, null, null), "clEnqueueWriteBuffer");
    }

    @Override
    protected void doDownload(Matrix src, float[] dst) {
        check(clEnqueueReadBuffer(queue, mem(src), CL_TRUE, 0, (long) dst.length * Float.BYTES, Pointer.to(dst),
                0, null, null), "clEnqueueReadBuffer");
    }

    // ---- ops ----

    @Override
    protected void doGemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        int m = c.rows(), n = c.cols(), k = transA ? a.rows() : a.cols();
        cl_kernel kr = kernel("sgemm");
        args(kr, m, n, k, alpha, mem(a), a.cols(), transA ? 1 : 0, mem(b), b.cols(), transB ? 1 : 0, beta, mem(c));
        int ts = tiling.ts(), side = tiling.side();
        long[] global = {(long) ((n + ts - 1) / ts) * side, (long) ((m + ts - 1) / ts) * side};
        launch(kr, "sgemm", global, new long[]{side, side});
    }

    @Override
    protected void doActivate(Activation f, Matrix z, Matrix bias, Matrix out) {
        if (f == Activation.SOFTMAX) {
            cl_kernel k = kernel("bias_softmax_forward");
            args(k, mem(z), mem(bias), mem(out), z.rows(), z.cols());
            launch1d(k, "bias_softmax_forward", z.rows());
        } else {
            cl_kernel k = kernel("bias_activation_forward");
            args(k, mem(z), mem(bias), mem(out), z.rows(), z.cols(), f.ordinal());
            launch1d(k, "bias_activation_forward", z.size());
        }
    }

    @Override
    protected void doActivationBackward(Activation f, Matrix z, Matrix out, Matrix delta) {
        if (f == Activation.IDENTITY) return;
        cl_kernel k = kernel("activation_backward");
        args(k, mem(z), mem(out), mem(delta), (int) z.size(), f.ordinal());
        launch1d(k, "activation_backward", z.size());
    }

    @Override
    protected void doColumnSum(Matrix m, float alpha, float beta, Matrix out) {
        cl_kernel k = kernel("column_sum");
        args(k, mem(m), m.rows(), m.cols(), alpha, beta, mem(out));
        launch1d(k, "column_sum", m.cols());
    }

    @Override
    protected void doGatherRows(Matrix src, Matrix order, int offset, Matrix dst) {
        cl_kernel k = kernel("gather_rows");
        args(k, mem(src), src.rows(), mem(order), offset, dst.rows(), dst.cols(), mem(dst));
        launch1d(k, "gather_rows", (int) dst.size());
    }

    @Override
    protected void doLossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) {
        int rows = yHat.rows();
        if (rows > rowLossCapacity) { // grows once per larger batch size, never in the steady state
            if (rowLoss != null) {
                clReleaseMemObject(rowLoss);
                allocatedBytes -= (long) rowLossCapacity * Float.BYTES;
            }
            int[] rc = new int[1];
            rowLoss = clCreateBuffer(context, CL_MEM_READ_WRITE, (long) rows * Float.BYTES, null, rc);
            check(rc[0], "clCreateBuffer(row loss)");
            rowLossCapacity = rows;
            allocatedBytes += (long) rows * Float.BYTES;
        }
        cl_kernel g = kernel("loss_gradient");
        args(g, mem(yHat), mem(y), mem(delta), rows, yHat.cols(), loss.ordinal(), 1f / rows, rowLoss);
        launch1d(g, "loss_gradient", rows);
        cl_kernel acc = kernel("loss_accumulate");
        args(acc, rowLoss, rows, mem(lossSum));
        launch(acc, "loss_accumulate", new long[]{REDUCE_GROUP}, new long[]{REDUCE_GROUP});
    }

    @Override
    protected void doUpdate(Optimizer.State state, Matrix param, Matrix grad) {
        Optimizer o = state.optimizer();
        int n = (int) param.size();
        switch (o.kind()) {
            case SGD -> {
                cl_kernel k = kernel("sgd_update");
                args(k, mem(param), mem(grad), n, o.learningRate(), state.l2());
                launch1d(k, "sgd_update", n);
            }
            case MOMENTUM, NESTEROV -> {
                cl_kernel k = kernel("momentum_update");
                args(k, mem(param), mem(grad), mem(state.slot(0)), n, o.learningRate(), o.momentum(), state.l2(),
                        o.kind() == Optimizer.Kind.NESTEROV ? 1 : 0);
                launch1d(k, "momentum_update", n);
            }
            case ADAM, ADAMW -> {
                long t = state.step();
                float c1 = (float) (1 / (1 - Math.pow(o.beta1(), t))), c2 = (float) (1 / (1 - Math.pow(o.beta2(), t)));
                cl_kernel k = kernel("adam_update");
                args(k, mem(param), mem(grad), mem(state.slot(0)), mem(state.slot(1)), n, o.learningRate(), o.beta1(),
                        o.beta2(), o.epsilon(), state.l2(), c1, c2, 1f - o.learningRate() * state.decoupledDecay());
                launch1d(k, "adam_update", n);
            }
        }
    }

    @Override
    protected void doSynchronize() {
        check(clFinish(queue), "clFinish");
    }

    @Override
    protected void doClose() {
        clFinish(queue);
        if (rowLoss != null) clReleaseMemObject(rowLoss);
        kernels.values().forEach(CL::clReleaseKernel);
        kernels.clear();
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    // ---- launching ----

    private static void args(cl_kernel k, Object... values) {
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            int rc;
            if (v instanceof cl_mem m) rc = clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
            else if (v instanceof Integer n) rc = clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[]{n}));
            else if (v instanceof Float f) rc = clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[]{f}));
            else throw new IllegalArgumentException("unsupported kernel argument " + v);
            check(rc, "clSetKernelArg(" + i + ")");
        }
    }

    private void launch1d(cl_kernel k, String name, long items) {
        long global = (items + ELEMENTWISE_GROUP - 1) / ELEMENTWISE_GROUP * ELEMENTWISE_GROUP;
        launch(k, name, new long[]{global}, new long[]{ELEMENTWISE_GROUP});
    }

    private void launch(cl_kernel k, String name, long[] global, long[] local) {
        check(clEnqueueNDRangeKernel(queue, k, global.length, null, global, local, 0, null, null),
                "clEnqueueNDRangeKernel(" + name + ")");
    }
}
