package io.github.backprop4j.core;

/**
 * How the learning rate changes with the optimizer's step count, computed on the device from that count
 * by the update kernels ({@code scheduled_learning_rate} in kernels/src/main/common/optimizer_math.h), so a
 * recorded step replays with the right rate and a resumed run continues the schedule exactly from its
 * restored count. {@link #learningRate} is the same function in Java: the cpu backend's, and what the host
 * reports.
 *
 * <p>For the update with 1-based count t (k = t − 1 updates before it) and base rate lr (the optimizer's):
 * <pre>
 * warm-up (k &lt; W):  lr·(k + 1)/W                            (reaches lr at update W)
 * then, j = k − W:
 *   CONSTANT:        lr
 *   STEP:            lr·γ^⌊j/N⌋                              (PyTorch's StepLR, every N updates)
 *   COSINE:          min + (lr − min)·(1 + cos(π·min(j, T − W)/(T − W)))/2   (min from update T + 1 on)
 * </pre>
 *
 * <pre>
 * LearningRateSchedule.cosine(10_000, 1e-5f).withWarmup(500)
 * </pre>
 *
 * @param kind            CONSTANT, STEP or COSINE (serialized as {@code name().toLowerCase()})
 * @param warmupSteps     W ≥ 0: updates of linear warm-up (0: none)
 * @param period          N ≥ 1: STEP's updates between decays (1 otherwise)
 * @param gamma           γ in (0, 1]: STEP's factor per period (1 otherwise)
 * @param totalSteps      T &gt; W: COSINE's updates until the minimum, warm-up included (0 otherwise)
 * @param minLearningRate COSINE's final rate, finite and ≥ 0 (0 otherwise)
 */
public record LearningRateSchedule(Kind kind, int warmupSteps, int period, float gamma, int totalSteps,
                                   float minLearningRate) {

    /** The shapes; ordinals are the kernels' SCHEDULE_* codes (op_codes.h). */
    public enum Kind {
        /** The base rate. */
        CONSTANT,
        /** Multiplied by γ every N updates. */
        STEP,
        /** Half a cosine down to a minimum. */
        COSINE
    }

    private static final LearningRateSchedule CONSTANT = new LearningRateSchedule(Kind.CONSTANT, 0, 1, 1f, 0, 0f);

    /** Validates the components for the kind. */
    public LearningRateSchedule {
        if (kind == null) throw new IllegalArgumentException("learning-rate schedule kind must not be null");
        if (warmupSteps < 0)
            throw new IllegalArgumentException("warm-up must be >= 0 steps, got " + warmupSteps);
        if (period < 1) throw new IllegalArgumentException("step schedule: decay period must be >= 1 step, got " + period);
        if (!(gamma > 0 && gamma <= 1))
            throw new IllegalArgumentException("step schedule: gamma must be in (0, 1], got " + gamma);
        if (!(minLearningRate >= 0) || !Float.isFinite(minLearningRate))
            throw new IllegalArgumentException("cosine schedule: minimum learning rate must be finite and >= 0, got "
                    + minLearningRate);
        if (kind == Kind.COSINE && totalSteps <= warmupSteps)
            throw new IllegalArgumentException("cosine schedule: total steps (" + totalSteps
                    + ", warm-up included) must exceed the warm-up (" + warmupSteps + ")");
    }

    /**
     * The optimizer's rate at every step (the default).
     *
     * @return the constant schedule
     */
    public static LearningRateSchedule constant() {
        return CONSTANT;
    }

    /**
     * lr·γ^⌊j/N⌋: multiplied by {@code gamma} every {@code everySteps} updates.
     *
     * @param everySteps N ≥ 1
     * @param gamma      γ in (0, 1]
     * @return the step schedule
     */
    public static LearningRateSchedule step(int everySteps, float gamma) {
        return new LearningRateSchedule(Kind.STEP, 0, everySteps, gamma, 0, 0f);
    }

    /**
     * Half a cosine from the optimizer's rate down to {@code minLearningRate} over {@code totalSteps} updates.
     *
     * @param totalSteps      T, the updates until the minimum (warm-up included)
     * @param minLearningRate the final rate, ≥ 0
     * @return the cosine schedule
     */
    public static LearningRateSchedule cosine(int totalSteps, float minLearningRate) {
        return new LearningRateSchedule(Kind.COSINE, 0, 1, 1f, totalSteps, minLearningRate);
    }

    /**
     * The same schedule after {@code steps} updates of linear warm-up (for COSINE, part of its total).
     *
     * @param steps W ≥ 0
     * @return the schedule with warm-up
     */
    public LearningRateSchedule withWarmup(int steps) {
        return new LearningRateSchedule(kind, steps, period, gamma, totalSteps, minLearningRate);
    }

    /**
     * The rate of the update with 1-based count {@code t}, for base rate {@code base}: the kernels'
     * {@code scheduled_learning_rate}, in float, in the same order of operations.
     *
     * @param base the optimizer's rate
     * @param t    the update's 1-based count
     * @return the rate of update t
     */
    public float learningRate(float base, int t) {
        int k = t - 1;
        if (k < warmupSteps) return base * ((float) (k + 1) / (float) warmupSteps);
        int j = k - warmupSteps;
        return switch (kind) {
            case CONSTANT -> base;
            case STEP -> base * (float) Math.pow(gamma, (float) (j / period));
            case COSINE -> {
                int span = totalSteps - warmupSteps;
                float progress = j >= span ? 1f : (float) j / (float) span;
                yield minLearningRate + (base - minLearningRate) * 0.5f * (1f + (float) Math.cos((float) Math.PI * progress));
            }
        };
    }

    /**
     * Throws unless the schedule suits an optimizer of base rate {@code base} (COSINE's minimum at most it).
     *
     * @param base the optimizer's rate
     */
    public void checkBase(float base) {
        if (kind == Kind.COSINE && minLearningRate > base)
            throw new IllegalArgumentException("cosine schedule: minimum learning rate " + minLearningRate
                    + " exceeds the optimizer's " + base);
    }
}
