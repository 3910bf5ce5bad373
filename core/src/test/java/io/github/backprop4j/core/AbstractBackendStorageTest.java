package io.github.backprop4j.core;

import static io.github.backprop4j.core.conformance.MemoryConformance.allocateAndDrop;
import static io.github.backprop4j.core.conformance.MemoryConformance.awaitCollected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * AbstractBackend owns every matrix's storage until it is freed, whether or not the Matrix is still
 * reachable; freeing happens on the thread using the backend. Checked with a backend that only
 * counts allocations and frees.
 */
class AbstractBackendStorageTest {

    /** Allocates and frees nothing but counters; every op beyond allocate is unsupported. */
    static final class CountingBackend extends AbstractBackend {
        final long capacityBytes;
        long heldBytes;
        int allocated, freed;
        final Set<Thread> freeingThreads = ConcurrentHashMap.newKeySet();

        CountingBackend(long capacityBytes) {
            super("counting", Precision.FP32);
            this.capacityBytes = capacityBytes;
        }

        @Override
        protected Matrix doAllocate(int rows, int cols) {
            long bytes = (long) rows * cols * Float.BYTES;
            if (heldBytes + bytes > capacityBytes && !reclaimUnreachableAfterGc())
                throw new BackendException("counting: out of memory");
            if (heldBytes + bytes > capacityBytes) throw new BackendException("counting: still out of memory");
            heldBytes += bytes;
            allocated++;
            return new Matrix(this, rows, cols, () -> {
                heldBytes -= bytes;
                freed++;
                freeingThreads.add(Thread.currentThread());
            }) {
            };
        }

        @Override
        public String device() {
            return "counters";
        }

        // @formatter:off
        @Override protected void doUpload(float[] src, Matrix dst) { throw new UnsupportedOperationException(); }
        @Override protected void doDownload(Matrix src, float[] dst) { throw new UnsupportedOperationException(); }
        @Override protected void doGemm(boolean ta, boolean tb, float alpha, Matrix a, Matrix b, float beta, Matrix c) { throw new UnsupportedOperationException(); }
        @Override protected void doActivate(Activation f, Matrix z, Matrix bias, Matrix out) { throw new UnsupportedOperationException(); }
        @Override protected void doActivationBackward(Activation f, Matrix z, Matrix out, Matrix delta) { throw new UnsupportedOperationException(); }
        @Override protected void doColumnSum(Matrix m, float alpha, float beta, Matrix out) { throw new UnsupportedOperationException(); }
        @Override protected void doLossGradient(Loss loss, Matrix yHat, Matrix y, Matrix delta, Matrix lossSum) { throw new UnsupportedOperationException(); }
        @Override protected void doUpdate(Optimizer.State state, Matrix param, Matrix grad) { throw new UnsupportedOperationException(); }
        @Override protected void doGatherRows(Matrix src, Matrix order, int offset, Matrix dst) { throw new UnsupportedOperationException(); }
        @Override protected void doSynchronize() { }
        @Override protected void doClose() { }
        // @formatter:on
    }

    @Test
    void closeFreesEveryAllocationReachableOrNot() throws InterruptedException {
        CountingBackend b = new CountingBackend(1L << 30);
        Matrix kept = b.allocate(2, 2);
        Matrix closedEarly = b.allocate(3, 3);
        closedEarly.close();
        closedEarly.close();
        assertEquals(1, b.freed, "close frees once");
        awaitCollected(allocateAndDrop(b, 10, 4, 4));   // no allocation after this: close must find them itself
        b.close();
        assertEquals(12, b.allocated);
        assertEquals(12, b.freed, "every storage freed by the backend's close, dropped ones included");
        assertTrue(kept.isReleased(), "a reachable matrix is marked released by the backend's close");
        kept.close();   // no-op after the backend's close
        assertEquals(12, b.freed);
        assertEquals(0, b.memoryInUse());
    }

    @Test
    void droppedMatricesAreFreedAtTheNextAllocationOnTheCallingThread() throws InterruptedException {
        CountingBackend b = new CountingBackend(1L << 30);
        List<WeakReference<Matrix>> dropped = allocateAndDrop(b, 10, 4, 4);
        assertEquals(10 * 64, b.memoryInUse(), "dropped but not reclaimed yet: still held");
        awaitCollected(dropped);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (b.freed < 10 && System.nanoTime() < deadline) {   // the GC enqueues on its own thread, a little later
            b.allocate(1, 1).close();
            Thread.sleep(5);
        }
        assertTrue(b.freed >= 10, b.freed + " of 10 dropped matrices freed");
        assertEquals(Set.of(Thread.currentThread()), b.freeingThreads, "freed only on the thread using the backend");
        assertEquals(0, b.memoryInUse());
        b.close();
    }

    @Test
    void aBackendShortOfMemoryReclaimsDroppedMatricesBeforeGivingUp() {
        CountingBackend b = new CountingBackend(3 * 64);   // three 4×4 matrices
        for (int i = 0; i < 200; i++) b.allocate(4, 4);    // each dropped at once; no explicit GC here
        assertEquals(200, b.allocated);
        assertTrue(b.memoryInUse() <= 3 * 64);
        b.close();
        assertEquals(b.allocated, b.freed);
    }
}
