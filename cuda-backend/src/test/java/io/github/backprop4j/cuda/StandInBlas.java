package io.github.backprop4j.cuda;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The host stand-in's GEMM: the column-major BLAS definition, in double, with the cuBLASLt
 * epilogues the backend uses. Part of {@link HostStandInDriver}; it checks host logic, not cuBLAS.
 */
final class StandInBlas {

    private StandInBlas() {
    }

    /** CUBLASLT_EPILOGUE_DEFAULT: what a new matmul descriptor holds (the backend never sets it). */
    static final int EPILOGUE_DEFAULT = 1;

    enum Epilogue {
        NONE, BIAS, RELU_BIAS, BGRADA;

        /** The cuBLASLt epilogue code's stand-in, or null for one the stand-in does not model. */
        static Epilogue of(int code) {
            return switch (code) {
                case EPILOGUE_DEFAULT -> NONE;
                case Cublas.EPILOGUE_BIAS -> BIAS;
                case Cublas.EPILOGUE_RELU_BIAS -> RELU_BIAS;
                case Cublas.EPILOGUE_BGRADA -> BGRADA;
                default -> null;
            };
        }
    }

    /** D (m × n, leading dimension ldd) = op(A) (m × k) · op(B) (k × n), column-major. */
    record Gemm(int opA, int opB, int m, int n, int k, long a, int lda, long b, int ldb, long d, int ldd) {

        private static long extent(int rows, int cols, int ld) {
            return rows == 0 || cols == 0 ? 0 : (long) (cols - 1) * ld + rows;
        }

        long aFloats() {
            return opA == Cublas.OP_N ? extent(m, k, lda) : extent(k, m, lda);
        }

        long bFloats() {
            return opB == Cublas.OP_N ? extent(k, n, ldb) : extent(n, k, ldb);
        }

        long dFloats() {
            return extent(m, n, ldd);
        }

        boolean inBounds(HostStandInDriver driver, String call) {
            return driver.deviceFloats(a, aFloats(), call + " A") != null
                    && driver.deviceFloats(b, bFloats(), call + " B") != null
                    && driver.deviceFloats(d, dFloats(), call + " C/D") != null;
        }

        /**
         * D ← alpha·op(A)·op(B) + beta·D (D not read when beta is 0, as BLAS specifies), then the
         * epilogue: BIAS adds vector[i] to row i, RELU_BIAS then applies max(x, 0) passing NaN through
         * (what cuBLASLt does with NaN is not documented: see the README), BGRADA writes
         * vector[i] = Σ_p op(A)[i, p].
         */
        void run(HostStandInDriver driver, float alpha, float beta, Epilogue epilogue, long vector) {
            MemorySegment sa = driver.deviceFloats(a, aFloats(), "GEMM A (running)");
            MemorySegment sb = driver.deviceFloats(b, bFloats(), "GEMM B (running)");
            MemorySegment sd = driver.deviceFloats(d, dFloats(), "GEMM D (running)");
            boolean hasVector = epilogue != Epilogue.NONE;
            MemorySegment sv = hasVector ? driver.deviceFloats(vector, m, "epilogue vector (running)") : null;
            if (sa == null || sb == null || sd == null || (hasVector && sv == null)) return;
            // op(A) row by row and op(B) column by column, so that the inner product runs over contiguous arrays
            double[] rowsOfA = new double[m * k], colsOfB = new double[n * k];
            float[] fa = sa.toArray(JAVA_FLOAT), fb = sb.toArray(JAVA_FLOAT);
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) rowsOfA[i * k + p] = at(fa, opA, i, p, lda);
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) colsOfB[j * k + p] = at(fb, opB, p, j, ldb);
            float[] out = new float[m * n];
            for (int j = 0; j < n; j++)
                for (int i = 0; i < m; i++) {
                    double acc = 0;
                    for (int p = 0, a0 = i * k, b0 = j * k; p < k; p++) acc += rowsOfA[a0 + p] * colsOfB[b0 + p];
                    double v = alpha * acc;
                    if (beta != 0) v += beta * sd.getAtIndex(JAVA_FLOAT, i + (long) j * ldd);
                    if (epilogue == Epilogue.BIAS || epilogue == Epilogue.RELU_BIAS) v += sv.getAtIndex(JAVA_FLOAT, i);
                    if (epilogue == Epilogue.RELU_BIAS && v < 0) v = 0;
                    out[i + j * m] = (float) v;
                }
            for (int j = 0; j < n; j++) MemorySegment.copy(out, j * m, sd, JAVA_FLOAT, (long) j * ldd * Float.BYTES, m);
            if (epilogue == Epilogue.BGRADA)
                for (int i = 0; i < m; i++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) sum += rowsOfA[i * k + p];
                    sv.setAtIndex(JAVA_FLOAT, i, (float) sum);
                }
        }

        /** op(X)[row, col] of a column-major X with leading dimension ld. */
        private static double at(float[] x, int op, int row, int col, int ld) {
            return op == Cublas.OP_N ? x[row + col * ld] : x[col + row * ld];
        }
    }
}
