package io.github.backprop4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.spi.Device;
import io.github.backprop4j.core.spi.UpdateRule;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The handle's own guarantees, against a device that records what reaches it: validation and the
 * identity shortcut happen before the device, every buffer is freed exactly once (closed, dropped or
 * left open at close), frees happen on the owner thread, and a closed device is never called.
 */
class BackendHandleTest {

    /** Host buffers; remembers every call and which buffers are live. */
    static class RecordingDevice implements Device<float[]> {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());
        final Set<float[]> live = Collections.newSetFromMap(new IdentityHashMap<>());
        final List<Thread> freeingThreads = Collections.synchronizedList(new ArrayList<>());
        int allocations;
        boolean closed;

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
            float[] b = new float[(int) floats];
            live.add(b);
            allocations++;
            return b;
        }

        @Override
        public void free(float[] buffer) {
            call("free");
            freeingThreads.add(Thread.currentThread());
            if (!live.remove(buffer)) throw new AssertionError("a buffer was freed twice or was never allocated");
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
                                    float[] step, long n) {
            call("optimizerUpdate");
            step[0] = Float.intBitsToFloat(Float.floatToRawIntBits(step[0]) + 1);
        }

        @Override
        public void gatherRows(float[] src, int srcRows, float[] order, int offset, float[] dst, int rows, int cols) {
            call("gatherRows");
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
    void closeFreesEveryBufferOnceWhetherClosedOpenOrDropped() {
        Matrix closedEarly = backend.allocate(4, 4);
        closedEarly.close();
        closedEarly.close();
        backend.allocate(5, 5);   // dropped without close
        Matrix open = backend.allocate(3, 3);
        try (Model m = Model.initialize(backend, Network.input(3).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY), 1)) {
            assertTrue(m.weights(0).size() == 6);
        }
        assertTrue(backend.memoryInUse() >= 9 * 4 + 25 * 4);
        backend.close();
        assertTrue(device.live.isEmpty(), device.live.size() + " buffers were never freed");
        assertEquals(device.allocations, device.calls.stream().filter("free"::equals).count());
        assertTrue(device.closed);
        assertEquals(0, backend.memoryInUse());
        open.close();   // after the backend: a no-op, not a call on the closed device
        assertThrows(IllegalStateException.class, () -> backend.allocate(1, 1));
    }

    @Test
    void unreachableMatricesAreFreedOnTheOwnerThreadAtALaterCall() throws InterruptedException {
        for (int i = 0; i < 100; i++) backend.allocate(64, 64);   // dropped
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!device.live.isEmpty() && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
            backend.synchronize();   // a safe point on the owner thread
        }
        assertTrue(device.live.isEmpty(), device.live.size() + " unreachable buffers were not reclaimed");
        assertEquals(0, backend.memoryInUse());
        for (Thread t : device.freeingThreads) assertEquals(Thread.currentThread(), t, "freed on another thread");
        backend.close();
    }

    /** A device that holds at most three buffers, as a GPU short of memory would. */
    static final class SmallDevice extends RecordingDevice {
        @Override
        public float[] allocate(long floats) {
            if (live.size() >= 3) throw new BackendException("out of device memory (3 buffers held)");
            return super.allocate(floats);
        }
    }

    @Test
    void anAllocationTheDeviceRefusesFirstReclaimsDroppedMatrices() {
        SmallDevice small = new SmallDevice();
        Backend b = Backend.of("small", Precision.FP32, small);
        for (int i = 0; i < 40; i++) b.allocate(64, 64);   // each dropped at once
        assertTrue(small.live.size() <= 3);
        Matrix a = b.allocate(1, 1), c = b.allocate(1, 1), d = b.allocate(1, 1);
        BackendException e = assertThrows(BackendException.class, () -> b.allocate(2, 2));
        assertTrue(e.getMessage().startsWith("small: allocate 2×2: out of device memory"), e.getMessage());
        for (Matrix m : new Matrix[]{a, c, d}) m.close();
        b.close();
        assertTrue(small.live.isEmpty());
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
