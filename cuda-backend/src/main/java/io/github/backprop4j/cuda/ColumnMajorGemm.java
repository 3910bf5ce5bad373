package io.github.backprop4j.cuda;

/**
 * One GEMM as cuBLAS sees it: column-major D (m × n) = op(A) (m × k) · op(B) (k × n), with leading
 * dimensions. A row-major matrix X (r × c) is, in memory, the column-major Xᵀ (c × r) with leading
 * dimension c, so every row-major product here is expressed as its transpose, operands swapped,
 * without a copy. The factories say which of our matrices is BLAS's A and which is its B.
 *
 * @param opA, opB  {@link Cublas#OP_N} or {@link Cublas#OP_T}
 */
record ColumnMajorGemm(int opA, int opB, int m, int n, int k, int lda, int ldb, int ldd) {

    /**
     * Row-major C (rows × cols) = op(X)·op(Y) as column-major Cᵀ = op(Y)ᵀ·op(X)ᵀ: BLAS's A is our Y,
     * BLAS's B is our X. {@code k} is the inner dimension; {@code xCols}, {@code yCols} are the row
     * lengths (leading dimensions) of X and Y as stored.
     */
    static ColumnMajorGemm rowMajorProduct(boolean transX, boolean transY, int cRows, int cCols, int k, int xCols,
                                           int yCols) {
        return new ColumnMajorGemm(transY ? Cublas.OP_T : Cublas.OP_N, transX ? Cublas.OP_T : Cublas.OP_N,
                cCols, cRows, k, yCols, xCols, cCols);
    }

    /**
     * A dense layer's forward, Z (batch × units) = X (batch × fanIn) · W (fanIn × units): column-major
     * Zᵀ (units × batch) = Wᵀ · Xᵀ, i.e. BLAS's A is W and its B is X, both untransposed. The bias
     * epilogue adds a vector of length m = units to every column of D: one bias per unit.
     */
    static ColumnMajorGemm denseForward(int batch, int fanIn, int units) {
        return new ColumnMajorGemm(Cublas.OP_N, Cublas.OP_N, units, batch, fanIn, units, fanIn, units);
    }

    /**
     * A dense layer's weight gradient, dW (fanIn × units) = Xᵀ (fanIn × batch) · δ (batch × units):
     * column-major dWᵀ (units × fanIn) = δᵀ · X, i.e. BLAS's A is δ (untransposed) and its B is X
     * (transposed). The BGRADA epilogue sums op(A) over k = batch: 1ᵀδ, the bias gradient.
     */
    static ColumnMajorGemm denseGradients(int batch, int fanIn, int units) {
        return new ColumnMajorGemm(Cublas.OP_N, Cublas.OP_T, units, fanIn, batch, units, fanIn, units);
    }

    /** Rows of A as stored (before op). */
    int aRows() {
        return opA == Cublas.OP_N ? m : k;
    }

    int aCols() {
        return opA == Cublas.OP_N ? k : m;
    }

    int bRows() {
        return opB == Cublas.OP_N ? k : n;
    }

    int bCols() {
        return opB == Cublas.OP_N ? n : k;
    }
}
