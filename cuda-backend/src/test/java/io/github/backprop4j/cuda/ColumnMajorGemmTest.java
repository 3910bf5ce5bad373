package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The operand swapping that maps our row-major products onto column-major cuBLAS/cuBLASLt, checked
 * without a GPU: a plain Java implementation of the BLAS definitions (column-major, op N/T, leading
 * dimensions, the BIAS and BGRADA epilogues as cuBLASLt documents them) run on our row-major arrays
 * must give the row-major results.
 */
class ColumnMajorGemmTest {

    /** BLAS: D[i + j·ldd] = Σ_p op(A)[i,p]·op(B)[p,j] (+ bias[i]); BGRADA: grad[i] = Σ_p op(A)[i,p]. */
    private static double[] blas(ColumnMajorGemm g, float[] a, float[] b, float[] bias, double[] biasGradient) {
        double[] d = new double[g.ldd() * g.n()];
        for (int i = 0; i < g.m(); i++) {
            double grad = 0;
            for (int j = 0; j < g.n(); j++) {
                double acc = bias == null ? 0 : bias[i];
                for (int p = 0; p < g.k(); p++) acc += opA(g, a, i, p) * opB(g, b, p, j);
                d[i + j * g.ldd()] = acc;
            }
            for (int p = 0; p < g.k(); p++) grad += opA(g, a, i, p);
            if (biasGradient != null) biasGradient[i] = grad;
        }
        return d;
    }

    private static double opA(ColumnMajorGemm g, float[] a, int i, int p) {
        return g.opA() == Cublas.OP_N ? a[i + p * g.lda()] : a[p + i * g.lda()];
    }

    private static double opB(ColumnMajorGemm g, float[] b, int p, int j) {
        return g.opB() == Cublas.OP_N ? b[p + j * g.ldb()] : b[j + p * g.ldb()];
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-1, 1);
        return v;
    }

    @ParameterizedTest(name = "C {0}×{1}, k={2}, transA={3}, transB={4}")
    @CsvSource({"3,5,7,false,false", "3,5,7,true,false", "3,5,7,false,true", "3,5,7,true,true", "1,9,1,true,true",
            "8,1,4,false,true"})
    void rowMajorProductIsTheSwappedColumnMajorProduct(int rows, int cols, int k, boolean ta, boolean tb) {
        SplittableRandom r = new SplittableRandom(rows * 100 + cols * 10 + k);
        int aRows = ta ? k : rows, aCols = ta ? rows : k, bRows = tb ? cols : k, bCols = tb ? k : cols;
        float[] a = random(r, aRows * aCols), b = random(r, bRows * bCols);
        double[] expected = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                for (int p = 0; p < k; p++)
                    expected[i * cols + j] += (ta ? a[p * aCols + i] : a[i * aCols + p]) * (tb ? b[j * bCols + p] : b[p * bCols + j]);
        ColumnMajorGemm g = ColumnMajorGemm.rowMajorProduct(ta, tb, rows, cols, k, aCols, bCols);
        double[] d = blas(g, b, a, null, null); // BLAS's A is our B: the swap
        assertArrayEquals(expected, d, 1e-5);
    }

    @Test
    void denseForwardAddsOneBiasPerUnit() {
        int batch = 4, fanIn = 3, units = 5;
        SplittableRandom r = new SplittableRandom(1);
        float[] x = random(r, batch * fanIn), w = random(r, fanIn * units), bias = random(r, units);
        double[] z = new double[batch * units];
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < units; j++) {
                z[i * units + j] = bias[j];
                for (int p = 0; p < fanIn; p++) z[i * units + j] += x[i * fanIn + p] * w[p * units + j];
            }
        double[] d = blas(ColumnMajorGemm.denseForward(batch, fanIn, units), w, x, bias, null);
        assertArrayEquals(z, d, 1e-5);
    }

    @Test
    void denseGradientsSumDeltaOverTheBatchForTheBias() {
        int batch = 6, fanIn = 3, units = 4;
        SplittableRandom r = new SplittableRandom(2);
        float[] x = random(r, batch * fanIn), delta = random(r, batch * units);
        double[] dW = new double[fanIn * units], db = new double[units];
        for (int p = 0; p < fanIn; p++)
            for (int j = 0; j < units; j++)
                for (int i = 0; i < batch; i++) dW[p * units + j] += x[i * fanIn + p] * delta[i * units + j];
        for (int i = 0; i < batch; i++)
            for (int j = 0; j < units; j++) db[j] += delta[i * units + j];
        double[] grad = new double[units];
        double[] d = blas(ColumnMajorGemm.denseGradients(batch, fanIn, units), delta, x, null, grad);
        assertArrayEquals(dW, d, 1e-5);
        assertArrayEquals(db, grad, 1e-5);
    }
}
