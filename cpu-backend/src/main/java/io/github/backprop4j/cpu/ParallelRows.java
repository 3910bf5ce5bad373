package io.github.backprop4j.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * Splits a row range across the backend's pool with task objects made once and re-armed for every
 * call, so that the steady-state training step allocates no fork/join tasks. Confined to the
 * backend's thread, like the backend itself.
 */
final class ParallelRows {

    /** Work on rows [from, to) by worker {@code worker} (0 ≤ worker < threads, for per-worker scratch). */
    interface Body {
        void run(int worker, int from, int to);
    }

    private final ForkJoinPool pool;
    private final Part[] parts;
    private final Root root = new Root();

    ParallelRows(ForkJoinPool pool, int threads) {
        this.pool = pool;
        this.parts = new Part[threads];
        for (int i = 0; i < threads; i++) parts[i] = new Part(i);
    }

    int threads() {
        return parts.length;
    }

    /** Runs body over [0, rows) in {@code workers} stripes whose sizes are multiples of {@code align}. */
    void run(int workers, int rows, int align, Body body) {
        workers = Math.max(1, Math.min(workers, parts.length));
        if (workers == 1) {
            body.run(0, 0, rows);
            return;
        }
        int per = ((rows + workers - 1) / workers + align - 1) / align * align;
        for (int w = 0; w < workers; w++) {
            Part p = parts[w];
            p.reinitialize();
            p.body = body;
            p.from = Math.min(rows, w * per);
            p.to = Math.min(rows, (w + 1) * per);
        }
        root.reinitialize();
        root.workers = workers;
        pool.invoke(root);
        for (int w = 0; w < workers; w++) parts[w].body = null;
    }

    private final class Root extends RecursiveAction {
        int workers;

        @Override
        protected void compute() {
            for (int w = 1; w < workers; w++) parts[w].fork();
            parts[0].compute();
            for (int w = workers - 1; w >= 1; w--) parts[w].join();
        }
    }

    private static final class Part extends RecursiveAction {
        final int worker;
        Body body;
        int from, to;

        Part(int worker) {
            this.worker = worker;
        }

        @Override
        protected void compute() {
            if (from < to) body.run(worker, from, to);
        }
    }
}
