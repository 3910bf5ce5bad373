package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.JvmSignalHandlers;
import io.github.backprop4j.core.spi.UpdateRule;
import jcuda.driver.CUcontext;
import jcuda.driver.CUresult;

import java.util.Locale;

/**
 * One NVIDIA GPU as a {@link Device}: its context, one non-blocking stream, device memory, and op
 * dispatch. Everything is enqueued on the stream, through the {@link CudaDriver} interface
 * ({@link NativeCudaDriver}: JCuda and FFM). The work is split by concern:
 * <ul>
 *   <li>transfers: {@link PinnedStaging} (a ring of fixed-size pinned chunks);</li>
 *   <li>plain GEMMs: {@link CublasGemm}; fused dense layers: {@link LtPlans} (cuBLASLt epilogues: the
 *       bias in the forward GEMM, RELU_BIAS on request, the bias gradient in the weight-gradient GEMM);</li>
 *   <li>our kernels: one typed launcher per kernel family ({@link ActivationKernels}, ...);</li>
 *   <li>recorded steps: {@link CudaGraphs}, which {@link #replay} uses and nothing outside this package sees.</li>
 * </ul>
 * {@link Fusion} switches the fused paths off.
 */
final class CudaDevice implements Device<CudaBuffer> {

    static final long WORKSPACE_BYTES = 32L << 20;
    private static final int CU_STREAM_NON_BLOCKING = 1;

    /**
     * Which fused paths the device takes: cuBLASLt epilogues, the ReLU inside the epilogue, CUDA graphs.
     * The ReLU epilogue is opt-in: cuBLASLt does not specify what its ReLU does with NaN, and a max(x, 0)
     * that turns NaN into 0 would let a diverged hidden layer train on silently; our ReLU kernel passes
     * NaN through, so by default only the bias is fused.
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

    private final CudaDriver driver;
    private final int ordinal;
    private final Precision precision;
    private final Fusion fusion;
    private final CUcontext context = new CUcontext();
    private final CudaDriver.Stream stream = new CudaDriver.Stream();
    private final PinnedStaging staging;
    private final CudaGraphs graphs;
    private final KernelLauncher launcher;
    private final ActivationKernels activation;
    private final ColumnSumKernels columnSum;
    private final OptimizerKernels optimizer;
    private final GatherKernels gather;
    private final DropoutKernels dropout;
    private LossKernels loss;
    private SumOfSquaresKernels sumOfSquares;
    private CublasGemm blas;
    private LtPlans lt;
    private CudaBuffer workspace;
    /** One float per block of a grid-stride launch: the loss's and the sum of squares' partial sums. */
    private CudaBuffer blockPartials;
    private boolean contextRetained, streamCreated, kernelsLoaded;

    /** With the fused paths the system properties choose (see {@link Fusion}). */
    CudaDevice(CudaDriver driver, int ordinal, Precision precision) {
        this(driver, ordinal, precision, Fusion.fromSystemProperties(), PinnedStaging.DEFAULT_CHUNK_BYTES);
    }

    /** With pinned staging chunks of {@code stagingChunkBytes} (tests use small ones to cross many chunk boundaries). */
    CudaDevice(CudaDriver driver, int ordinal, Precision precision, Fusion fusion, long stagingChunkBytes) {
        this.driver = driver;
        this.ordinal = ordinal;
        this.precision = precision;
        this.fusion = fusion;
        this.staging = new PinnedStaging(driver, stream, stagingChunkBytes);
        this.graphs = new CudaGraphs(driver, stream);
        this.launcher = new KernelLauncher(driver, stream, driver.multiprocessors(ordinal));
        this.activation = new ActivationKernels(launcher);
        this.columnSum = new ColumnSumKernels(launcher);
        this.optimizer = new OptimizerKernels(launcher);
        this.gather = new GatherKernels(launcher);
        this.dropout = new DropoutKernels(launcher);
        try {
            check(driver.retainPrimaryContext(ordinal, context), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
            contextRetained = true;
            makeContextCurrent();
            check(driver.streamCreate(stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            streamCreated = true;
            driver.loadKernels();
            kernelsLoaded = true;
            workspace = deviceMemory(WORKSPACE_BYTES, "cuBLAS workspace");
            blockPartials = deviceMemory((long) launcher.maxBlocks() * Float.BYTES, "per-block partial sums");
            loss = new LossKernels(launcher, blockPartials);
            sumOfSquares = new SumOfSquaresKernels(launcher, blockPartials);
            blas = new CublasGemm(driver, stream, precision, workspace.address(), WORKSPACE_BYTES);
            lt = new LtPlans(driver, stream, precision == Precision.TF32 ? Cublas.COMPUTE_32F_FAST_TF32
                    : Cublas.COMPUTE_32F, workspace.address(), WORKSPACE_BYTES);
            JvmSignalHandlers.restore();   // in case the driver, cuBLAS or the module loader took the JVM's
        } catch (RuntimeException | Error e) {
            try {
                releaseNative();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private CudaBuffer deviceMemory(long bytes, String what) {
        long[] address = new long[1];
        check(driver.memAlloc(address, bytes), "cuMemAlloc(" + what + ", " + bytes + " bytes)");
        return new CudaBuffer(address[0], bytes);
    }

    @Override
    public String description() {
        return driver.describeDevice(ordinal) + ", " + precision.name().toLowerCase(Locale.ROOT)
                + (fusion.epilogues() ? ", cuBLASLt epilogues" + (fusion.reluEpilogue() ? " (ReLU too)" : "") : "")
                + (fusion.graphs() ? ", CUDA graphs" : "");
    }

    @Override
    public String runtimeVersion() {
        return driver.runtimeVersion();
    }

    /** The cuBLAS workspace and the reductions' partial sums: device memory held beyond the buffers. */
    @Override
    public long scratchBytes() {
        return (workspace == null ? 0 : workspace.bytes()) + (blockPartials == null ? 0 : blockPartials.bytes());
    }

    /** Device memory in use as the driver sees it (cuMemGetInfo: total − free), whoever holds it. */
    long driverMemoryInUse() {
        makeContextCurrent();
        long[] free = new long[1], total = new long[1];
        check(driver.memGetInfo(free, total), "cuMemGetInfo");
        return total[0] - free[0];
    }

    /** Pinned host memory held for transfers: a few fixed-size chunks, whatever the sizes transferred. */
    long pinnedStagingBytes() {
        return staging.pinnedBytes();
    }

    // ---------------------------------------------------------------------------------------------
    // Memory and transfers
    // ---------------------------------------------------------------------------------------------

    /** cuMemGetInfo first, so that a request beyond the free memory names both sizes; zero-filled on the stream. */
    @Override
    public CudaBuffer allocate(long floats) {
        makeContextCurrent();
        long bytes = floats * Float.BYTES;
        long[] free = new long[1], total = new long[1];
        check(driver.memGetInfo(free, total), "cuMemGetInfo");
        if (bytes > free[0])
            throw new BackendException(String.format(Locale.ROOT,
                    "%.1f MiB exceeds the free device memory (%.1f MiB free of %.1f MiB)",
                    bytes / 1048576.0, free[0] / 1048576.0, total[0] / 1048576.0));
        long[] p = new long[1];
        int rc = driver.memAlloc(p, bytes);
        if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) throw new BackendException("out of device memory (cuMemAlloc)");
        check(rc, "cuMemAlloc(" + bytes + " bytes)");
        rc = driver.memsetD32Async(p[0], 0, floats, stream);
        if (rc != CUresult.CUDA_SUCCESS) {
            driver.memFree(p[0]);
            check(rc, "cuMemsetD32Async");
        }
        return new CudaBuffer(p[0], bytes);
    }

    /** Discards every recorded graph first (it may hold this pointer) and waits for the stream. */
    @Override
    public void free(CudaBuffer buffer) {
        makeContextCurrent();
        graphs.discardAll();
        int sync = driver.streamSynchronize(stream);
        int rc = driver.memFree(buffer.address());
        check(sync, "cuStreamSynchronize (before cuMemFree)");
        check(rc, "cuMemFree(" + buffer.bytes() + " bytes)");
    }

    @Override
    public void upload(float[] src, CudaBuffer dst) {
        makeContextCurrent();
        staging.upload(src, dst.address());
    }

    @Override
    public void download(CudaBuffer src, float[] dst) {
        makeContextCurrent();
        staging.download(src.address(), dst);
    }

    // ---------------------------------------------------------------------------------------------
    // Ops: cuBLAS, cuBLASLt and the typed launchers of our kernels
    // ---------------------------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CudaBuffer a, CudaBuffer b,
                     float beta, CudaBuffer c) {
        makeContextCurrent();
        blas.gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
    }

    /**
     * The bias in cuBLASLt's epilogue, then our activation kernel without a second bias pass. Identity
     * (and ReLU when its epilogue is on) are finished by the GEMM: their derivative reads out alone, so
     * z stays unwritten, as the contract allows.
     */
    @Override
    public void denseForward(Activation f, CudaBuffer input, CudaBuffer weights, CudaBuffer bias, CudaBuffer z,
                             CudaBuffer out, int rows, int in, int outs) {
        makeContextCurrent();
        boolean reluInEpilogue = f == Activation.RELU && fusion.reluEpilogue();
        boolean outputOnly = reluInEpilogue || f == Activation.IDENTITY;
        int epilogue = reluInEpilogue ? Cublas.EPILOGUE_RELU_BIAS : Cublas.EPILOGUE_BIAS;
        if (!fusion.epilogues() || !lt.matmul(epilogue, ColumnMajorGemm.denseForward(rows, in, outs), weights.address(),
                input.address(), (outputOnly ? out : z).address(), bias.address())) {
            Device.super.denseForward(f, input, weights, bias, z, out, rows, in, outs);
            return;
        }
        if (!outputOnly) activation.activationForward(f, z, null, out, rows, outs);
    }

    /** db inside the weight-gradient GEMM (cuBLASLt's BGRADA epilogue), where cuBLASLt offers it. */
    @Override
    public void denseGradients(CudaBuffer input, CudaBuffer delta, CudaBuffer dW, CudaBuffer db, int rows, int in,
                               int outs) {
        makeContextCurrent();
        if (!fusion.epilogues() || !lt.matmul(Cublas.EPILOGUE_BGRADA, ColumnMajorGemm.denseGradients(rows, in, outs),
                delta.address(), input.address(), dW.address(), db.address()))
            Device.super.denseGradients(input, delta, dW, db, rows, in, outs);
    }

    @Override
    public void activationForward(Activation f, CudaBuffer z, CudaBuffer bias, CudaBuffer out, int rows, int cols) {
        makeContextCurrent();
        activation.activationForward(f, z, bias, out, rows, cols);
    }

    @Override
    public void activationBackward(Activation f, CudaBuffer z, CudaBuffer out, CudaBuffer delta, int rows, int cols) {
        makeContextCurrent();
        activation.activationBackward(f, z, out, delta, rows, cols);
    }

    @Override
    public void dropoutForward(CudaBuffer input, CudaBuffer output, CudaBuffer mask, int rows, int cols,
                               float dropProbability, long seed, int layer, CudaBuffer step) {
        makeContextCurrent();
        dropout.dropoutForward(input, output, mask, rows, cols, dropProbability, seed, layer, step);
    }

    @Override
    public void dropoutBackward(CudaBuffer delta, CudaBuffer mask, int rows, int cols) {
        makeContextCurrent();
        dropout.dropoutBackward(delta, mask, rows, cols);
    }

    @Override
    public void columnSum(CudaBuffer m, int rows, int cols, float alpha, float beta, CudaBuffer out) {
        makeContextCurrent();
        columnSum.columnSum(m, rows, cols, alpha, beta, out);
    }

    @Override
    public void lossGradient(Loss loss, CudaBuffer yHat, CudaBuffer y, CudaBuffer delta, CudaBuffer lossSum, int rows,
                             int cols) {
        makeContextCurrent();
        this.loss.lossGradient(loss, yHat, y, delta, lossSum, rows, cols);
    }

    @Override
    public void optimizerUpdate(UpdateRule rule, CudaBuffer param, CudaBuffer grad, CudaBuffer slot0, CudaBuffer slot1,
                                CudaBuffer step, CudaBuffer sumOfSquares, float maxNorm, long n) {
        makeContextCurrent();
        optimizer.optimizerUpdate(rule, param, grad, slot0, slot1, step, sumOfSquares, maxNorm, n);
    }

    @Override
    public void sumOfSquares(CudaBuffer m, long n, boolean accumulate, CudaBuffer out) {
        makeContextCurrent();
        sumOfSquares.sumOfSquares(m, n, accumulate, out);
    }

    @Override
    public void gatherRows(CudaBuffer src, int srcRows, CudaBuffer order, int offset, CudaBuffer dst, int rows, int cols) {
        makeContextCurrent();
        gather.gatherRows(src, srcRows, order, offset, dst, rows, cols);
    }

    /** Records the body as a CUDA graph on its second call and launches it from then on (see {@link CudaGraphs}). */
    @Override
    public void replay(Object key, Runnable body) {
        makeContextCurrent();
        if (fusion.graphs()) graphs.replay(key, body);
        else body.run();
    }

    @Override
    public void synchronize() {
        makeContextCurrent();
        check(driver.streamSynchronize(stream), "cuStreamSynchronize");
        JvmSignalHandlers.restore();   // two system calls; never per launch, which would cost on small steps
    }

    /**
     * Makes this device's context current on the calling thread, on every entry: another library or
     * another device may have made its own current on this thread since our last call, and a cached
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
    public void close() {
        releaseNative();
    }

    /**
     * Frees everything, in dependency order, even when a call fails (a sticky error from an earlier
     * kernel makes every later one fail); the first failure is thrown once all is released.
     */
    private void releaseNative() {
        if (!contextRetained) return;
        Cleanup cleanup = new Cleanup();
        cleanup.driver(driver.setCurrentContext(context), "cuCtxSetCurrent");
        if (streamCreated) cleanup.driver(driver.streamSynchronize(stream), "cuStreamSynchronize");
        cleanup.failure(graphs.release());
        if (lt != null) cleanup.failure(lt.release());
        lt = null;
        if (blas != null) cleanup.failure(blas.release());
        blas = null;
        cleanup.failure(staging.release());
        if (kernelsLoaded) driver.unloadKernels();
        kernelsLoaded = false;
        for (CudaBuffer b : new CudaBuffer[]{workspace, blockPartials})
            if (b != null) cleanup.driver(driver.memFree(b.address()), "cuMemFree(" + b.bytes() + " bytes of scratch)");
        workspace = blockPartials = null;
        if (streamCreated) cleanup.driver(driver.streamDestroy(stream), "cuStreamDestroy");
        streamCreated = false;
        cleanup.driver(driver.releasePrimaryContext(ordinal), "cuDevicePrimaryCtxRelease");
        contextRetained = false;
        cleanup.throwFirst();
    }

    /** Remembers the first failed call of a shutdown that goes on regardless. */
    private static final class Cleanup {
        private String first;

        void driver(int rc, String call) {
            if (rc != CUresult.CUDA_SUCCESS && first == null) first = call + ": " + CUresult.stringFor(rc);
        }

        void failure(String description) {
            if (description != null && first == null) first = description;
        }

        void throwFirst() {
            if (first != null) throw new BackendException("cuda: releasing the device: " + first + " failed");
        }
    }
}
