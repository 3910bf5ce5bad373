package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Matrix;
import org.junit.jupiter.api.Test;

/**
 * CudaDevice's host code over the host stand-in (no GPU): the basics every other stand-in test
 * relies on. What passes here says nothing about the GPU.
 */
class CudaBackendOnStandInTest {

    @Test
    void roundTripGemmAndDenseForwardAndACleanClose() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open()) {
            Matrix a = cuda.allocate(2, 3), b = cuda.allocate(3, 2), c = cuda.allocate(2, 2);
            cuda.upload(new float[]{1, 2, 3, 4, 5, 6}, a);
            cuda.upload(new float[]{1, 0, 0, 1, 1, 1}, b);
            cuda.gemm(false, false, 1f, a, b, 0f, c);
            float[] product = new float[4];
            cuda.download(c, product);
            assertArrayEquals(new float[]{4, 5, 10, 11}, product);

            Matrix bias = cuda.allocate(1, 2), z = cuda.allocate(2, 2), out = cuda.allocate(2, 2);
            cuda.upload(new float[]{-10, 1}, bias);
            cuda.denseForward(Activation.RELU, a, b, bias, z, out);
            float[] activated = new float[4];
            cuda.download(out, activated);
            assertArrayEquals(new float[]{0, 6, 0, 12}, activated);
            assertTrue(cuda.memoryInUse() > 0);
        }
        assertEquals(java.util.List.of(), driver.violations());
        assertEquals(java.util.List.of(), driver.leaks());
    }
}
