package io.github.backprop4j.core;

import static io.github.backprop4j.core.conformance.MemoryConformance.allocateAndDrop;
import static io.github.backprop4j.core.conformance.MemoryConformance.awaitCollected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.UpdateRule;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The handle's own guarantees, against a device that records what reaches it: validation and the
 * identity shortcut happen before the device, every buffer is freed exactly once (closed, dropped or
 * left open at close), frees happen on the thread using the backend, a device short of memory gets the
 * buffers of dropped matrices back, and a closed device is never called.
 */
class BackendHandleTest {

    /** Host buffers, at most {@code capacityFloats} at once; remembers every call and which buffers are live. */
    static final class RecordingDevice implements Device<float[]> {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final Set<float[]> live = Collections.newSetFromMap(new IdentityHashMap<>());
        final List<Thread> freeingThreads = Collections.synchronizedList(new ArrayList<>());
        final long capacityFloats;
        long heldFloats;
        int allocations, frees;
        boolean closed;

        RecordingDevice() {
            this(Long.MAX_VALUE);
        }

        RecordingDevice(long capacityFloats) {
            this.capacityFloats = capacityFloats;
        }

        private void call(String op) {
            if (closed) throw new AssertionError(op + " reached a closed device");
            calls.add(op);
        }

        @Override
        public String description() {
            return "recording device";
        }

        @Override
        public float[] allocate(long floats) {
            call("allocate");
            if (heldFloats + floats > capacityFloats) throw new BackendException("out of device memory");
            float[] b = new float[(int) floats];
            live.add(b);
            heldFloats += floats;
            allocations++;
            return b;
        }

        @Override
        public void free(float[] buffer) {
            call("free");
            freeingThreads.add(Thread.currentThread());
            if (!live.remove(buffer)) throw new AssertionError("a buffer was freed twice or was never allocated");
            heldFloats -= buffer.length;
            frees++;
        }

        @Override
        public void upload(float[] src, float[] dst) {
            call("upload");
            System.arraycopy(src, 0, dst, 0, src.length);
        }

        @Override
        public void download(float[] src, float[] dst) {
            call("download");
            System.arraycopy(src, 0, dst, 0, dst.length);
        }

        @Override
        public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, float[] b, float beta,
                         float[] c) {
            call("gemm");
        }

        @Override
        public void activationForward(Activation f, float[] z, float[] bias, float[] out, int rows, int cols) {
            call("activationForward");
        }

        @Override
        public void activationBackward(Activation f, float[] z, float[] out, float[] delta, int rows, int cols) {
            call("activationBackward");
        }

        @Override
        public void columnSum(float[] m, int rows, int cols, float alpha, float beta, float[] out) {
            call("columnSum");
        }

        @Override
        public void lossGradient(Loss loss, float[] yHat, float[] y, float[] delta, float[] lossSum, int rows, int cols) {
            call("lossGradient");
        }

        @Override
        public void optimizerUpdate(UpdateRule rule, float[] param, float[] grad, float[] slot0, float[] slot1,
                                    float[] step, float[] sumOfSquares, float maxNorm, long n) {
            call("optimizerUpdate");
            step[0] = Float.intBitsToFloat(Float.floatToRawIntBits(step[0]) + 1);
        }

        @Override
        public void sumOfSquares(float[] m, long n, boolean accumulate, float[] out) {
            call("sumOfSquares");
        }

        @Override
        public void gatherRows(float[] src, int srcRows, float[] order, int offset, float[] dst, int rows, int cols) {
            call("gatherRows");
        }

        @Override
        public void dropoutForward(float[] input, float[] output, float[] mask, int rows, int cols, float dropProbability,
                                   long seed, int layer, float[] step) {
            call("dropoutForward");
        }

        @Override
        public void dropoutBackward(float[] delta, float[] mask, int rows, int cols) {
            call("dropoutBackward");
        }

        @Override
        public void synchronize() {
            call("synchronize");
        }

        @Override
        public void close() {
            call("close");
            closed = true;
        }
    }

    private final RecordingDevice device = new RecordingDevice();
    private final Backend backend = Backend.of("test", Precision.FP32, device);

    @Test
    void identityBackwardNeverReachesTheDevice() {
        Matrix z = backend.allocate(2, 3), out = backend.allocate(2, 3), delta = backend.allocate(2, 3);
        backend.activationBackward(Activation.IDENTITY, z, out, delta);
        backend.activationBackward(Activation.TANH, z, out, delta);
        assertEquals(1, device.calls.stream().filter("activationBackward"::equals).count());
        backend.close();
    }

    @Test
    void rejectedCallsNeverReachTheDevice() {
        Matrix a = backend.allocate(2, 3), c = backend.allocate(2, 2);
        int before = device.calls.size();
        assertThrows(ShapeException.class, () -> backend.gemm(false, false, 1, a, a, 0, c));
        assertThrows(IllegalArgumentException.class, () -> backend.gemm(false, true, Float.NaN, a, a, 0, c));
        assertThrows(IllegalArgumentException.class, () -> backend.activationBackward(Activation.SOFTMAX, c, c, c));
        assertEquals(before, device.calls.size(), "calls reached the device: " + device.calls.subList(before,
                device.calls.size()));
        backend.close();
    }

    @Test
    void closeFreesEveryAllocationReachableOrNot() throws InterruptedException {
        Matrix kept = backend.allocate(2, 2);
        Matrix closedEarly = backend.allocate(3, 3);
        closedEarly.close();
        closedEarly.close();
        assertEquals(1, device.frees, "close frees once");
        awaitCollected(allocateAndDrop(backend, 10, 4, 4));   // no call after this: close must find them itself
        backend.close();
        assertEquals(12, device.allocations);
        assertEquals(12, device.frees, "every buffer freed by the backend's close, dropped ones included");
        assertTrue(device.live.isEmpty());
        assertTrue(device.closed);
        assertTrue(kept.isReleased(), "a reachable matrix is marked released by the backend's close");
        kept.close();   // after the backend: a no-op, not a call on the closed device
        assertEquals(12, device.frees);
        assertEquals(0, backend.memoryInUse());
        assertThrows(IllegalStateException.class, () -> backend.allocate(1, 1));
    }

    @Test
    void droppedMatricesAreFreedAtTheNextCallOnTheCallingThread() throws InterruptedException {
        List<WeakReference<Matrix>> dropped = allocateAndDrop(backend, 10, 4, 4);
        assertEquals(10 * 64, backend.memoryInUse(), "dropped but not reclaimed yet: still held");
        awaitCollected(dropped);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (device.frees < 10 && System.nanoTime() < deadline) {   // the GC enqueues on its own thread, a little later
            backend.synchronize();
            Thread.sleep(5);
        }
        assertTrue(device.frees >= 10, device.frees + " of 10 dropped matrices freed");
        assertEquals(Set.of(Thread.currentThread()), Set.copyOf(device.freeingThreads),
                "freed only on the thread using the backend");
        assertEquals(0, backend.memoryInUse());
        backend.close();
    }

    @Test
    void aDeviceShortOfMemoryGetsDroppedMatricesBackBeforeTheAllocationFails() {
        RecordingDevice small = new RecordingDevice(3 * 16);   // three 4×4 matrices
        Backend b = Backend.of("small", Precision.FP32, small);
        for (int i = 0; i < 200; i++) b.allocate(4, 4);         // each dropped at once; no explicit GC here
        assertEquals(200, small.allocations);
        assertTrue(small.heldFloats <= 3 * 16);
        Matrix a = b.allocate(4, 4), c = b.allocate(4, 4), d = b.allocate(4, 4);
        BackendException e = assertThrows(BackendException.class, () -> b.allocate(2, 2));
        assertTrue(e.getMessage().startsWith("small: allocate 2×2: out of device memory"), e.getMessage());
        for (Matrix m : new Matrix[]{a, c, d}) m.close();
        b.close();
        assertEquals(small.allocations, small.frees);
    }

    @Test
    void optimizerUpdatesChangeNothingOnTheHost() {
        Matrix w = backend.allocate(2, 2), g = backend.allocate(2, 2);
        Optimizer.State s = Optimizer.adam(0.1f).newState(backend, 2, 2, true);
        for (int i = 0; i < 3; i++) backend.replay("step", () -> backend.optimizerUpdate(s, w, g));
        assertEquals(3, s.step(), "the count is the device's, advanced by its update");
        backend.close();
    }
}
