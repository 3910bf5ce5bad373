package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Optimizer;

/**
 * The optimizer updates of {@link Optimizer}'s formulas in float64, from the record's own components (not
 * the rule the handle derives from them), decay for weights only; the slots live here.
 */
final class ReferenceOptimizer {

    private final Optimizer opt;
    private final double l2, wd, mu, b1, b2, eps;
    private final double[] s1, s2;

    ReferenceOptimizer(Optimizer opt, boolean isWeight, int n) {
        this.opt = opt;
        l2 = !isWeight ? 0 : switch (opt) {
            case Optimizer.Sgd o -> o.l2();
            case Optimizer.Momentum o -> o.l2();
            case Optimizer.Nesterov o -> o.l2();
            case Optimizer.Adam o -> o.l2();
            case Optimizer.AdamW o -> 0;
        };
        wd = isWeight && opt instanceof Optimizer.AdamW o ? o.weightDecay() : 0;
        mu = opt instanceof Optimizer.Momentum o ? o.momentum() : opt instanceof Optimizer.Nesterov o ? o.momentum() : 0;
        b1 = opt instanceof Optimizer.Adam o ? o.beta1() : opt instanceof Optimizer.AdamW o ? o.beta1() : 0;
        b2 = opt instanceof Optimizer.Adam o ? o.beta2() : opt instanceof Optimizer.AdamW o ? o.beta2() : 0;
        eps = opt instanceof Optimizer.Adam o ? o.epsilon() : opt instanceof Optimizer.AdamW o ? o.epsilon() : 0;
        s1 = new double[n];
        s2 = new double[n];
    }

    /** Update t (1-based) of w at rate lr, with the gradient scaled by {@code clip} (global-norm clipping) first. */
    void update(double[] w, float[] g, int t, double lr, double clip) {
        for (int i = 0; i < w.length; i++) {
            double gi = g[i] * clip + l2 * w[i];
            switch (opt) {
                case Optimizer.Sgd _ -> w[i] -= lr * gi;
                case Optimizer.Momentum _ -> {
                    s1[i] = mu * s1[i] + gi;
                    w[i] -= lr * s1[i];
                }
                case Optimizer.Nesterov _ -> {
                    s1[i] = mu * s1[i] + gi;
                    w[i] -= lr * (gi + mu * s1[i]);
                }
                case Optimizer.Adam _, Optimizer.AdamW _ -> {
                    s1[i] = b1 * s1[i] + (1 - b1) * gi;
                    s2[i] = b2 * s2[i] + (1 - b2) * gi * gi;
                    double mh = s1[i] / (1 - Math.pow(b1, t)), vh = s2[i] / (1 - Math.pow(b2, t));
                    w[i] = w[i] * (1 - lr * wd) - lr * mh / (Math.sqrt(vh) + eps);
                }
            }
        }
    }
}
