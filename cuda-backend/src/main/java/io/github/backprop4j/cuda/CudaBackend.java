package io.github.backprop4j.cuda;

import io.github.backprop4j.core.AbstractBackend;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Precision;
import jcuda.driver.CUcontext;
import jcuda.driver.CUresult;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The SPI on one NVIDIA GPU. Everything is enqueued on one non-blocking stream: our kernels, GEMMs
 * through cuBLAS (plain) or cuBLASLt (with a fused epilogue), all through the {@link CudaDriver}
 * interface ({@link NativeCudaDriver}: JCuda and FFM). Row-major matrices are column-major
 * transposes, so C = A·B is computed as Cᵀ = Bᵀ·Aᵀ by swapping the operands, never by copying.
 *
 * <p>Beyond the plain SPI: {@link #denseForward} adds the bias inside the GEMM (cuBLASLt BIAS
 * epilogue; RELU_BIAS on request), {@link #denseGradients} computes db inside the weight-gradient GEMM
 * (BGRADA), both through {@link LtPlans}, and {@link #replay} captures the trainer's whole step as a
 * CUDA graph once and then launches it with one call per step ({@link CudaGraphs}). Transfers go
 * through {@link PinnedStaging}. See {@link Fusion} for switching the fused paths off.
 */
final class CudaBackend extends AbstractBackend {

    private static final int THREADS = 256;
    private static final long WORKSPACE_BYTES = 32L << 20;
    private static final int CU_STREAM_NON_BLOCKING = 1;

    private final CudaDriver driver;
    private final int ordinal;
    private final int multiprocessors;
    private final boolean useEpilogues;
    private final boolean useGraphs;
    private final boolean useReluEpilogue;

    /**
     * Which fused paths the backend takes: cuBLASLt epilogues, the ReLU inside the epilogue, CUDA
     * graphs. The ReLU epilogue is opt-in: cuBLASLt does not specify what its ReLU does with NaN, and a
     * max(x, 0) that turns NaN into 0 would let a diverged hidden layer train on silently; our ReLU
     * kernel passes NaN through, so by default only the bias is fused.
     */
    record Fusion(boolean epilogues, boolean reluEpilogue, boolean graphs) {
        static final Fusion DEFAULT = new Fusion(true, false, true);

        /** {@code backprop4j.cuda.epilogues=false}, {@code .reluEpilogue=true}, {@code .graphs=false}. */
        static Fusion fromSystemProperties() {
            return new Fusion(!"false".equals(System.getProperty("backprop4j.cuda.epilogues")),
                    "true".equals(System.getProperty("backprop4j.cuda.reluEpilogue")),
                    !"false".equals(System.getProperty("backprop4j.cuda.graphs")));
        }
    }

    private final CUcontext context = new CUcontext();
    private final CudaDriver.Stream stream = new CudaDriver.Stream();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars;      // alpha, beta for cuBLAS (host pointer mode)
    private final MemorySegment handleOut;
    private MemorySegment cublasHandle = MemorySegment.NULL;
    private LtPlans lt;
    private long workspace;
    private boolean kernelsLoaded;
    private boolean streamCreated;
    private boolean contextRetained;

    private final PinnedStaging staging;

    /** Adam's device step counters, by the device address of the state's first slot. */
    private final Map<Long, AdamCounter> adamCounters = new HashMap<>();
    private final CudaGraphs graphs;
    private long allocatedBytes;

    /** With the fused paths the system properties choose (see {@link Fusion}). */
    CudaBackend(CudaDriver driver, int ordinal, Precision precision) {
        this(driver, ordinal, precision, Fusion.fromSystemProperties(), PinnedStaging.DEFAULT_CHUNK_BYTES);
    }

    /** With pinned staging chunks of {@code stagingChunkBytes} (tests use small ones to cross many chunk boundaries). */
    CudaBackend(CudaDriver driver, int ordinal, Precision precision, Fusion fusion, long stagingChunkBytes) {
        super("cuda", precision);
        this.driver = driver;
        this.useEpilogues = fusion.epilogues();
        this.useReluEpilogue = fusion.reluEpilogue();
        this.useGraphs = fusion.graphs();
        this.staging = new PinnedStaging(driver, stream, stagingChunkBytes);
        this.graphs = new CudaGraphs(driver, stream, new CudaGraphs.Updates() {
            @Override
            public void beforeLaunch(List<Optimizer.State> states) {
                for (Optimizer.State s : states) {
                    AdamCounter t = adamCounterOf(s);
                    if (t != null && t.mirror != s.step()) writeCounter(t, s.step()); // restored since the capture
                }
            }

            @Override
            public void afterLaunch(List<Optimizer.State> states) {
                for (Optimizer.State s : states) {
                    advanceStep(s);
                    AdamCounter t = adamCounterOf(s);
                    if (t != null) t.mirror = s.step();
                }
            }
        });
        this.ordinal = ordinal;
        this.multiprocessors = driver.multiprocessors(ordinal);
        scalars = arena.allocate(8, 8);
        handleOut = arena.allocate(ADDRESS);
        try {
            check(driver.retainPrimaryContext(ordinal, context), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
            contextRetained = true;
            makeContextCurrent();
            check(driver.streamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            streamCreated = true;
            driver.loadKernels();
            kernelsLoaded = true;
            long[] address = new long[1];
            check(driver.memAlloc(address, WORKSPACE_BYTES), "cuMemAlloc(cuBLAS workspace, 32 MiB)");
            workspace = address[0];

            Cublas.check(driver.cublasCreate(handleOut), "cublasCreate_v2");
            cublasHandle = handleOut.get(ADDRESS, 0);
            Cublas.check(driver.cublasSetStream(cublasHandle, stream), "cublasSetStream_v2");
            int math = precision == Precision.TF32 ? Cublas.TF32_TENSOR_OP_MATH : Cublas.DEFAULT_MATH;
            Cublas.check(driver.cublasSetMathMode(cublasHandle, math), "cublasSetMathMode");
            // A fixed workspace: cuBLAS must not allocate while a step is being captured into a graph.
            Cublas.check(driver.cublasSetWorkspace(cublasHandle, workspace, WORKSPACE_BYTES), "cublasSetWorkspace_v2");
            lt = new LtPlans(driver, stream, precision == Precision.TF32 ? Cublas.COMPUTE_32F_FAST_TF32
                    : Cublas.COMPUTE_32F, workspace, WORKSPACE_BYTES);
        } catch (RuntimeException | Error e) {
            try {
                releaseNative();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    @Override
    public String device() {
        return driver.describeDevice(ordinal) + ", " + precision().name().toLowerCase(Locale.ROOT)
                + (useEpilogues ? ", cuBLASLt epilogues" + (useReluEpilogue ? " (ReLU too)" : "") : "")
                + (useGraphs ? ", CUDA graphs" : "");
    }

    @Override
    public String runtimeVersion() {
        return driver.runtimeVersion();
    }

    /** Matrices, the cuBLAS workspace and Adam's step counters: everything this backend cuMemAlloc'd. */
    @Override
    public long memoryInUse() {
        return allocatedBytes + WORKSPACE_BYTES + 8L * adamCounters.size();
    }

    /** Device memory in use as the driver sees it (cuMemGetInfo: total − free), whoever holds it. */
    long driverMemoryInUse() {
        makeContextCurrent();
        long[] free = new long[1], total = new long[1];
        check(driver.memGetInfo(free, total), "cuMemGetInfo");
        return total[0] - free[0];
    }

    // ---------------------------------------------------------------------------------------------
    // Memory
    // ---------------------------------------------------------------------------------------------

    @Override
    protected Matrix doAllocate(int rows, int cols) {
        makeContextCurrent();
        long bytes = (long) rows * cols * Float.BYTES;
        long[] free = new long[1], total = new long[1];
        check(driver.memGetInfo(free, total), "cuMemGetInfo");
        // short of memory: matrices dropped without close() may be what holds it
        if (bytes > free[0] && reclaimUnreachableAfterGc()) check(driver.memGetInfo(free, total), "cuMemGetInfo");
        if (bytes > free[0])
            throw new BackendException(String.format(Locale.ROOT,
                    "cuda: allocate %d×%d (%.1f MiB) exceeds the free device memory (%.1f MiB free of %.1f MiB)",
                    rows, cols, bytes / 1048576.0, free[0] / 1048576.0, total[0] / 1048576.0));
        long[] p = new long[1];
        int rc = driver.memAlloc(p, bytes);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY && reclaimUnreachableAfterGc()) rc = driver.memAlloc(p, bytes);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY)
            throw new BackendException("cuda: allocate " + rows + "×" + cols + ": out of device memory (cuMemAlloc)");
        check(rc, "cuMemAlloc(" + bytes + " bytes)");
        rc = driver.memsetD32Async(p[0], 0, (long) rows * cols, stream);
        if (rc != CUresult.CUDA_SUCCESS) {
            driver.memFree(p[0]);
            check(rc, "cuMemsetD32Async");
        }
        allocatedBytes += bytes;
        return new CudaMatrix(this, rows, cols, p[0]);
    }

    /** A matrix's storage (called by AbstractBackend on the owner's thread: close, backend close, or reclaim). */
    void free(long address, long bytes) {
        makeContextCurrent();
        graphs.discardAll();
        AdamCounter counter = adamCounters.remove(address);
        int sync = driver.streamSynchronize(stream);
        int freed = counter == null ? CUresult.CUDA_SUCCESS : driver.memFree(counter.pointer);
        int rc = driver.memFree(address);
        allocatedBytes -= bytes;
        check(sync, "cuStreamSynchronize (before cuMemFree)");
        check(freed, "cuMemFree(Adam step counter)");
        check(rc, "cuMemFree(" + bytes + " bytes)");
    }

    @Override
    protected void doUpload(float[] src, Matrix dst) {
        makeContextCurrent();
        staging.upload(src, cuda(dst).address);
    }

    @Override
    protected void doDownload(Matrix src, float[] dst) {
        makeContextCurrent();
        staging.download(cuda(src).address, dst);
    }

    /** Pinned host memory held for transfers: a few fixed-size chunks, whatever the sizes transferred. */
    long pinnedStagingBytes() {
        return staging.pinnedBytes();
    }

    // ---------------------------------------------------------------------------------------------
    // GEMM: cuBLAS for the plain op, cuBLASLt where an epilogue fuses work into it
    // ---------------------------------------------------------------------------------------------

    @Override
    protected void doGemm(boolean transA, boolean transB, float alpha, Matrix a, Matrix b, float beta, Matrix c) {
        makeContextCurrent();
        ColumnMajorGemm g = ColumnMajorGemm.rowMajorProduct(transA, transB, c.rows(), c.cols(),
                transA ? a.rows() : a.cols(), a.cols(), b.cols());
        MemorySegment alphaSeg = scalars.asSlice(0, 4), betaSeg = scalars.asSlice(4, 4);
        scalars.set(JAVA_FLOAT, 0, alpha);
        scalars.set(JAVA_FLOAT, 4, beta);
        // operands swapped: column-major Cᵀ = op(B)ᵀ·op(A)ᵀ
        Cublas.check(driver.cublasSgemm(cublasHandle, g.opA(), g.opB(), g.m(), g.n(), g.k(), alphaSeg, cuda(b).address,
                g.lda(), cuda(a).address, g.ldb(), betaSeg, cuda(c).address, g.ldd()), "cublasSgemm_v2(" + c.shape() + ")");
    }

    @Override
    protected void doDenseForward(Activation f, Matrix input, Matrix weights, Matrix bias, Matrix z, Matrix out) {
        makeContextCurrent();
        if (!useEpilogues) {
            super.doDenseForward(f, input, weights, bias, z, out);
            return;
        }
        ColumnMajorGemm g = ColumnMajorGemm.denseForward(input.rows(), input.cols(), weights.cols());
        boolean reluInEpilogue = f == Activation.RELU && useReluEpilogue;
        boolean outputOnly = reluInEpilogue || f == Activation.IDENTITY;
        int epilogue = reluInEpilogue ? Cublas.EPILOGUE_RELU_BIAS : Cublas.EPILOGUE_BIAS;
        Matrix target = outputOnly ? out : z;
        if (!lt.matmul(epilogue, g, cuda(weights).address, cuda(input).address, cuda(target).address, cuda(bias).address)) {
            super.doDenseForward(f, input, weights, bias, z, out);
            return;
        }
        if (outputOnly) return; // identity (and an epilogue ReLU) back-propagate from out alone; z stays unwritten
        if (f == Activation.SOFTMAX) softmax(z, null, out);
        else elementwiseActivation(f, z, null, out);
    }

    @Override
    protected void doDenseGradients(Matrix input, Matrix delta, Matrix dW, Matrix db) {
        makeContextCurrent();
        if (!useEpilogues) {
            super.doDenseGradients(input, delta, dW, db);
            return;
        }
        ColumnMajorGemm g = ColumnMajorGemm.denseGradients(delta.rows(), input.cols(), delta.cols());
        if (!lt.matmul(Cublas.EPILOGUE_BGRADA, g, cuda(delta).address, cuda(input).address, cuda(dW).address,
                cuda(db).address))
            super.doDenseGradients(input, delta, dW, db);
    }

    // ---------------------------------------------------------------------------------------------
    // Our kernels (kernels/src/main/cuda)
    // ---------------------------------------------------------------------------------------------

    @Override
    protected void doActivate(Activation f, Matrix z, Matrix bias, Matrix out) {
        makeContextCurrent();
        if (f == Activation.SOFTMAX) softmax(z, bias, out);
        else elementwiseActivation(f, z, bias, out);
    }

    private void elementwiseActivation(Activation f, Matrix z, Matrix bias, Matrix out) {
        launchElementwise("bias_activation_forward", z.size(), z, bias, out, z.rows(), z.cols(), f.ordinal());
    }

    private void softmax(Matrix z, Matrix bias, Matrix out) {
        launchRows("bias_softmax_forward", z.rows(), z, bias, out, z.rows(), z.cols());
    }

    @Override
    protected void doActivationBackward(Activation f, Matrix z, Matrix out, Matrix delta) {
        makeContextCurrent();
        launchElementwise("activation_backward", z.size(), z, out, delta, z.size(), f.ordinal());
    }

    @Override
    protected void doColumnSum(Matrix m, float alpha, float beta, Matrix out) {
        makeContextCurrent();
        launch("column_sum", ceilDiv(m.cols(), 32), 32, 32, m, m.rows(), m.cols(), alpha, beta, out);
    }

    @Override
    protected void doLossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) {
        makeContextCurrent();
        launchRows("loss_gradient", yHat.rows(), yHat, y, delta, yHat.rows(), yHat.cols(), loss.ordinal(),
                1f / yHat.rows(), lossSum);
    }

    @Override
    protected void doGatherRows(Matrix src, Matrix order, int offset, Matrix dst) {
        makeContextCurrent();
        launchElementwise("gather_rows", dst.size(), src, src.rows(), order, offset, dst.rows(), dst.cols(), dst);
    }

    @Override
    protected void doUpdate(Optimizer.State state, Matrix param, Matrix grad) {
        makeContextCurrent();
        Optimizer o = state.optimizer();
        long n = param.size();
        switch (o.kind()) {
            case SGD -> launchElementwise("sgd_update", n, param, grad, n, o.learningRate(), state.l2());
            case MOMENTUM, NESTEROV -> launchElementwise("momentum_update", n, param, grad, state.slot(0), n,
                    o.learningRate(), o.momentum(), state.l2(), o.kind() == Optimizer.Kind.NESTEROV ? 1 : 0);
            case ADAM, ADAMW -> {
                AdamCounter t = adamCounter(state);
                launch("adam_advance_step", 1, 1, 1, t.pointer);
                float decay = 1f - o.learningRate() * state.decoupledDecay();
                launchElementwise("adam_update", n, param, grad, state.slot(0), state.slot(1), n, o.learningRate(),
                        o.beta1(), o.beta2(), o.epsilon(), state.l2(), decay, t.pointer);
                t.mirror = state.step();
            }
        }
        graphs.updated(state);
    }

    /**
     * Adam's t on the device, one counter per parameter's state. {@code mirror} is what the device
     * holds after the queued work; when the host's count moved without it (a checkpoint restored with
     * setStep), the device value is rewritten before the next update.
     */
    private static final class AdamCounter {
        long pointer;
        long mirror = -1;
    }

    private AdamCounter adamCounterOf(Optimizer.State state) {
        return state.slotCount() == 0 ? null : adamCounters.get(cuda(state.slot(0)).address);
    }

    private AdamCounter adamCounter(Optimizer.State state) {
        AdamCounter t = adamCounterOf(state);
        long before = state.step() - 1; // AbstractBackend has already advanced the host count
        if (t != null && t.mirror == before) return t;
        if (graphs.capturing())
            throw new CudaGraphs.Unrecordable("Adam step counter needs a host write inside the captured step");
        if (t == null) {
            t = new AdamCounter();
            long[] address = new long[1];
            check(driver.memAlloc(address, 8), "cuMemAlloc(Adam step counter)");
            t.pointer = address[0];
            adamCounters.put(cuda(state.slot(0)).address, t);
        }
        writeCounter(t, before);
        return t;
    }

    private void writeCounter(AdamCounter t, long value) {
        check(driver.memsetD32Async(t.pointer, (int) value, 1, stream), "cuMemsetD32Async(Adam step)");
        check(driver.memsetD32Async(t.pointer + 4, (int) (value >>> 32), 1, stream), "cuMemsetD32Async(Adam step)");
        t.mirror = value;
    }

    @Override
    protected void doSynchronize() {
        makeContextCurrent();
        check(driver.streamSynchronize(stream), "cuStreamSynchronize");
    }

    // ---------------------------------------------------------------------------------------------
    // Recorded steps: CUDA graphs (CudaGraphs)
    // ---------------------------------------------------------------------------------------------

    @Override
    protected void doReplay(Object key, Runnable body) {
        makeContextCurrent();
        if (useGraphs) graphs.replay(key, body);
        else body.run();
    }

    @Override
    protected void doForget(Object key) {
        makeContextCurrent();
        graphs.forget(key);
    }

    // ---------------------------------------------------------------------------------------------
    // Launch helpers
    // ---------------------------------------------------------------------------------------------

    /** Grid-stride kernels: enough blocks to fill the GPU, never more than the work needs. */
    private void launchElementwise(String name, long items, Object... args) {
        long blocks = Math.max(1, Math.min(ceilDiv(items, THREADS), (long) multiprocessors * 16));
        launch(name, (int) blocks, THREADS, 1, args);
    }

    /** One warp per row, eight rows per block. */
    private void launchRows(String name, int rows, Object... args) {
        long blocks = Math.max(1, Math.min(ceilDiv(rows, THREADS / 32), (long) multiprocessors * 16));
        launch(name, (int) blocks, THREADS, 1, args);
    }

    /** Matrices are passed as their device addresses, a missing one (null) as the null pointer. */
    private void launch(String name, int blocks, int blockX, int blockY, Object... args) {
        Object[] params = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> 0L;
                case Matrix m -> cuda(m).address;
                default -> args[i];
            };
        }
        check(driver.launch(name, blocks, blockX, blockY, stream, params), "cuLaunchKernel(" + name + ")");
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private static CudaMatrix cuda(Matrix m) {
        return (CudaMatrix) m;
    }

    /**
     * Makes this backend's context current on the calling thread, on every entry: another library or
     * another backend may have made its own current on this thread since our last call, and a cached
     * "already current" would then run our work in its context. cuCtxSetCurrent is a thread-local store.
     */
    private void makeContextCurrent() {
        check(driver.setCurrentContext(context), "cuCtxSetCurrent");
    }

    static void check(int rc, String call) {
        if (rc != CUresult.CUDA_SUCCESS) throw new BackendException("cuda: " + call + " failed: " + errorName(rc));
    }

    static String errorName(int rc) {
        return CUresult.stringFor(rc);
    }


    // ---------------------------------------------------------------------------------------------
    // Shutdown
    // ---------------------------------------------------------------------------------------------

    @Override
    protected void doClose() {
        releaseNative();
    }

    /**
     * Frees everything, in dependency order, even when a call fails (a sticky error from an earlier
     * kernel makes every later one fail); the first failure is thrown once all is released.
     */
    private void releaseNative() {
        if (!contextRetained) {
            arena.close();
            return;
        }
        Cleanup cleanup = new Cleanup();
        cleanup.driver(driver.setCurrentContext(context), "cuCtxSetCurrent");
        if (streamCreated) cleanup.driver(driver.streamSynchronize(stream), "cuStreamSynchronize");
        cleanup.failure(graphs.release());
        for (AdamCounter t : adamCounters.values()) cleanup.driver(driver.memFree(t.pointer), "cuMemFree(Adam step counter)");
        adamCounters.clear();
        if (lt != null) cleanup.failure(lt.release());
        lt = null;
        if (!cublasHandle.equals(MemorySegment.NULL)) cleanup.blas(driver.cublasDestroy(cublasHandle), "cublasDestroy_v2");
        cublasHandle = MemorySegment.NULL;
        cleanup.failure(staging.release());
        if (kernelsLoaded) driver.unloadKernels();
        kernelsLoaded = false;
        if (workspace != 0) cleanup.driver(driver.memFree(workspace), "cuMemFree(cuBLAS workspace)");
        workspace = 0;
        if (streamCreated) cleanup.driver(driver.streamDestroy(stream), "cuStreamDestroy");
        streamCreated = false;
        cleanup.driver(driver.releasePrimaryContext(ordinal), "cuDevicePrimaryCtxRelease");
        contextRetained = false;
        arena.close();
        cleanup.throwFirst();
    }

    /** Remembers the first failed call of a shutdown that goes on regardless. */
    private static final class Cleanup {
        private String first;

        void driver(int rc, String call) {
            if (rc != CUresult.CUDA_SUCCESS && first == null) first = call + ": " + CUresult.stringFor(rc);
        }

        void blas(int status, String call) {
            if (status != 0 && first == null) first = call + ": " + Cublas.statusName(status);
        }

        void failure(String description) {
            if (description != null && first == null) first = description;
        }

        void throwFirst() {
            if (first != null) throw new BackendException("cuda: releasing the backend: " + first + " failed");
        }
    }
}
