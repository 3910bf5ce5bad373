package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Matrices dropped without close(): the backend still owns their storage, frees it at its next
 * allocation once the GC has found them unreachable, and at its own close in any case.
 */
public abstract class MemoryConformance extends ConformanceBase {

    /** Allocated in a method of its own, so that no local variable of the caller keeps them. */
    public static List<WeakReference<Matrix>> allocateAndDrop(Backend b, int count, int rows, int cols) {
        List<WeakReference<Matrix>> refs = new ArrayList<>();
        for (int i = 0; i < count; i++) refs.add(new WeakReference<>(b.allocate(rows, cols)));
        return refs;
    }

    /** Waits (up to 10 s, asking for collections) until the GC has cleared every reference. */
    public static void awaitCollected(List<WeakReference<Matrix>> refs) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (refs.stream().anyMatch(r -> r.get() != null)) {
            assertTrue(System.nanoTime() < deadline, "the GC did not collect the dropped matrices in 10 s");
            System.gc();
            Thread.sleep(10);
        }
    }

    @Test
    void closeFreesMatricesDroppedWithoutClose() throws InterruptedException {
        Backend b = open();
        Matrix kept = b.allocate(8, 8);
        awaitCollected(allocateAndDrop(b, 20, 16, 16));
        b.close();
        assertTrue(kept.isReleased());
        assertEquals(0, b.memoryInUse(), "memory still held after close: the dropped matrices were not freed");
    }

    @Test
    void droppedMatricesAreReclaimedAtTheNextAllocation() throws InterruptedException {
        long base = backend.memoryInUse();
        List<WeakReference<Matrix>> dropped = allocateAndDrop(backend, 20, 16, 16);
        assertEquals(base + 20L * 16 * 16 * Float.BYTES, backend.memoryInUse(), "dropped, not yet reclaimed: still held");
        awaitCollected(dropped);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (backend.memoryInUse() > base && System.nanoTime() < deadline) {
            backend.allocate(1, 1).close();   // the GC enqueues on its own thread, a little after clearing
            Thread.sleep(5);
        }
        assertEquals(base, backend.memoryInUse());
    }
}
