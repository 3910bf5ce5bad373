package io.github.backprop4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The Java twin of the kernels' scheduled_learning_rate, against the formulas written out in float64. */
class LearningRateScheduleTest {

    @Test
    void warmupRisesLinearlyToTheBaseRate() {
        LearningRateSchedule s = LearningRateSchedule.constant().withWarmup(4);
        float[] expected = {0.025f, 0.05f, 0.075f, 0.1f, 0.1f, 0.1f};
        for (int t = 1; t <= expected.length; t++) assertEquals(expected[t - 1], s.learningRate(0.1f, t), 1e-9, "t = " + t);
    }

    @Test
    void stepDecaysEveryPeriodAfterTheWarmup() {
        LearningRateSchedule s = LearningRateSchedule.step(3, 0.5f).withWarmup(2);
        for (int t = 1; t <= 20; t++) {
            int k = t - 1;
            double ref = k < 2 ? 0.2 * (k + 1) / 2 : 0.2 * Math.pow(0.5, (k - 2) / 3);
            assertEquals(ref, s.learningRate(0.2f, t), 1e-7, "t = " + t);
        }
        assertEquals(0.2f, LearningRateSchedule.step(3, 0.5f).learningRate(0.2f, 3), "no warm-up: updates 1-3 at the base");
        assertEquals(0.1f, LearningRateSchedule.step(3, 0.5f).learningRate(0.2f, 4), "update 4 after one decay");
    }

    @Test
    void cosineFallsToTheMinimumAndStaysThere() {
        LearningRateSchedule s = LearningRateSchedule.cosine(110, 0.001f).withWarmup(10);
        for (int t = 1; t <= 200; t++) {
            int k = t - 1;
            double ref = k < 10 ? 0.1 * (k + 1) / 10
                    : 0.001 + (0.1 - 0.001) * (1 + Math.cos(Math.PI * Math.min(k - 10, 100) / 100.0)) / 2;
            assertEquals(ref, s.learningRate(0.1f, t), 1e-7, "t = " + t);
        }
        assertEquals(0.001f, s.learningRate(0.1f, 111), 1e-9);
        assertEquals(0.0505, s.learningRate(0.1f, 61), 1e-7, "half way");
    }

    @Test
    void badSchedulesAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(0, 0.5f)).getMessage()
                .contains("period"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(10, 1.5f)).getMessage()
                .contains("gamma"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.step(10, 0f)).getMessage()
                .contains("gamma"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosine(10, Float.NaN))
                .getMessage().contains("minimum"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosine(10, 0f).withWarmup(10))
                .getMessage().contains("warm-up"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.constant().withWarmup(-1))
                .getMessage().contains("warm-up"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosine(10, 0.5f).checkBase(0.1f))
                .getMessage().contains("exceeds"));
    }
}
