package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Matrix;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** cuBLASLt plans and their fallbacks, on the host stand-in (host logic only, no GPU). */
class CudaLtPlansTest {

    /** x (2×3), w (3×2), bias (1×2) and their dense layer's expected outputs. */
    private static final float[] X = {1, 2, 3, -4, 5, -6}, W = {1, 0, 0, 1, 1, -1}, BIAS = {0.5f, -0.25f};

    private static float[] denseForward(Backend cuda, Activation f) {
        try (Matrix x = cuda.allocate(2, 3); Matrix w = cuda.allocate(3, 2); Matrix b = cuda.allocate(1, 2);
             Matrix z = cuda.allocate(2, 2); Matrix out = cuda.allocate(2, 2)) {
            cuda.upload(X, x);
            cuda.upload(W, w);
            cuda.upload(BIAS, b);
            cuda.denseForward(f, x, w, b, z, out);
            float[] result = new float[4];
            cuda.download(out, result);
            return result;
        }
    }

    private static float[] expected(Activation f) {
        float[] e = new float[4];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++) {
                double z = BIAS[c];
                for (int k = 0; k < 3; k++) z += X[r * 3 + k] * W[k * 2 + c];
                e[r * 2 + c] = (float) f.apply(z);
            }
        return e;
    }

    private static void assertClose(float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "element " + i);
    }

    @Test
    void aPlanFailingPartWayFreesWhatItCreated() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open()) {
            driver.failCall("cublasLtMatrixLayoutCreate", 2, HostStandInDriver.CUBLAS_STATUS_INVALID_VALUE);
            BackendException e = assertThrows(BackendException.class, () -> denseForward(cuda, Activation.TANH));
            assertTrue(e.getMessage().contains("cublasLtMatrixLayoutCreate"), e.getMessage());
            assertClose(expected(Activation.TANH), denseForward(cuda, Activation.TANH)); // planned afresh
        }
        assertEquals(List.of(), driver.leaks());
        assertEquals(List.of(), driver.violations());
    }

    /** Records what the backend logs, to count the fallback's line. */
    private static final class Lines extends Handler {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void publish(LogRecord r) {
            lines.add(r.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aMatmulRefusedAfterASuccessfulHeuristicFallsBackToTheUnfusedPathForGood() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        Logger log = Logger.getLogger("backprop4j.cuda");
        Lines lines = new Lines();
        log.addHandler(lines);
        try (Backend cuda = driver.open()) {
            driver.matmulStatus(Cublas.EPILOGUE_BIAS, HostStandInDriver.CUBLAS_STATUS_NOT_SUPPORTED);
            driver.matmulStatus(Cublas.EPILOGUE_BGRADA, HostStandInDriver.CUBLAS_STATUS_NOT_SUPPORTED);
            for (int call = 0; call < 3; call++) assertClose(expected(Activation.TANH), denseForward(cuda, Activation.TANH));
            assertEquals(1, driver.calls("cublasLtMatmul"), "the refused plan is not tried again");
            assertEquals(3, driver.calls("cublasSgemm_v2"), "every call took the unfused path");

            try (Matrix x = cuda.allocate(2, 3); Matrix delta = cuda.allocate(2, 2); Matrix dW = cuda.allocate(3, 2);
                 Matrix db = cuda.allocate(1, 2)) {
                cuda.upload(X, x);
                cuda.upload(new float[]{1, -2, 3, 4}, delta);
                cuda.denseGradients(x, delta, dW, db);
                float[] w = new float[6], b = new float[2];
                cuda.download(dW, w);
                cuda.download(db, b);
                assertClose(new float[]{1 - 12, -2 - 16, 2 + 15, -4 + 20, 3 - 18, -6 - 24}, w); // xᵀ·δ
                assertClose(new float[]{4, 2}, b);                                              // 1ᵀ·δ
            }
        } finally {
            log.removeHandler(lines);
        }
        assertEquals(2, lines.lines.stream().filter(l -> l.contains("CUBLAS_STATUS_NOT_SUPPORTED")
                && l.contains("unfused path used")).count(), "logged once per plan: " + lines.lines);
        assertEquals(List.of(), driver.leaks());
        assertEquals(List.of(), driver.violations());
    }
}
