package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * cuBLAS and cuBLASLt bound through {@code java.lang.foreign}. JCublas cannot be used: its natives
 * link {@code libcublas.so.12} with versioned symbols and fail to load on a CUDA 13 machine, so the
 * libraries are resolved here at run time, {@code .so.13} first, then {@code .so.12}, and every call
 * returns a status that {@link #check} turns into an exception naming the call.
 */
final class Cublas {

    static final int OP_N = 0;
    static final int OP_T = 1;
    static final int DEFAULT_MATH = 0;
    static final int STATUS_NOT_SUPPORTED = 15;
    static final int TF32_TENSOR_OP_MATH = 3;

    // cuBLASLt enums (cublasLt.h; stable across CUDA 12 and 13)
    static final int COMPUTE_32F = 68;
    static final int COMPUTE_32F_FAST_TF32 = 77;
    static final int CUDA_R_32F = 0;
    static final int DESC_TRANSA = 3;
    static final int DESC_TRANSB = 4;
    static final int DESC_EPILOGUE = 7;
    static final int DESC_BIAS_POINTER = 8;
    static final int PREF_MAX_WORKSPACE_BYTES = 1;
    static final int EPILOGUE_RELU_BIAS = 6;
    static final int EPILOGUE_BIAS = 4;
    static final int EPILOGUE_BGRADA = 256;
    /** cublasLtMatmulHeuristicResult_t: algo (64 bytes), workspaceSize, state, wavesCount, reserved[4]. */
    static final long HEURISTIC_RESULT_BYTES = 96;
    static final long HEURISTIC_WORKSPACE_OFFSET = 64;
    static final long HEURISTIC_STATE_OFFSET = 72;

    private static final String[] CUBLAS_NAMES = {"libcublas.so.13", "libcublas.so.12",
            "/usr/local/cuda/lib64/libcublas.so.13", "/usr/local/cuda/lib64/libcublas.so.12"};
    private static final String[] CUBLASLT_NAMES = {"libcublasLt.so.13", "libcublasLt.so.12",
            "/usr/local/cuda/lib64/libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.12"};

    final String cublasLibrary;
    final String cublasLtLibrary;
    final long ltVersion;

    final MethodHandle create;              // cublasCreate_v2(cublasHandle_t*)
    final MethodHandle destroy;             // cublasDestroy_v2(handle)
    final MethodHandle setStream;           // cublasSetStream_v2(handle, cudaStream_t)
    final MethodHandle setMathMode;         // cublasSetMathMode(handle, cublasMath_t)
    final MethodHandle setWorkspace;        // cublasSetWorkspace_v2(handle, void*, size_t)
    final MethodHandle sgemm;               // cublasSgemm_v2(handle, ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc)

    final MethodHandle ltCreate;            // cublasLtCreate(cublasLtHandle_t*)
    final MethodHandle ltDestroy;           // cublasLtDestroy(handle)
    final MethodHandle ltMatmulDescCreate;  // (desc*, computeType, scaleType)
    final MethodHandle ltMatmulDescDestroy;
    final MethodHandle ltMatmulDescSetAttribute; // (desc, attr, const void* buf, size_t)
    final MethodHandle ltMatrixLayoutCreate;     // (layout*, type, uint64 rows, uint64 cols, int64 ld)
    final MethodHandle ltMatrixLayoutDestroy;
    final MethodHandle ltPreferenceCreate;
    final MethodHandle ltPreferenceDestroy;
    final MethodHandle ltPreferenceSetAttribute; // (pref, attr, const void* buf, size_t)
    final MethodHandle ltAlgoGetHeuristic;       // (h, desc, A, B, C, D, pref, requested, results*, returned*)
    final MethodHandle ltMatmul;                 // (h, desc, *alpha, A, Adesc, B, Bdesc, *beta, C, Cdesc, D, Ddesc, algo*, ws, wsSize, stream)

    private Cublas(Library blas, Library lt) {
        cublasLibrary = blas.name;
        cublasLtLibrary = lt.name;
        create = blas.find("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = blas.find("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = blas.find("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setMathMode = blas.find("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        setWorkspace = blas.find("cublasSetWorkspace_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        sgemm = blas.find("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

        ltCreate = lt.find("cublasLtCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltDestroy = lt.find("cublasLtDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltMatmulDescCreate = lt.find("cublasLtMatmulDescCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        ltMatmulDescDestroy = lt.find("cublasLtMatmulDescDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltMatmulDescSetAttribute = lt.find("cublasLtMatmulDescSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        ltMatrixLayoutCreate = lt.find("cublasLtMatrixLayoutCreate",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        ltMatrixLayoutDestroy = lt.find("cublasLtMatrixLayoutDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltPreferenceCreate = lt.find("cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltPreferenceDestroy = lt.find("cublasLtMatmulPreferenceDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        ltPreferenceSetAttribute = lt.find("cublasLtMatmulPreferenceSetAttribute",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG));
        ltAlgoGetHeuristic = lt.find("cublasLtMatmulAlgoGetHeuristic", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        ltMatmul = lt.find("cublasLtMatmul", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                ADDRESS));
        MethodHandle version = lt.find("cublasLtGetVersion", FunctionDescriptor.of(JAVA_LONG));
        try {
            ltVersion = (long) version.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("cublasLtGetVersion failed", t);
        }
    }

    /** Loads both libraries, or explains which names were tried and why none loaded. */
    static Cublas load() {
        Library blas = Library.open("libcublas", CUBLAS_NAMES);
        Library lt = Library.open("libcublasLt", CUBLASLT_NAMES);
        return new Cublas(blas, lt);
    }

    /** "13.0.2" from cublasLtGetVersion's 130002. */
    String version() {
        return (ltVersion / 10000) + "." + (ltVersion / 100 % 100) + "." + (ltVersion % 100);
    }

    /** Throws for a non-zero cublasStatus_t, naming the call. */
    static void check(int status, String call) {
        if (status != 0) throw new BackendException("cuda: " + call + " failed: " + statusName(status) + " (" + status + ")");
    }

    static String epilogueName(int epilogue) {
        return switch (epilogue) {
            case EPILOGUE_BIAS -> "BIAS";
            case EPILOGUE_RELU_BIAS -> "RELU_BIAS";
            case EPILOGUE_BGRADA -> "BGRADA";
            default -> "epilogue " + epilogue;
        };
    }

    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case STATUS_NOT_SUPPORTED -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus " + status;
        };
    }

    /** One shared library opened from the first of several candidate names that loads. */
    private record Library(String name, SymbolLookup lookup) {

        static Library open(String what, String[] candidates) {
            List<String> failures = new ArrayList<>();
            for (String candidate : candidates) {
                try {
                    return new Library(candidate, SymbolLookup.libraryLookup(candidate, Arena.global()));
                } catch (IllegalArgumentException e) {
                    failures.add(candidate);
                }
            }
            throw new UnsatisfiedLinkError("no " + what + " (tried " + String.join(", ", failures) + ")");
        }

        MethodHandle find(String symbol, FunctionDescriptor descriptor) {
            Optional<MemorySegment> address = lookup.find(symbol);
            if (address.isEmpty())
                throw new UnsatisfiedLinkError(name + " has no symbol " + symbol);
            return Linker.nativeLinker().downcallHandle(address.get(), descriptor);
        }
    }
}
