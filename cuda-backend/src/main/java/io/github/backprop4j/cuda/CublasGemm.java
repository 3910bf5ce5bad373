package io.github.backprop4j.cuda;

import io.github.backprop4j.core.Precision;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Device.gemm through cuBLAS: the handle (on the device's stream, TF32 tensor-core math only for
 * {@link Precision#TF32}, a fixed workspace so that cuBLAS never allocates while a step is captured)
 * and the row-major product as a column-major one: C = op(A)·op(B) is Cᵀ = op(B)ᵀ·op(A)ᵀ, computed
 * by passing B first, never by copying.
 */
final class CublasGemm {

    private final CudaDriver driver;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars = arena.allocate(8, 8);   // alpha, beta (host pointer mode)
    private MemorySegment handle = MemorySegment.NULL;

    CublasGemm(CudaDriver driver, CudaDriver.Stream stream, Precision precision, long workspace, long workspaceBytes) {
        this.driver = driver;
        try {
            MemorySegment out = arena.allocate(ADDRESS);
            Cublas.check(driver.cublasCreate(out), "cublasCreate_v2");
            handle = out.get(ADDRESS, 0);
            Cublas.check(driver.cublasSetStream(handle, stream), "cublasSetStream_v2");
            int math = precision == Precision.TF32 ? Cublas.TF32_TENSOR_OP_MATH : Cublas.DEFAULT_MATH;
            Cublas.check(driver.cublasSetMathMode(handle, math), "cublasSetMathMode");
            Cublas.check(driver.cublasSetWorkspace(handle, workspace, workspaceBytes), "cublasSetWorkspace_v2");
        } catch (RuntimeException | Error e) {
            String failed = release();
            if (failed != null) e.addSuppressed(new io.github.backprop4j.core.BackendException("cuda: " + failed));
            throw e;
        }
    }

    /** Row-major C ← alpha·op(A)·op(B) + beta·C (Device.gemm's contract). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, CudaBuffer a, CudaBuffer b, float beta,
              CudaBuffer c) {
        ColumnMajorGemm g = ColumnMajorGemm.rowMajorProduct(transA, transB, m, n, k, transA ? m : k, transB ? k : n);
        scalars.set(JAVA_FLOAT, 0, alpha);
        scalars.set(JAVA_FLOAT, 4, beta);
        Cublas.check(driver.cublasSgemm(handle, g.opA(), g.opB(), g.m(), g.n(), g.k(), scalars.asSlice(0, 4),
                b.address(), g.lda(), a.address(), g.ldb(), scalars.asSlice(4, 4), c.address(), g.ldd()),
                "cublasSgemm_v2(" + m + "×" + n + "×" + k + ")");
    }

    /** Destroys the handle; the failure's description, or null. */
    String release() {
        String failed = null;
        if (!handle.equals(MemorySegment.NULL)) {
            int status = driver.cublasDestroy(handle);
            if (status != 0) failed = "cublasDestroy_v2: " + Cublas.statusName(status);
        }
        handle = MemorySegment.NULL;
        if (arena.scope().isAlive()) arena.close();
        return failed;
    }
}
