package io.github.backprop4j.cuda;

import jcuda.driver.CUcontext;
import jcuda.driver.CUevent;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstream;

import java.lang.foreign.MemorySegment;

/**
 * Every CUDA driver, cuBLAS and cuBLASLt call the backend makes, and nothing more: the seam between
 * the backend's host logic and the native libraries. {@link NativeCudaDriver} is the real one (JCuda
 * for the driver API, FFM for cuBLAS); the cuda-backend tests put a host-memory stand-in behind it,
 * which checks host-side logic (ordering, chunking, error paths, leaks) and nothing about a GPU.
 *
 * <p>Conventions: driver calls return a {@code CUresult}, cuBLAS calls a {@code cublasStatus_t}, never
 * throwing for a failed call. Memory is named by raw 64-bit addresses, device and pinned host alike;
 * driver objects by JCuda's handle classes, used here as opaque tokens that a create call fills in;
 * cuBLAS objects by their addresses as FFM segments, written to the {@code out} segment of a create call.
 */
interface CudaDriver {

    /** A stream whose raw handle the native driver can hand to cuBLAS; a token like the others to a stand-in. */
    final class Stream extends CUstream {
        long address() {
            return getNativePointer();
        }
    }

    // ---- device, context ----

    /** Retains device {@code ordinal}'s primary context into {@code context}. */
    int retainPrimaryContext(int ordinal, CUcontext context);

    int releasePrimaryContext(int ordinal);

    /** Makes {@code context} the calling thread's current context. */
    int setCurrentContext(CUcontext context);

    int memGetInfo(long[] free, long[] total);

    /** "NVIDIA H100 80GB HBM3 (79.1 GiB, compute 9.0, …)" for {@code Backend.device()}. */
    String describeDevice(int ordinal);

    int multiprocessors(int ordinal);

    /** Driver, cuBLAS, kernel build and binding versions for {@code Backend.runtimeVersion()}. */
    String runtimeVersion();

    // ---- memory ----

    int memAlloc(long[] address, long bytes);

    int memFree(long address);

    int memsetD32Async(long address, int value, long count, Stream stream);

    /** Page-locked host memory, the only kind an asynchronous copy may read or write. */
    int memAllocHost(long[] address, long bytes);

    int memFreeHost(long address);

    int memcpyHtoDAsync(long device, long host, long bytes, Stream stream);

    int memcpyDtoHAsync(long host, long device, long bytes, Stream stream);

    // ---- streams, events ----

    int streamCreate(Stream stream, int flags);

    int streamDestroy(Stream stream);

    int streamSynchronize(Stream stream);

    int eventCreate(CUevent event, int flags);

    int eventDestroy(CUevent event);

    int eventRecord(CUevent event, Stream stream);

    int eventSynchronize(CUevent event);

    // ---- graphs ----

    int streamBeginCapture(Stream stream, int mode);

    int streamEndCapture(Stream stream, CUgraph graph);

    int graphInstantiate(CUgraphExec exec, CUgraph graph);

    int graphLaunch(CUgraphExec exec, Stream stream);

    int graphExecDestroy(CUgraphExec exec);

    int graphDestroy(CUgraph graph);

    // ---- our kernels (kernels/src/main/cuda) ----

    /** Loads the kernel modules into the current context; throws a BackendException naming the module that failed. */
    void loadKernels();

    void unloadKernels();

    /**
     * Launches kernel {@code name} on a {@code blocks}×1×1 grid of {@code blockX}×{@code blockY}×1
     * threads. Arguments are {@link Long} (device pointers and 64-bit integers), {@link Integer} or
     * {@link Float}, in the kernel's parameter order.
     */
    int launch(String name, int blocks, int blockX, int blockY, Stream stream, Object... args);

    // ---- cuBLAS ----

    int cublasCreate(MemorySegment handleOut);

    int cublasDestroy(MemorySegment handle);

    int cublasSetStream(MemorySegment handle, Stream stream);

    int cublasSetMathMode(MemorySegment handle, int mode);

    int cublasSetWorkspace(MemorySegment handle, long workspace, long bytes);

    /** Column-major C ← alpha·op(A)·op(B) + beta·C; alpha and beta are host floats. */
    int cublasSgemm(MemorySegment handle, int opA, int opB, int m, int n, int k, MemorySegment alpha, long a, int lda,
                    long b, int ldb, MemorySegment beta, long c, int ldc);

    // ---- cuBLASLt ----

    int ltCreate(MemorySegment handleOut);

    int ltDestroy(MemorySegment handle);

    int ltMatmulDescCreate(MemorySegment descOut, int computeType, int scaleType);

    int ltMatmulDescDestroy(MemorySegment desc);

    int ltMatmulDescSetAttribute(MemorySegment desc, int attribute, MemorySegment value, long size);

    int ltMatrixLayoutCreate(MemorySegment layoutOut, int type, long rows, long cols, long ld);

    int ltMatrixLayoutDestroy(MemorySegment layout);

    int ltPreferenceCreate(MemorySegment preferenceOut);

    int ltPreferenceDestroy(MemorySegment preference);

    int ltPreferenceSetAttribute(MemorySegment preference, int attribute, MemorySegment value, long size);

    /** Writes up to {@code requested} heuristic results and their count ({@code returned}, an int). */
    int ltAlgoGetHeuristic(MemorySegment handle, MemorySegment desc, MemorySegment aLayout, MemorySegment bLayout,
                           MemorySegment cLayout, MemorySegment dLayout, MemorySegment preference, int requested,
                           MemorySegment results, MemorySegment returned);

    /** D ← alpha·op(A)·op(B) + beta·C with the desc's epilogue, algorithm {@code algo} (a heuristic result). */
    int ltMatmul(MemorySegment handle, MemorySegment desc, MemorySegment alpha, long a, MemorySegment aLayout, long b,
                 MemorySegment bLayout, MemorySegment beta, long c, MemorySegment cLayout, long d,
                 MemorySegment dLayout, MemorySegment algo, long workspace, long workspaceBytes, Stream stream);
}
