package io.github.backprop4j.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The timing discipline's arithmetic and its budget decisions (no assertion on how long anything took). */
class CellTimerTest {

    private static Report.Settings settings(int repetitions, int warmup, double warmupSeconds, double repetitionSeconds,
                                            double budget) {
        return new Report.Settings(List.of(), List.of("fp32"), List.of(), List.of(), repetitions, warmup, warmupSeconds,
                repetitionSeconds, budget);
    }

    @Test
    void estimateCountsWarmupAndEveryRepetition() {
        CellTimer t = new CellTimer(settings(5, 3, 2, 0.5, 60));
        // slow operation: 3 warm-up iterations of 10 s, 5 repetitions of one 10 s iteration
        assertEquals(80, t.estimateSeconds(10), 1e-9);
        // fast operation: 2 s of warm-up, 5 repetitions of 0.5 s
        assertEquals(4.5, t.estimateSeconds(0.001), 1e-9);
    }

    @Test
    void predictionOverBudgetCarriesTheEstimate() throws CellTimer.OverBudget {
        CellTimer t = new CellTimer(settings(5, 3, 2, 0.5, 60));
        CellTimer.OverBudget e = assertThrows(CellTimer.OverBudget.class, () -> t.checkPrediction(16, "a guess"));
        assertEquals(128, e.estimatedSeconds, 1e-9);
        assertTrue(e.getMessage().contains("estimated 128 s > budget 60 s") && e.getMessage().contains("a guess"),
                e.getMessage());
        t.checkPrediction(1, "fits"); // 3 + 5 = 8 s: no exception
    }

    @Test
    void firstIterationOverBudgetStopsTheCell() {
        CellTimer t = new CellTimer(settings(5, 3, 0, 0, 0.001));
        int[] calls = {0};
        CellTimer.OverBudget e = assertThrows(CellTimer.OverBudget.class, () -> t.time(() -> {
            calls[0]++;
            sleep(5);
        }, () -> { }));
        assertEquals(1, calls[0], "abandoned after the first warm-up iteration");
        assertTrue(e.estimatedSeconds >= 8 * 0.005, "3 warm-up + 5 repetitions of >= 5 ms: " + e.estimatedSeconds);
    }

    @Test
    void timesTheRequestedRepetitions() throws CellTimer.OverBudget {
        CellTimer t = new CellTimer(settings(3, 2, 0, 0, 60));
        int[] calls = {0}, syncs = {0};
        CellTimer.Timing timing = t.time(() -> {
            calls[0]++;
            sleep(1);
        }, () -> syncs[0]++);
        assertEquals(3, timing.msPerOperation().length);
        assertEquals(1, timing.iterationsPerRepetition());
        assertEquals(2 + 3, calls[0]);
        assertEquals(2 + 3, syncs[0], "every warm-up iteration, then once per repetition");
        assertTrue(timing.min() <= timing.median() && timing.median() <= timing.max());
        assertTrue(timing.min() > 0);
    }

    @Test
    void repetitionsSynchronizeOncePerBatch() throws CellTimer.OverBudget {
        // ~1 ms operations and 200 ms repetitions: many operations per repetition, one synchronization each.
        CellTimer t = new CellTimer(settings(2, 1, 0, 0.2, 60));
        int[] calls = {0}, syncs = {0};
        CellTimer.Timing timing = t.time(() -> {
            calls[0]++;
            sleep(1);
        }, () -> syncs[0]++);
        assertTrue(timing.iterationsPerRepetition() > 1, "iterations " + timing.iterationsPerRepetition());
        assertEquals(1 + 2 * timing.iterationsPerRepetition(), calls[0]);
        assertEquals(1 + 2, syncs[0]);
    }

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2, new CellTimer.Timing(new double[] {3, 1, 2}, 1).median());
        assertEquals(2.5, new CellTimer.Timing(new double[] {4, 1, 3, 2}, 1).median());
        assertEquals(1, new CellTimer.Timing(new double[] {4, 1, 3, 2}, 1).min());
        assertEquals(4, new CellTimer.Timing(new double[] {4, 1, 3, 2}, 1).max());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
