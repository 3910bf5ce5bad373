package io.github.backprop4j.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The timing discipline of one report cell: warm-up for at least {@code warmup} iterations and
 * {@code warmupSeconds}, each iteration synchronized so that its time is known, then
 * {@code repetitions} timed batches of iterations, each batch long enough to last about
 * {@code repetitionSeconds} and followed by one device synchronization (as a CUDA-event timing of a
 * loop would be: the device may overlap consecutive operations, the clock stops when all are done).
 * Before the warm-up has gone far, the cell's total cost is estimated; one that would exceed the
 * budget is abandoned with the estimate rather than run.
 */
final class CellTimer {

    /** Milliseconds per operation of each repetition, unsorted, and how many operations each one timed. */
    record Timing(double[] msPerOperation, long iterationsPerRepetition) {

        double median() {
            double[] s = msPerOperation.clone();
            Arrays.sort(s);
            int n = s.length;
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        double min() {
            return Arrays.stream(msPerOperation).min().orElseThrow();
        }

        double max() {
            return Arrays.stream(msPerOperation).max().orElseThrow();
        }
    }

    /** The cell would take longer than the budget allows. */
    static final class OverBudget extends Exception {
        final double estimatedSeconds;

        OverBudget(String basis, double estimatedSeconds, double budgetSeconds) {
            super(String.format(Locale.ROOT, "estimated %.0f s > budget %.0f s per cell (%s); raise --max-seconds-per-cell",
                    estimatedSeconds, budgetSeconds, basis));
            this.estimatedSeconds = estimatedSeconds;
        }
    }

    private final Report.Settings settings;

    CellTimer(Report.Settings settings) {
        this.settings = settings;
    }

    /**
     * What the whole cell costs when one operation takes {@code secondsPerOperation}: the warm-up
     * (count- and time-bounded below) plus every repetition (at least one operation each).
     */
    double estimateSeconds(double secondsPerOperation) {
        double warmup = Math.max(settings.warmup() * secondsPerOperation, settings.warmupSeconds());
        double repetition = Math.max(secondsPerOperation, settings.repetitionSeconds());
        return warmup + settings.repetitions() * repetition;
    }

    /** Throws {@link OverBudget} when a predicted operation time would make the cell exceed the budget. */
    void checkPrediction(double predictedSecondsPerOperation, String basis) throws OverBudget {
        double estimate = estimateSeconds(predictedSecondsPerOperation);
        if (estimate > settings.maxSecondsPerCell()) throw new OverBudget(basis, estimate, settings.maxSecondsPerCell());
    }

    /** Warms up and times {@code operation}; {@code synchronize} waits until the device has finished all of it. */
    Timing time(Runnable operation, Runnable synchronize) throws OverBudget {
        long start = System.nanoTime();
        operation.run();
        synchronize.run();
        double first = seconds(System.nanoTime() - start);
        // The first call carries JIT and first-touch costs, so this estimate errs on the high side.
        checkPrediction(first, String.format(Locale.ROOT, "first warm-up iteration took %.2f s", first));

        int warmed = 1;
        long warmupStart = start;
        long last = System.nanoTime();
        double lastSeconds = first;
        while (warmed < settings.warmup() || seconds(last - warmupStart) < settings.warmupSeconds()) {
            long t = System.nanoTime();
            operation.run();
            synchronize.run();
            last = System.nanoTime();
            lastSeconds = seconds(last - t);
            warmed++;
        }

        long iterations = Math.max(1, Math.round(settings.repetitionSeconds() / Math.max(lastSeconds, 1e-9)));
        double[] ms = new double[settings.repetitions()];
        for (int r = 0; r < ms.length; r++) {
            long t = System.nanoTime();
            for (long i = 0; i < iterations; i++) operation.run();
            synchronize.run();
            ms[r] = (System.nanoTime() - t) / 1e6 / iterations;
        }
        return new Timing(ms, iterations);
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
