package io.github.backprop4j.core;

import java.util.Arrays;

/** The evaluation metrics that need more than a running sum: ROC AUC with ties, and R². */
final class Metrics {

    private Metrics() {
    }

    /**
     * The area under the ROC curve of {@code scores} for the rows marked {@code positive}: the
     * Mann-Whitney statistic, with tied scores sharing their mean rank (a tie between a positive and a
     * negative row counts half). NaN when all rows are of one class.
     */
    static double auc(float[] scores, boolean[] positive) {
        int n = scores.length;
        long positives = 0;
        for (boolean p : positive) if (p) positives++;
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) return Double.NaN;
        // sort by score: the score's bits made order-preserving as a signed int, the row in the low word
        long[] keyed = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(scores[i] + 0f);   // + 0: −0 and +0 are one score
            keyed[i] = ((long) (bits ^ ((bits >> 31) & 0x7fffffff)) << 32) | i;
        }
        Arrays.sort(keyed);
        double positiveRanks = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j < n && (keyed[j] >> 32) == (keyed[i] >> 32)) j++;
            double meanRank = (i + 1 + j) / 2.0;   // ranks i+1 .. j share their mean
            for (int k = i; k < j; k++) if (positive[(int) keyed[k]]) positiveRanks += meanRank;
            i = j;
        }
        return (positiveRanks - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    /**
     * R² = 1 − SS_res / SS_tot per target column of {@code data}, averaged over the columns;
     * {@code squaredErrors} holds each column's SS_res. NaN when a column is constant (SS_tot = 0).
     */
    static double r2(Dataset data, double[] squaredErrors) {
        int n = data.rows(), w = data.targetCount();
        double sum = 0;
        for (int j = 0; j < w; j++) {
            double mean = 0;
            for (int i = 0; i < n; i++) mean += data.target(i, j);
            mean /= n;
            double total = 0;
            for (int i = 0; i < n; i++) {
                double d = data.target(i, j) - mean;
                total += d * d;
            }
            if (!(total > 0)) return Double.NaN;
            sum += 1 - squaredErrors[j] / total;
        }
        return sum / w;
    }
}
