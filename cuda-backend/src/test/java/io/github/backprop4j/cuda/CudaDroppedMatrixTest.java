package io.github.backprop4j.cuda;

import static io.github.backprop4j.core.conformance.MemoryConformance.allocateAndDrop;
import static io.github.backprop4j.core.conformance.MemoryConformance.awaitCollected;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Optimizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Device buffers of matrices dropped without close(), on the host stand-in (host logic only, no GPU). */
class CudaDroppedMatrixTest {

    @Test
    void closeFreesEveryDeviceBufferReachableOrNot() throws InterruptedException {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        Backend cuda = driver.open();
        Matrix kept = cuda.allocate(4, 4);
        awaitCollected(allocateAndDrop(cuda, 10, 32, 32));
        cuda.close();
        assertEquals(List.of(), driver.leaks());
        assertEquals(List.of(), driver.violations());
        kept.close();
    }

    @Test
    void droppingMatricesInALoopNeverRunsTheDeviceOutOfMemory() {
        long workspace = 32L << 20;
        HostStandInDriver driver = new HostStandInDriver(workspace + (16L << 20));   // room for three 4 MiB matrices
        try (Backend cuda = driver.open()) {
            for (int i = 0; i < 40; i++) {
                Matrix m = cuda.allocate(1024, 1024);        // dropped at the end of each iteration
                cuda.upload(new float[1024 * 1024], m);
            }
            // an optimizer state dropped with its slots and step count
            Optimizer.State s = Optimizer.adam(0.1f).newState(cuda, 2, 2, true);
            s = null;
        }
        assertEquals(List.of(), driver.leaks());
        assertEquals(List.of(), driver.violations());
    }
}
