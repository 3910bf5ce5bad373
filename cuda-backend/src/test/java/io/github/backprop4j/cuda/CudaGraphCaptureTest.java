package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Matrix;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Recording and replaying steps as CUDA graphs, on the host stand-in (host logic only, no GPU). */
class CudaGraphCaptureTest {

    /** An Error from the step body, as a StackOverflowError or OutOfMemoryError would be. */
    private static final class SimulatedError extends Error {
        SimulatedError() {
            super("simulated error inside the step");
        }
    }

    /** c ← a·b, and the Error when asked. */
    private static final class Step implements Runnable {
        final Backend cuda;
        final Matrix a, b, c;
        Error toThrow;

        Step(Backend cuda) {
            this.cuda = cuda;
            a = cuda.allocate(2, 2);
            b = cuda.allocate(2, 2);
            c = cuda.allocate(2, 2);
            cuda.upload(new float[]{1, 2, 3, 4}, a);
            cuda.upload(new float[]{1, 0, 0, 1}, b);
        }

        @Override
        public void run() {
            cuda.gemm(false, false, 1f, a, b, 0f, c);
            if (toThrow != null) throw toThrow;
        }

        float[] result() {
            float[] out = new float[4];
            cuda.download(c, out);
            return out;
        }
    }

    @Test
    void anErrorThrownDuringCaptureEndsTheCaptureAndIsRethrown() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open()) {
            Step step = new Step(cuda);
            cuda.replay(step, step);                       // first call: eager, collecting
            step.toThrow = new SimulatedError();
            Error e = assertThrows(SimulatedError.class, () -> cuda.replay(step, step)); // second call: captured
            assertSame(step.toThrow, e);
            step.toThrow = null;
            cuda.synchronize();                            // refused on a stream left capturing
            assertArrayEquals(new float[]{1, 2, 3, 4}, step.result());
            assertEquals(0, driver.calls("cuGraphLaunch"));
            cuda.replay(step, step);                       // captured now, and launched
            cuda.replay(step, step);
            assertEquals(2, driver.calls("cuGraphLaunch"));
            assertArrayEquals(new float[]{1, 2, 3, 4}, step.result());
        }
        assertEquals(List.of(), driver.violations());
        assertEquals(List.of(), driver.leaks());
    }

    @Test
    void anUploadInsideACapturedBodyIsRefusedBeforeAnyDeviceCallAndPoisonsNothing() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open()) {
            Step step = new Step(cuda);
            Matrix target = cuda.allocate(1, 4);
            boolean[] sneak = {false};
            Runnable body = () -> {
                step.run();
                if (sneak[0]) cuda.upload(new float[4], target);
            };
            cuda.replay(step, body);                       // collected
            sneak[0] = true;
            int copies = driver.calls("cuMemcpyHtoDAsync"), pinned = driver.calls("cuMemAllocHost");
            BackendException e = assertThrows(BackendException.class, () -> cuda.replay(step, body)); // captured
            assertTrue(e.getMessage().startsWith("cuda: upload inside a replay body"), e.getMessage());
            assertEquals(copies, driver.calls("cuMemcpyHtoDAsync"), "no copy enqueued");
            assertEquals(pinned, driver.calls("cuMemAllocHost"), "no staging allocated");
            sneak[0] = false;
            for (int i = 0; i < 3; i++) cuda.replay(step, body);
            assertTrue(driver.calls("cuGraphLaunch") > 0, "the refusal must not mark the step unrecordable");
            assertArrayEquals(new float[]{1, 2, 3, 4}, step.result());
        }
        assertEquals(List.of(), driver.violations());
        assertEquals(List.of(), driver.leaks());
    }
}
