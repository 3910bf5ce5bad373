package io.github.backprop4j.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Matrix;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The CPU backend's parallel hand-off under stress: many thousands of calls on teams larger than the
 * machine (workers parked and woken on every call) and as large as it (spinning workers), with the
 * calling thread changing, failing bodies and closing. A lost wake-up would hang a call; the
 * preemptive timeout turns that into a failure instead of a hung build.
 */
class ParallelRowsStressTest {

    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static final Duration HANG = Duration.ofSeconds(60);

    @Test
    void everyRowRunsExactlyOnceWithMoreThreadsThanCores() {
        assertTimeoutPreemptively(HANG, () -> hammer(Math.max(8, 4 * CORES), 12_000, 1));
    }

    @Test
    void everyRowRunsExactlyOnceWithSpinningWorkers() {
        assertTimeoutPreemptively(HANG, () -> hammer(Math.max(2, CORES), 12_000, 2));
    }

    /** Random shapes; each call checks coverage, alignment, even chunks and that no member id runs twice at once. */
    private static void hammer(int threads, int calls, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] stamp = new int[5000];
        try (ParallelRows team = new ParallelRows(threads)) {
            AtomicIntegerArray busy = new AtomicIntegerArray(threads);
            AtomicInteger covered = new AtomicInteger();
            AtomicInteger byWorkers = new AtomicInteger();
            AtomicReference<String> problem = new AtomicReference<>();
            for (int call = 1; call <= calls; call++) {
                int rows = 1 + rng.nextInt(stamp.length);
                int parts = 1 + rng.nextInt(threads);
                int chunks = parts + rng.nextInt(3 * parts + 1);
                int align = 1 + rng.nextInt(16);
                int id = call;
                // chunks are dealt out evenly: whole ones differ by at most one unit of align rows
                int units = (rows + align - 1) / align, count = Math.min(units, chunks);
                int most = (units + count - 1) / count, least = units / count;
                boolean split = parts > 1 && threads > 1;
                covered.set(0);
                team.run(parts, chunks, rows, align, (worker, from, to) -> {
                    if (!busy.compareAndSet(worker, 0, 1)) problem.compareAndSet(null, "member " + worker + " ran twice at once");
                    if (from % align != 0 || from >= to || to > rows)
                        problem.compareAndSet(null, "chunk [" + from + ", " + to + ") of " + rows + " rows, align " + align);
                    int size = (to - from + align - 1) / align;
                    if (split && (size > most || (to < rows && size < least)))
                        problem.compareAndSet(null, "chunk [" + from + ", " + to + ") of " + rows + " rows in " + count
                                + " chunks, align " + align + ": uneven");
                    for (int r = from; r < to; r++) stamp[r] = id;
                    for (int spin = 0; spin < to - from; spin++) Thread.onSpinWait(); // let the others wake and claim
                    covered.addAndGet(to - from);
                    if (worker != 0) byWorkers.incrementAndGet();
                    busy.set(worker, 0);
                });
                assertEquals(null, problem.get(), "call " + call);
                assertEquals(rows, covered.get(), "call " + call + ": rows run");
                for (int r = 0; r < rows; r++)
                    if (stamp[r] != id) throw new AssertionError("call " + call + ": row " + r + " of " + rows + " was not run");
            }
            System.out.printf("ParallelRows stress, %d threads on %d cores: %d calls, %d chunks run by workers%n",
                    threads, CORES, calls, byWorkers.get());
            assertTrue(byWorkers.get() > calls / 10, "the workers hardly ever took part: " + byWorkers.get());
        }
    }

    @Test
    void theCallingThreadMayChangeBetweenCalls() throws Exception {
        assertTimeoutPreemptively(HANG, () -> {
            try (ParallelRows team = new ParallelRows(Math.max(4, 2 * CORES))) {
                long[] sums = new long[team.threads()];
                for (int round = 0; round < 100; round++) {
                    Thread t = new Thread(() -> {
                        for (int i = 0; i < 50; i++) {
                            java.util.Arrays.fill(sums, 0);
                            team.run(team.threads(), 4 * team.threads(), 1000, 1, (worker, from, to) -> {
                                for (int r = from; r < to; r++) sums[worker] += r;
                            });
                            long total = 0;
                            for (long s : sums) total += s;
                            if (total != 999L * 1000 / 2) throw new AssertionError("sum " + total);
                        }
                    });
                    AtomicReference<Throwable> failed = new AtomicReference<>();
                    t.setUncaughtExceptionHandler((th, e) -> failed.set(e));
                    t.start();
                    t.join();
                    if (failed.get() != null) throw new AssertionError(failed.get());
                }
            }
        });
    }

    @Test
    void aFailingChunkIsRethrownAfterEveryChunkEndedAndTheTeamKeepsWorking() {
        assertTimeoutPreemptively(HANG, () -> {
            try (ParallelRows team = new ParallelRows(Math.max(4, 2 * CORES))) {
                for (int i = 0; i < 1000; i++) {
                    int failing = i % 8;
                    AtomicInteger running = new AtomicInteger();
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                            team.run(team.threads(), 8, 800, 1, (worker, from, to) -> {
                                running.incrementAndGet();
                                try {
                                    if (from / 100 == failing) throw new IllegalArgumentException("chunk " + failing);
                                } finally {
                                    running.decrementAndGet();
                                }
                            }));
                    assertEquals("chunk " + failing, e.getMessage());
                    assertEquals(0, running.get(), "a chunk was still running when the call returned");
                }
                int[] seen = new int[100];
                team.run(team.threads(), 100, 1, (worker, from, to) -> {
                    for (int r = from; r < to; r++) seen[r]++;
                });
                int[] once = new int[100];
                java.util.Arrays.fill(once, 1);
                assertArrayEquals(once, seen);
            }
        });
    }

    @Test
    void closeEndsTheWorkersAndRefusesLaterCalls() throws Exception {
        ParallelRows team = new ParallelRows(Math.max(4, 2 * CORES));
        team.run(team.threads(), 64, 1, (worker, from, to) -> { });
        team.close();
        assertTrue(team.awaitTermination(10_000), "worker threads still running after close");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> team.run(2, 64, 1, (worker, from, to) -> { }));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    /** The same hand-off under the backend: parallel GEMMs with twice as many threads as cores agree with one thread. */
    @Test
    void parallelGemmWithMoreThreadsThanCoresMatchesOneThread() {
        assertTimeoutPreemptively(HANG, () -> {
            int n = 96;
            SplittableRandom rng = new SplittableRandom(3);
            float[] a = new float[n * n], b = new float[n * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rng.nextDouble(-1, 1);
                b[i] = (float) rng.nextDouble(-1, 1);
            }
            float[] expected = gemm(1, a, b, n, 1);
            float[] got = gemm(Math.max(4, 4 * CORES), a, b, n, 500);
            assertArrayEquals(expected, got);
        });
    }

    private static float[] gemm(int threads, float[] a, float[] b, int n, int repeats) {
        try (Backend backend = Backends.open("cpu", BackendOptions.defaults().withThreads(threads))) {
            Matrix ma = backend.allocate(n, n), mb = backend.allocate(n, n), mc = backend.allocate(n, n);
            backend.upload(a, ma);
            backend.upload(b, mb);
            for (int i = 0; i < repeats; i++) backend.gemm(false, false, 1f, ma, mb, 0f, mc);
            float[] c = new float[n * n];
            backend.download(mc, c);
            return c;
        }
    }

    @Test
    void aSingleThreadTeamRunsOnTheCaller() {
        try (ParallelRows team = new ParallelRows(1)) {
            Thread caller = Thread.currentThread();
            team.run(4, 100, 1, (worker, from, to) -> {
                assertSame(caller, Thread.currentThread());
                assertEquals(0, from);
                assertEquals(100, to);
            });
        }
    }
}
