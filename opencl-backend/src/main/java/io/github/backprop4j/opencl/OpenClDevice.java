package io.github.backprop4j.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_OPENCL_C_VERSION;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clGetMemObjectInfo;
import static org.jocl.CL.CL_MEM_SIZE;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.JvmSignalHandlers;
import io.github.backprop4j.core.spi.UpdateRule;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;

/**
 * One OpenCL device: one context, one in-order queue, one program built from the kernels module's
 * {@code .cl} files, and a typed launcher per kernel family. Every op is enqueued; {@link #download}
 * and {@link #synchronize} wait.
 */
final class OpenClDevice implements Device<cl_mem> {

    /** The kernel families, built as one program; each has its launcher (gemm.cl: GemmKernels, ...). */
    static final String[] SOURCES = {GemmKernels.SOURCE, "activation.cl", "column_sum.cl", "loss.cl", "optimizer.cl",
            "gather.cl", "dropout.cl", "sum_of_squares.cl"};

    private final OpenClDevices.Device device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final OpenClProgram program;
    private final String tilingSource;
    private final GemmKernels gemm;
    private final ActivationKernels activation;
    private final ColumnSumKernels columnSum;
    private final LossKernels loss;
    private final OptimizerKernels optimizer;
    private final GatherKernels gather;
    private final DropoutKernels dropout;
    private final SumOfSquaresKernels sumOfSquares;
    /** Bytes of the buffers allocated and not freed, against the device's global memory. */
    private long allocatedBytes;

    OpenClDevice(OpenClDevices.Device device) {
        this.device = device;
        int[] rc = new int[1];
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, device.platform());
        context = clCreateContext(props, 1, new cl_device_id[]{device.id()}, null, null, rc);
        JvmSignalHandlers.restore();
        OpenClProgram.check(rc[0], "clCreateContext");
        @SuppressWarnings("deprecation")
        cl_command_queue q = clCreateCommandQueue(context, device.id(), 0, rc);
        queue = q;
        OpenClProgram.check(rc[0], "clCreateCommandQueue");
        OpenClTuning.Choice choice = OpenClTuning.choose(device, context, queue);
        tilingSource = choice.source();
        program = OpenClProgram.build(context, device, queue, choice.tiling().options(), SOURCES);
        gemm = new GemmKernels(program, choice.tiling(), device, context);
        activation = new ActivationKernels(program);
        columnSum = new ColumnSumKernels(program);
        loss = new LossKernels(program, context);
        optimizer = new OptimizerKernels(program);
        gather = new GatherKernels(program);
        dropout = new DropoutKernels(program);
        sumOfSquares = new SumOfSquaresKernels(program, context);
    }

    @Override
    public String description() {
        return device.describe();
    }

    /** Platform name and version, driver version and OpenCL C version, as the driver reports them. */
    @Override
    public String runtimeVersion() {
        GemmKernels.Tiling t = gemm.tiling();
        return device.platformName().trim() + " (" + OpenClDevices.platformString(device.platform(), CL_PLATFORM_VERSION).trim()
                + "), driver " + OpenClDevices.deviceString(device.id(), CL_DRIVER_VERSION).trim() + ", "
                + OpenClDevices.deviceString(device.id(), CL_DEVICE_OPENCL_C_VERSION).trim()
                + ", SGEMM tiles " + t.ts() + "/" + t.wpt() + "/" + t.tsk() + " (" + tilingSource + "), split K "
                + gemm.splitMode();
    }

    GemmKernels.Tiling tiling() {
        return gemm.tiling();
    }

    OpenClProgram program() {
        return program;
    }

    long maxAllocation() {
        return device.maxAlloc();
    }

    long globalMemory() {
        return device.globalMemory();
    }

    // ---- memory ----

    @Override
    public cl_mem allocate(long floats) {
        long bytes = checkAllocation(floats, allocatedBytes, device.maxAlloc(), device.globalMemory(), device.name().trim());
        int[] rc = new int[1];
        cl_mem buf = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, rc);
        OpenClProgram.check(rc[0], "clCreateBuffer(" + bytes + " bytes)");
        OpenClProgram.check(clEnqueueFillBuffer(queue, buf, Pointer.to(new float[]{0f}), Float.BYTES, 0, bytes, 0, null,
                null), "clEnqueueFillBuffer");
        allocatedBytes += bytes;
        return buf;
    }

    /**
     * The byte size of a buffer of {@code floats}, or a BackendException when it is larger than the
     * device's largest single allocation or than its global memory left after what this device holds:
     * checked before clCreateBuffer, whose failure modes for oversized requests vary by driver.
     */
    static long checkAllocation(long floats, long allocated, long maxAlloc, long globalMemory, String deviceName) {
        long bytes = floats * Float.BYTES;
        if (bytes > maxAlloc)
            throw new BackendException((bytes >> 20) + " MiB exceeds " + deviceName + "'s largest single allocation of "
                    + (maxAlloc >> 20) + " MiB");
        if (allocated + bytes > globalMemory)
            throw new BackendException((bytes >> 20) + " MiB would exceed " + deviceName + "'s " + (globalMemory >> 20)
                    + " MiB of global memory (" + (allocated >> 20) + " MiB already allocated by this backend)");
        return bytes;
    }

    /** clReleaseMemObject: OpenCL deletes the buffer once the queued kernels that use it are done. */
    @Override
    public void free(cl_mem buffer) {
        long[] size = new long[1];
        OpenClProgram.check(clGetMemObjectInfo(buffer, CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null),
                "clGetMemObjectInfo");
        OpenClProgram.check(clReleaseMemObject(buffer), "clReleaseMemObject");
        allocatedBytes -= size[0];
    }

    /** Blocking: the caller may refill src as soon as this returns. */
    @Override
    public void upload(float[] src, cl_mem dst) {
        OpenClProgram.check(clEnqueueWriteBuffer(queue, dst, CL_TRUE, 0, (long) src.length * Float.BYTES,
                Pointer.to(src), 0, null, null), "clEnqueueWriteBuffer");
    }

    @Override
    public void download(cl_mem src, float[] dst) {
        OpenClProgram.check(clEnqueueReadBuffer(queue, src, CL_TRUE, 0, (long) dst.length * Float.BYTES,
                Pointer.to(dst), 0, null, null), "clEnqueueReadBuffer");
        JvmSignalHandlers.restore();
    }

    @Override
    public long scratchBytes() {
        return loss.scratchBytes() + sumOfSquares.scratchBytes() + gemm.scratchBytes();
    }

    // ---- ops: one typed launcher per kernel family ----

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, cl_mem a, cl_mem b, float beta,
                     cl_mem c) {
        if (GemmKernels.isNarrow(m, n)) gemm.gemmNarrow(transA, transB, m, n, k, alpha, a, b, beta, c);
        else gemm.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    @Override
    public void activationForward(Activation f, cl_mem z, cl_mem bias, cl_mem out, int rows, int cols) {
        activation.activationForward(f, z, bias, out, rows, cols);
    }

    @Override
    public void activationBackward(Activation f, cl_mem z, cl_mem out, cl_mem delta, int rows, int cols) {
        activation.activationBackward(f, z, out, delta, rows, cols);
    }

    @Override
    public void dropoutForward(cl_mem input, cl_mem output, cl_mem mask, int rows, int cols, float dropProbability,
                               long seed, int layer, cl_mem step) {
        dropout.dropoutForward(input, output, mask, rows, cols, dropProbability, seed, layer, step);
    }

    @Override
    public void dropoutBackward(cl_mem delta, cl_mem mask, int rows, int cols) {
        dropout.dropoutBackward(delta, mask, rows, cols);
    }

    @Override
    public void columnSum(cl_mem m, int rows, int cols, float alpha, float beta, cl_mem out) {
        columnSum.columnSum(m, rows, cols, alpha, beta, out);
    }

    @Override
    public void lossGradient(Loss loss, cl_mem yHat, cl_mem y, cl_mem delta, cl_mem lossSum, int rows, int cols) {
        this.loss.lossGradient(loss, yHat, y, delta, lossSum, rows, cols);
    }

    @Override
    public void optimizerUpdate(UpdateRule rule, cl_mem param, cl_mem grad, cl_mem slot0, cl_mem slot1, cl_mem step,
                                cl_mem sumOfSquares, float maxNorm, long n) {
        optimizer.optimizerUpdate(rule, param, grad, slot0, slot1, step, sumOfSquares, maxNorm, (int) n);
    }

    @Override
    public void sumOfSquares(cl_mem m, long n, boolean accumulate, cl_mem out) {
        sumOfSquares.sumOfSquares(m, (int) n, accumulate, out);
    }

    @Override
    public void gatherRows(cl_mem src, int srcRows, cl_mem order, int offset, cl_mem dst, int rows, int cols) {
        gather.gatherRows(src, srcRows, order, offset, dst, rows, cols);
    }

    @Override
    public void synchronize() {
        OpenClProgram.check(clFinish(queue), "clFinish");
        JvmSignalHandlers.restore();
    }

    @Override
    public void close() {
        clFinish(queue);
        loss.close();
        sumOfSquares.close();
        gemm.close();
        program.close();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }
}
