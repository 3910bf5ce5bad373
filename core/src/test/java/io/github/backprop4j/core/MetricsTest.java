package io.github.backprop4j.core;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ROC AUC (ties included) and R² against values worked out by hand and by counting pairs. */
class MetricsTest {

    @Test
    void aucCountsATiedPairHalf() {
        // positives 0.35, 0.8, 0.4; negatives 0.1, 0.4, 0.4. Pairs won: 0.35 beats 0.1 (1); 0.8 beats all (3);
        // 0.4 beats 0.1 and ties both 0.4s (1 + 0.5 + 0.5). 6 of 9 pairs.
        float[] scores = {0.1f, 0.4f, 0.35f, 0.8f, 0.4f, 0.4f};
        boolean[] positive = {false, false, true, true, true, false};
        assertEquals(6.0 / 9, Metrics.auc(scores, positive), 1e-15);
    }

    @Test
    void aucOfSeparatedReversedAndConstantScores() {
        boolean[] positive = {false, true, false, true};
        assertEquals(1.0, Metrics.auc(new float[]{0.1f, 0.9f, 0.2f, 0.8f}, positive));
        assertEquals(0.0, Metrics.auc(new float[]{0.9f, 0.1f, 0.8f, 0.2f}, positive));
        assertEquals(0.5, Metrics.auc(new float[]{0.5f, 0.5f, 0.5f, 0.5f}, positive), "every pair tied");
        assertEquals(0.5, Metrics.auc(new float[]{-0f, 0f, 0f, -0f}, positive), "-0 and +0 are one score");
        assertTrue(Double.isNaN(Metrics.auc(new float[]{0.1f, 0.2f}, new boolean[]{true, true})), "one class only");
    }

    @Test
    void aucIsThePairCountOnManyTies() {
        SplittableRandom rng = new SplittableRandom(5);
        int n = 701;
        float[] scores = new float[n];
        boolean[] positive = new boolean[n];
        for (int i = 0; i < n; i++) {
            scores[i] = (float) Math.floor(rng.nextDouble() * 12) / 12;   // 12 distinct scores: ties everywhere
            positive[i] = rng.nextDouble() < 0.3 + 0.4 * scores[i];
        }
        double won = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (positive[i] && !positive[j]) {
                    pairs++;
                    won += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
        assertEquals(won / pairs, Metrics.auc(scores, positive), 1e-12);
    }

    @Test
    void r2IsOneMinusResidualOverTotalAveragedOverColumns() {
        // column 0: targets 1, 2, 3, 4 (mean 2.5, SS_tot 5), predictions 1.5, 2, 2.5, 4.5 (SS_res 0.75): 0.85
        // column 1: targets 0, 0, 1, 1 (mean 0.5, SS_tot 1), SS_res 0.5: 0.5
        Dataset data = new Dataset(new float[4], 1, new float[]{1, 0, 2, 0, 3, 1, 4, 1}, 2);
        assertEquals((0.85 + 0.5) / 2, Metrics.r2(data, new double[]{0.75, 0.5}), 1e-15);
        Dataset constant = new Dataset(new float[3], 1, new float[]{7, 7, 7}, 1);
        assertTrue(Double.isNaN(Metrics.r2(constant, new double[]{1})), "a constant target has no R²");
    }
}
