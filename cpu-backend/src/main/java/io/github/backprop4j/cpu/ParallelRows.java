package io.github.backprop4j.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one data-parallel body at a time over a row range on a fixed team: the calling thread plus
 * {@code threads − 1} persistent daemon workers. A call allocates nothing.
 *
 * <p>The range is cut into chunks that every member claims, one at a time, from a single atomic
 * word holding (generation, chunk count, next chunk). A worker runs a chunk only after its
 * compare-and-set on that word succeeded, so a worker that wakes late, or never, cannot run a chunk
 * twice or of the wrong call, and cannot hold a call up: the caller claims whatever is left and
 * runs it itself. The call returns once every chunk has run. The two places a thread parks are each
 * guarded by a flag written before a re-check (workers: {@code parked}, then the claim word; the
 * caller: {@code waiter}, then {@code remaining}), and the thread that changes the re-checked value
 * reads the flag afterwards; with volatile accesses one of the two always sees the other, so no
 * wake-up can be lost. Idle threads spin briefly before parking (only while the team fits the
 * cores): the ops of a training step follow each other within microseconds.
 *
 * <p>Used by one thread at a time (the backend's confinement); which thread may change between calls.
 */
final class ParallelRows implements AutoCloseable {

    /** Work on rows [from, to) by team member {@code worker} (0 ≤ worker < threads, for per-worker scratch). */
    interface Body {
        void run(int worker, int from, int to);
    }

    /** Claim word: generation in the high bits, then the chunk count, then the next chunk to claim. */
    private static final int INDEX_BITS = 12;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
    static final int MAX_CHUNKS = (int) INDEX_MASK;
    private static final long GENERATION_UNIT = 1L << (2 * INDEX_BITS);

    /** How long an idle member spins before parking, when the team is no larger than the machine. */
    private static final long SPIN_NANOS = Long.getLong("backprop4j.cpu.spinMicros", 50) * 1000;

    private final int threads;
    private final boolean spin;
    private final Worker[] workers;
    private final AtomicLong claim = new AtomicLong();
    private final AtomicInteger remaining = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The caller while it is about to park waiting for the last chunk, else null. */
    private volatile Thread waiter;
    private volatile boolean closed;

    // The current call, written by the caller before it publishes the claim word, read after a claim.
    private Body body;
    private int rows;
    private int align, units, count;

    ParallelRows(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.spin = threads <= Runtime.getRuntime().availableProcessors();
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /**
     * Runs body over [0, rows) in at most {@code parts} chunks whose sizes are multiples of
     * {@code align}, on at most as many team members; returns when all are done and rethrows the
     * first failure of any of them.
     */
    void run(int parts, int rows, int align, Body body) {
        run(parts, parts, rows, align, body);
    }

    /**
     * As {@link #run(int, int, int, Body)}, with the range cut into up to {@code chunks} chunks
     * (more chunks than members balance the load when a core is busy with something else).
     */
    void run(int parts, int chunks, int rows, int align, Body body) {
        if (closed) throw new IllegalStateException("the cpu backend's worker team is closed");
        if (rows <= 0) return;
        int units = ceilDiv(rows, align);
        int count = Math.min(units, Math.max(1, Math.min(chunks, MAX_CHUNKS)));
        if (count == 1 || parts <= 1 || threads == 1) {
            body.run(0, 0, rows);
            return;
        }
        this.body = body;
        this.rows = rows;
        this.align = align;
        this.units = units;
        this.count = count;
        remaining.set(count);
        long generation = (claim.get() & -GENERATION_UNIT) + GENERATION_UNIT;
        claim.set(generation | ((long) count << INDEX_BITS));
        int helpers = Math.min(workers.length, Math.min(parts, count) - 1);
        for (int i = 0; i < helpers; i++) workers[i].wake();
        try {
            while (runOneChunk(0, generation)) {
                // claim and run until none is left
            }
            awaitRemaining();
        } finally {
            this.body = null;
        }
        Throwable t = failure.getAndSet(null);
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }

    /** Claims the next chunk of {@code generation} and runs it; false when there is none. */
    private boolean runOneChunk(int worker, long generation) {
        long c;
        int index;
        do {
            c = claim.get();
            if ((c & -GENERATION_UNIT) != generation) return false;
            index = (int) (c & INDEX_MASK);
            if (index == (int) ((c >>> INDEX_BITS) & INDEX_MASK)) return false;
        } while (!claim.compareAndSet(c, c + 1));
        try {
            // Safe to read: the call cannot end (and be replaced) before this chunk is counted down.
            if (failure.get() == null) {
                body.run(worker, chunkStart(index), chunkStart(index + 1));
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            if (remaining.decrementAndGet() == 0) {
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }
        return true;
    }

    private void awaitRemaining() {
        if (remaining.get() == 0) return;
        long deadline = spin ? System.nanoTime() + SPIN_NANOS : 0;
        while (spin && remaining.get() != 0 && System.nanoTime() < deadline) Thread.onSpinWait();
        Thread self = Thread.currentThread();
        while (remaining.get() != 0) {
            waiter = self;
            if (remaining.get() != 0) LockSupport.park(this);
            waiter = null;
        }
    }

    /** Stops the workers (they finish the chunk in hand, if any); later calls are refused. */
    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    /** For tests: whether every worker thread has ended, waiting up to {@code millis} for them. */
    boolean awaitTermination(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        for (Worker w : workers) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left > 0) w.join(left);
            if (w.isAlive()) return false;
        }
        return true;
    }

    /**
     * Where chunk {@code index} starts: the range's units of {@code align} rows are dealt out as evenly as
     * whole units allow (chunk sizes differ by at most one unit), so that no member is left with a
     * chunk's worth more than the others.
     */
    private int chunkStart(int index) {
        return (int) Math.min(rows, (long) index * units / count * align);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    private final class Worker extends Thread {
        private final int id;
        private volatile boolean parked;

        Worker(int id) {
            super("backprop4j-cpu-" + id);
            this.id = id;
            setDaemon(true);
        }

        void wake() {
            if (parked) LockSupport.unpark(this);
        }

        @Override
        public void run() {
            long seen = 0; // the generation before the first call
            while (!closed) {
                long generation = claim.get() & -GENERATION_UNIT;
                if (generation != seen) {
                    seen = generation;
                    while (runOneChunk(id, generation)) {
                        // claim and run until none is left
                    }
                    continue;
                }
                idle(seen);
            }
        }

        /** Waits for a generation after {@code seen}: spins a little, then parks. */
        private void idle(long seen) {
            if (spin) {
                long deadline = System.nanoTime() + SPIN_NANOS;
                do {
                    for (int i = 0; i < 64; i++) {
                        if ((claim.get() & -GENERATION_UNIT) != seen || closed) return;
                        Thread.onSpinWait();
                    }
                } while (System.nanoTime() < deadline);
            }
            parked = true;
            if ((claim.get() & -GENERATION_UNIT) == seen && !closed) LockSupport.park(ParallelRows.this);
            parked = false;
            Thread.interrupted(); // nobody should interrupt a worker; if someone does, park must block again
        }
    }
}
