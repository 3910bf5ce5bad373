package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * GEMMs with a fused cuBLASLt epilogue (bias, ReLU + bias, bias gradient), one plan per problem:
 * the matmul descriptor, the three layouts and the algorithm cuBLASLt's heuristic chose, made once
 * and reused by every call with the same epilogue and shape. Where cuBLASLt offers no algorithm,
 * or the matmul itself refuses the algorithm it offered (CUBLAS_STATUS_NOT_SUPPORTED), the plan
 * remembers why and the caller does the work unfused, from then on (logged once per plan).
 */
final class LtPlans {

    private static final System.Logger LOG = System.getLogger("backprop4j.cuda");

    /** A cuBLASLt problem: an epilogue and a column-major GEMM shape. */
    private record Key(int epilogue, ColumnMajorGemm gemm) {
        @Override
        public String toString() {
            return Cublas.epilogueName(epilogue) + " " + gemm.m() + "×" + gemm.n() + "×" + gemm.k()
                    + (gemm.opA() == Cublas.OP_T ? " Aᵀ" : "") + (gemm.opB() == Cublas.OP_T ? " Bᵀ" : "");
        }
    }

    /** Descriptors and the heuristic's algorithm for one key, or the reason there is none. */
    private static final class Plan {
        MemorySegment desc = MemorySegment.NULL, aLayout = MemorySegment.NULL, bLayout = MemorySegment.NULL,
                dLayout = MemorySegment.NULL, preference = MemorySegment.NULL, heuristic = MemorySegment.NULL;
        String unsupported;
    }

    private final CudaDriver driver;
    private final CudaDriver.Stream stream;
    private final int computeType;
    private final long workspace;
    private final long workspaceBytes;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment scalars = arena.allocate(8, 8);     // alpha, beta (host pointer mode)
    private final MemorySegment attribute = arena.allocate(16, 8);  // scratch for attribute values
    private final MemorySegment handleOut = arena.allocate(ADDRESS);
    private final MemorySegment returned = arena.allocate(JAVA_INT);
    private final Map<Key, Plan> plans = new HashMap<>();
    private MemorySegment handle = MemorySegment.NULL;

    /** Creates the cuBLASLt handle; its GEMMs run on {@code stream} with the fixed {@code workspace}. */
    LtPlans(CudaDriver driver, CudaDriver.Stream stream, int computeType, long workspace, long workspaceBytes) {
        this.driver = driver;
        this.stream = stream;
        this.computeType = computeType;
        this.workspace = workspace;
        this.workspaceBytes = workspaceBytes;
        try {
            Cublas.check(driver.ltCreate(handleOut), "cublasLtCreate");
            handle = handleOut.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * D ← op(A)·op(B) with {@code epilogue}, adding the bias (BIAS epilogues) or writing the bias
     * gradient (BGRAD epilogues) through {@code vector}; all device addresses. False when cuBLASLt has
     * no algorithm for it here, or refused the one it offered: then the caller does the unfused work.
     */
    boolean matmul(int epilogue, ColumnMajorGemm g, long a, long b, long d, long vector) {
        Key key = new Key(epilogue, g);
        Plan plan = plans.get(key);
        if (plan == null) {
            plan = plan(key, vector);
            plans.put(key, plan);
        }
        if (plan.unsupported != null) return false;
        setPointer(plan.desc, Cublas.DESC_BIAS_POINTER, vector, "BIAS_POINTER");
        scalars.set(JAVA_FLOAT, 0, 1f);
        scalars.set(JAVA_FLOAT, 4, 0f);
        int status = driver.ltMatmul(handle, plan.desc, scalars.asSlice(0, 4), a, plan.aLayout, b, plan.bLayout,
                scalars.asSlice(4, 4), d, plan.dLayout, d, plan.dLayout, plan.heuristic, workspace, workspaceBytes,
                stream);
        if (status == Cublas.STATUS_NOT_SUPPORTED) {
            // the heuristic offered an algorithm the matmul then refused: unfused, now and from now on
            unsupported(key, plan, "cublasLtMatmul: " + Cublas.statusName(status));
            return false;
        }
        Cublas.check(status, "cublasLtMatmul(" + key + ")");
        return true;
    }

    /** A plan for the key; a failure part-way frees what was created. */
    private Plan plan(Key k, long vector) {
        Plan p = new Plan();
        try {
            Cublas.check(driver.ltMatmulDescCreate(handleOut, computeType, Cublas.CUDA_R_32F), "cublasLtMatmulDescCreate");
            p.desc = handleOut.get(ADDRESS, 0);
            ColumnMajorGemm g = k.gemm();
            setInt(p.desc, Cublas.DESC_TRANSA, g.opA(), "TRANSA");
            setInt(p.desc, Cublas.DESC_TRANSB, g.opB(), "TRANSB");
            setInt(p.desc, Cublas.DESC_EPILOGUE, k.epilogue(), "EPILOGUE");
            setPointer(p.desc, Cublas.DESC_BIAS_POINTER, vector, "BIAS_POINTER"); // the heuristic checks its alignment
            p.aLayout = layout(g.aRows(), g.aCols(), g.lda());
            p.bLayout = layout(g.bRows(), g.bCols(), g.ldb());
            p.dLayout = layout(g.m(), g.n(), g.ldd());
            Cublas.check(driver.ltPreferenceCreate(handleOut), "cublasLtMatmulPreferenceCreate");
            p.preference = handleOut.get(ADDRESS, 0);
            attribute.set(JAVA_LONG, 0, workspaceBytes);
            Cublas.check(driver.ltPreferenceSetAttribute(p.preference, Cublas.PREF_MAX_WORKSPACE_BYTES,
                    attribute.asSlice(0, 8), 8L), "cublasLtMatmulPreferenceSetAttribute");
            p.heuristic = arena.allocate(Cublas.HEURISTIC_RESULT_BYTES, 8);
            int status = driver.ltAlgoGetHeuristic(handle, p.desc, p.aLayout, p.bLayout, p.dLayout, p.dLayout,
                    p.preference, 1, p.heuristic, returned);
            if (status != 0) unsupported(k, p, "cublasLtMatmulAlgoGetHeuristic: " + Cublas.statusName(status));
            else if (returned.get(JAVA_INT, 0) == 0) unsupported(k, p, "no algorithm");
            else if (p.heuristic.get(JAVA_INT, Cublas.HEURISTIC_STATE_OFFSET) != 0)
                unsupported(k, p, "heuristic state " + Cublas.statusName(p.heuristic.get(JAVA_INT, Cublas.HEURISTIC_STATE_OFFSET)));
            else if (p.heuristic.get(JAVA_LONG, Cublas.HEURISTIC_WORKSPACE_OFFSET) > workspaceBytes)
                unsupported(k, p, "the algorithm needs more than the " + (workspaceBytes >> 20) + " MiB workspace");
            return p;
        } catch (RuntimeException | Error e) {
            String failed = destroy(p);
            if (failed != null) e.addSuppressed(new BackendException("cuda: " + failed));
            throw e;
        }
    }

    private static void unsupported(Key k, Plan p, String why) {
        p.unsupported = why;
        LOG.log(System.Logger.Level.INFO, "cuBLASLt epilogue " + k + " unavailable (" + why + "); unfused path used");
    }

    private void setInt(MemorySegment desc, int attr, int v, String what) {
        attribute.set(JAVA_INT, 0, v);
        Cublas.check(driver.ltMatmulDescSetAttribute(desc, attr, attribute.asSlice(0, 4), 4L),
                "cublasLtMatmulDescSetAttribute(" + what + ")");
    }

    private void setPointer(MemorySegment desc, int attr, long address, String what) {
        attribute.set(JAVA_LONG, 0, address);
        Cublas.check(driver.ltMatmulDescSetAttribute(desc, attr, attribute.asSlice(0, 8), 8L),
                "cublasLtMatmulDescSetAttribute(" + what + ")");
    }

    private MemorySegment layout(long rows, long cols, long ld) {
        Cublas.check(driver.ltMatrixLayoutCreate(handleOut, Cublas.CUDA_R_32F, rows, cols, ld),
                "cublasLtMatrixLayoutCreate(" + rows + "×" + cols + ", ld " + ld + ")");
        return handleOut.get(ADDRESS, 0);
    }

    /** Destroys a plan's cuBLASLt objects; the first failure's description, or null. */
    private String destroy(Plan p) {
        List<String> failed = new ArrayList<>();
        if (!p.desc.equals(MemorySegment.NULL)) note(failed, driver.ltMatmulDescDestroy(p.desc), "cublasLtMatmulDescDestroy");
        for (MemorySegment layout : new MemorySegment[]{p.aLayout, p.bLayout, p.dLayout})
            if (!layout.equals(MemorySegment.NULL)) note(failed, driver.ltMatrixLayoutDestroy(layout), "cublasLtMatrixLayoutDestroy");
        if (!p.preference.equals(MemorySegment.NULL))
            note(failed, driver.ltPreferenceDestroy(p.preference), "cublasLtMatmulPreferenceDestroy");
        return failed.isEmpty() ? null : failed.getFirst();
    }

    private static void note(List<String> failed, int status, String call) {
        if (status != 0) failed.add(call + ": " + Cublas.statusName(status));
    }

    /** At the backend's close: every plan and the handle; the first failure's description, or null. */
    String release() {
        String first = null;
        for (Plan p : plans.values()) {
            String failed = destroy(p);
            if (first == null) first = failed;
        }
        plans.clear();
        if (!handle.equals(MemorySegment.NULL)) {
            int status = driver.ltDestroy(handle);
            if (status != 0 && first == null) first = "cublasLtDestroy: " + Cublas.statusName(status);
            handle = MemorySegment.NULL;
        }
        arena.close();
        return first;
    }
}
