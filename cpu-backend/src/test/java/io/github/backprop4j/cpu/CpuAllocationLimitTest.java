package io.github.backprop4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Backends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** A matrix larger than the Java heap is refused with a BackendException, not an OutOfMemoryError. */
class CpuAllocationLimitTest {

    @Test
    void allocationLargerThanTheHeapIsRejected() {
        long floats = Runtime.getRuntime().maxMemory() / Float.BYTES + 1;
        int rows = 65536;
        long cols = (floats + rows - 1) / rows;
        Assumptions.assumeTrue(rows * cols <= Integer.MAX_VALUE - 8, "the heap can hold a 2^31-element matrix");
        try (Backend b = Backends.open("cpu")) {
            long before = b.memoryInUse();
            BackendException e = assertThrows(BackendException.class, () -> b.allocate(rows, (int) cols));
            assertTrue(e.getMessage().startsWith("cpu: allocate " + rows + "×" + cols + ": ") && e.getMessage()
                    .contains("Java heap"), e.getMessage());
            assertEquals(before, b.memoryInUse());
            b.allocate(2, 2).close();
        }
    }
}
