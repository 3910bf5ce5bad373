package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The real {@link CudaDriver}: the driver API through JCuda (which needs only libcuda.so.1), cuBLAS
 * and cuBLASLt through the FFM handles of {@link Cublas}, our kernels through {@link CudaKernels}.
 * One per backend, since the kernel modules belong to the context current when they were loaded.
 */
final class NativeCudaDriver implements CudaDriver {

    private static final CUdeviceptr NULL_DEVICE = new CUdeviceptr();

    private final CudaRuntime runtime;
    private final Cublas blas;
    private CudaKernels kernels;

    NativeCudaDriver(CudaRuntime runtime) {
        this.runtime = runtime;
        this.blas = runtime.cublas;
    }

    /** A device pointer at a raw address: JCuda reads a CUdeviceptr as its base plus its byte offset. */
    private static final class DevicePointer extends CUdeviceptr {
        DevicePointer() {
        }

        DevicePointer(long address) {
            super(NULL_DEVICE, address);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** A host pointer at a raw address. */
    private static final class HostPointer extends Pointer {
        HostPointer() {
        }

        HostPointer(long address) {
            super(address);
        }

        long address() {
            return getNativePointer() + getByteOffset();
        }
    }

    private static CUdeviceptr device(long address) {
        return new DevicePointer(address);
    }

    // ---- device, context ----

    @Override
    public int retainPrimaryContext(int ordinal, CUcontext context) {
        CUdevice d = new CUdevice();
        int rc = JCudaDriver.cuDeviceGet(d, ordinal);
        return rc != CUresult.CUDA_SUCCESS ? rc : JCudaDriver.cuDevicePrimaryCtxRetain(context, d);
    }

    @Override
    public int releasePrimaryContext(int ordinal) {
        CUdevice d = new CUdevice();
        int rc = JCudaDriver.cuDeviceGet(d, ordinal);
        return rc != CUresult.CUDA_SUCCESS ? rc : JCudaDriver.cuDevicePrimaryCtxRelease(d);
    }

    @Override
    public int setCurrentContext(CUcontext context) {
        return JCudaDriver.cuCtxSetCurrent(context);
    }

    @Override
    public int memGetInfo(long[] free, long[] total) {
        return JCudaDriver.cuMemGetInfo(free, total);
    }

    @Override
    public String describeDevice(int ordinal) {
        return runtime.describe(ordinal);
    }

    @Override
    public int multiprocessors(int ordinal) {
        return runtime.devices[ordinal].multiprocessors();
    }

    @Override
    public String runtimeVersion() {
        return String.format(Locale.ROOT, "CUDA driver %d.%d, cuBLAS %s (%s), kernels %s, JCuda %s",
                runtime.driverVersion / 1000, runtime.driverVersion % 1000 / 10, blas.version(), blas.cublasLibrary,
                CudaKernels.buildInfo(), jcuda.JCudaVersion.get());
    }

    // ---- memory ----

    @Override
    public int memAlloc(long[] address, long bytes) {
        DevicePointer p = new DevicePointer();
        int rc = JCudaDriver.cuMemAlloc(p, bytes);
        address[0] = rc == CUresult.CUDA_SUCCESS ? p.address() : 0;
        return rc;
    }

    @Override
    public int memFree(long address) {
        return JCudaDriver.cuMemFree(device(address));
    }

    @Override
    public int memsetD32Async(long address, int value, long count, Stream stream) {
        return JCudaDriver.cuMemsetD32Async(device(address), value, count, stream);
    }

    @Override
    public int memAllocHost(long[] address, long bytes) {
        HostPointer p = new HostPointer();
        int rc = JCudaDriver.cuMemAllocHost(p, bytes);
        address[0] = rc == CUresult.CUDA_SUCCESS ? p.address() : 0;
        return rc;
    }

    @Override
    public int memFreeHost(long address) {
        return JCudaDriver.cuMemFreeHost(new HostPointer(address));
    }

    @Override
    public int memcpyHtoDAsync(long device, long host, long bytes, Stream stream) {
        return JCudaDriver.cuMemcpyHtoDAsync(device(device), new HostPointer(host), bytes, stream);
    }

    @Override
    public int memcpyDtoHAsync(long host, long device, long bytes, Stream stream) {
        return JCudaDriver.cuMemcpyDtoHAsync(new HostPointer(host), device(device), bytes, stream);
    }

    // ---- streams, events ----

    @Override
    public int streamCreate(Stream stream, int flags) {
        return JCudaDriver.cuStreamCreate(stream, flags);
    }

    @Override
    public int streamDestroy(Stream stream) {
        return JCudaDriver.cuStreamDestroy(stream);
    }

    @Override
    public int streamSynchronize(Stream stream) {
        return JCudaDriver.cuStreamSynchronize(stream);
    }

    @Override
    public int eventCreate(CUevent event, int flags) {
        return JCudaDriver.cuEventCreate(event, flags);
    }

    @Override
    public int eventDestroy(CUevent event) {
        return JCudaDriver.cuEventDestroy(event);
    }

    @Override
    public int eventRecord(CUevent event, Stream stream) {
        return JCudaDriver.cuEventRecord(event, stream);
    }

    @Override
    public int eventSynchronize(CUevent event) {
        return JCudaDriver.cuEventSynchronize(event);
    }

    // ---- graphs ----

    @Override
    public int streamBeginCapture(Stream stream, int mode) {
        return JCudaDriver.cuStreamBeginCapture(stream, mode);
    }

    @Override
    public int streamEndCapture(Stream stream, CUgraph graph) {
        return JCudaDriver.cuStreamEndCapture(stream, graph);
    }

    @Override
    public int graphInstantiate(CUgraphExec exec, CUgraph graph) {
        return JCudaDriver.cuGraphInstantiate(exec, graph, 0L);
    }

    @Override
    public int graphLaunch(CUgraphExec exec, Stream stream) {
        return JCudaDriver.cuGraphLaunch(exec, stream);
    }

    @Override
    public int graphExecDestroy(CUgraphExec exec) {
        return JCudaDriver.cuGraphExecDestroy(exec);
    }

    @Override
    public int graphDestroy(CUgraph graph) {
        return JCudaDriver.cuGraphDestroy(graph);
    }

    // ---- kernels ----

    @Override
    public void loadKernels() {
        kernels = new CudaKernels();
    }

    @Override
    public void unloadKernels() {
        if (kernels != null) kernels.close();
        kernels = null;
    }

    @Override
    public int launch(String name, int blocks, int blockX, int blockY, Stream stream, Object... args) {
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case Long v -> Pointer.to(new long[]{v});
                case Integer v -> Pointer.to(new int[]{v});
                case Float v -> Pointer.to(new float[]{v});
                default -> throw new IllegalArgumentException("kernel " + name + ": argument " + i + " of type "
                        + (args[i] == null ? "null" : args[i].getClass().getName()));
            };
        }
        return JCudaDriver.cuLaunchKernel(kernels.get(name), blocks, 1, 1, blockX, blockY, 1, 0, stream,
                Pointer.to(params), null);
    }

    // ---- cuBLAS, cuBLASLt ----

    @FunctionalInterface
    private interface Call {
        int call() throws Throwable;
    }

    /** Runs a downcall; a Throwable from the linker itself (not a status) becomes a BackendException. */
    private static int status(Call c) {
        try {
            return c.call();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new BackendException("cuda: native call failed: " + t, t);
        }
    }

    private static MemorySegment at(long address) {
        return MemorySegment.ofAddress(address);
    }

    @Override
    public int cublasCreate(MemorySegment handleOut) {
        return status(() -> (int) blas.create.invokeExact(handleOut));
    }

    @Override
    public int cublasDestroy(MemorySegment handle) {
        return status(() -> (int) blas.destroy.invokeExact(handle));
    }

    @Override
    public int cublasSetStream(MemorySegment handle, Stream stream) {
        MemorySegment s = at(stream.address());
        return status(() -> (int) blas.setStream.invokeExact(handle, s));
    }

    @Override
    public int cublasSetMathMode(MemorySegment handle, int mode) {
        return status(() -> (int) blas.setMathMode.invokeExact(handle, mode));
    }

    @Override
    public int cublasSetWorkspace(MemorySegment handle, long workspace, long bytes) {
        MemorySegment ws = at(workspace);
        return status(() -> (int) blas.setWorkspace.invokeExact(handle, ws, bytes));
    }

    @Override
    public int cublasSgemm(MemorySegment handle, int opA, int opB, int m, int n, int k, MemorySegment alpha, long a,
                           int lda, long b, int ldb, MemorySegment beta, long c, int ldc) {
        MemorySegment pa = at(a), pb = at(b), pc = at(c);
        return status(() -> (int) blas.sgemm.invokeExact(handle, opA, opB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc,
                ldc));
    }

    @Override
    public int ltCreate(MemorySegment handleOut) {
        return status(() -> (int) blas.ltCreate.invokeExact(handleOut));
    }

    @Override
    public int ltDestroy(MemorySegment handle) {
        return status(() -> (int) blas.ltDestroy.invokeExact(handle));
    }

    @Override
    public int ltMatmulDescCreate(MemorySegment descOut, int computeType, int scaleType) {
        return status(() -> (int) blas.ltMatmulDescCreate.invokeExact(descOut, computeType, scaleType));
    }

    @Override
    public int ltMatmulDescDestroy(MemorySegment desc) {
        return status(() -> (int) blas.ltMatmulDescDestroy.invokeExact(desc));
    }

    @Override
    public int ltMatmulDescSetAttribute(MemorySegment desc, int attribute, MemorySegment value, long size) {
        return status(() -> (int) blas.ltMatmulDescSetAttribute.invokeExact(desc, attribute, value, size));
    }

    @Override
    public int ltMatrixLayoutCreate(MemorySegment layoutOut, int type, long rows, long cols, long ld) {
        return status(() -> (int) blas.ltMatrixLayoutCreate.invokeExact(layoutOut, type, rows, cols, ld));
    }

    @Override
    public int ltMatrixLayoutDestroy(MemorySegment layout) {
        return status(() -> (int) blas.ltMatrixLayoutDestroy.invokeExact(layout));
    }

    @Override
    public int ltPreferenceCreate(MemorySegment preferenceOut) {
        return status(() -> (int) blas.ltPreferenceCreate.invokeExact(preferenceOut));
    }

    @Override
    public int ltPreferenceDestroy(MemorySegment preference) {
        return status(() -> (int) blas.ltPreferenceDestroy.invokeExact(preference));
    }

    @Override
    public int ltPreferenceSetAttribute(MemorySegment preference, int attribute, MemorySegment value, long size) {
        return status(() -> (int) blas.ltPreferenceSetAttribute.invokeExact(preference, attribute, value, size));
    }

    @Override
    public int ltAlgoGetHeuristic(MemorySegment handle, MemorySegment desc, MemorySegment aLayout,
                                  MemorySegment bLayout, MemorySegment cLayout, MemorySegment dLayout,
                                  MemorySegment preference, int requested, MemorySegment results,
                                  MemorySegment returned) {
        return status(() -> (int) blas.ltAlgoGetHeuristic.invokeExact(handle, desc, aLayout, bLayout, cLayout, dLayout,
                preference, requested, results, returned));
    }

    @Override
    public int ltMatmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, long a, MemorySegment aLayout,
                        long b, MemorySegment bLayout, MemorySegment beta, long c, MemorySegment cLayout, long d,
                        MemorySegment dLayout, MemorySegment algo, long workspace, long workspaceBytes,
                        Stream stream) {
        MemorySegment pa = at(a), pb = at(b), pc = at(c), pd = at(d), ws = at(workspace), s = at(stream.address());
        return status(() -> (int) blas.ltMatmul.invokeExact(handle, desc, alpha, pa, aLayout, pb, bLayout, beta, pc,
                cLayout, pd, dLayout, algo, ws, workspaceBytes, s));
    }
}
