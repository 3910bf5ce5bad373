package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.conformance.BackendFixture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Allocations the device cannot hold are refused before clCreateBuffer, naming size, device and limit. */
class OpenClAllocationLimitTest {

    @Test
    void limitsAreCheckedBeforeTheDriverIsCalled() {
        long mib = 1L << 20;
        assertEquals(4L * 1000 * 1000, OpenClDevice.checkAllocation(1000 * 1000, 0, 64 * mib, 128 * mib, "dev"));
        BackendException single = assertThrows(BackendException.class,
                () -> OpenClDevice.checkAllocation(5000 * 5000, 0, 64 * mib, 1024 * mib, "dev"));
        assertTrue(single.getMessage().contains("95 MiB") && single.getMessage().contains("dev's largest "
                + "single allocation of 64 MiB"), single.getMessage());
        BackendException total = assertThrows(BackendException.class,
                () -> OpenClDevice.checkAllocation(4000 * 4000, 100 * mib, 64 * mib, 128 * mib, "dev"));
        assertTrue(total.getMessage().contains("128 MiB of global memory (100 MiB already allocated"),
                total.getMessage());
    }

    @Test
    void allocationLargerThanTheDeviceAllowsIsRejected() {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        OpenClDevice cl = (OpenClDevice) new OpenClBackendProvider().open(BackendOptions.defaults());
        try (Backend b = Backend.of("opencl", Precision.FP32, cl)) {
            long floats = Math.min(cl.maxAllocation(), cl.globalMemory()) / Float.BYTES + 1;
            int rows = 65536;
            long cols = (floats + rows - 1) / rows;
            Assumptions.assumeTrue(rows * cols <= Integer.MAX_VALUE - 8,
                    "this device can hold a 2^31-element matrix; nothing to reject");
            long before = b.memoryInUse();
            BackendException e = assertThrows(BackendException.class, () -> b.allocate(rows, (int) cols));
            assertTrue(e.getMessage().startsWith("opencl: allocate " + rows + "×" + cols), e.getMessage());
            assertEquals(before, b.memoryInUse());
            b.allocate(2, 2).close();   // and the backend goes on working
        }
    }
}
