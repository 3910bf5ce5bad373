package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.UpdateRule;

/**
 * An optimizer's settings: one small record per rule, each validating its components. The updates
 * every backend's {@link Backend#optimizerUpdate} computes, with g = grad + l2·param where a rule has
 * {@code l2 > 0} (classic L2 weight decay folded into the gradient):
 * <pre>
 * Sgd:       p ← p − lr·g
 * Momentum:  v ← μ·v + g;  p ← p − lr·v                 (PyTorch's convention)
 * Nesterov:  v ← μ·v + g;  p ← p − lr·(g + μ·v)
 * Adam:      m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *            p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)       (t: this update's 1-based count)
 * AdamW:     as Adam (no l2), plus decoupled decay p ← p − lr·wd·p before the step
 * </pre>
 * Weight decay of either kind applies to weight matrices only; biases are never decayed. lr is the
 * update's rate by the state's {@link LearningRateSchedule} (constant unless one is set), computed on the
 * device from the step count; AdamW's decay uses that rate too.
 *
 * <pre>
 * Trainer trainer = new Trainer(model, new Optimizer.Adam(0.001f), 128);
 * Trainer fine = new Trainer(model, Optimizer.nesterov(0.05f, 0.9f), 256);
 * </pre>
 */
public sealed interface Optimizer
        permits Optimizer.Sgd, Optimizer.Momentum, Optimizer.Nesterov, Optimizer.Adam, Optimizer.AdamW {

    /**
     * The step size.
     *
     * @return the learning rate, finite and &gt; 0
     */
    float learningRate();

    /**
     * The same optimizer with another learning rate (e.g. a schedule's next value, or a resumed run's
     * override); its device state keeps its shape.
     *
     * @param learningRate the new rate, finite and &gt; 0
     * @return a new optimizer of the same kind
     */
    Optimizer withLearningRate(float learningRate);

    /**
     * The rule's name, as checkpoints and the command line write it.
     *
     * @return "sgd", "momentum", "nesterov", "adam" or "adamw"
     */
    default String name() {
        return switch (this) {
            case Sgd _ -> "sgd";
            case Momentum _ -> "momentum";
            case Nesterov _ -> "nesterov";
            case Adam _ -> "adam";
            case AdamW _ -> "adamw";
        };
    }

    /**
     * Per-parameter state slots the rule keeps on the device.
     *
     * @return 0 (SGD), 1 (velocity) or 2 (Adam's m and v)
     */
    default int slots() {
        return switch (this) {
            case Sgd _ -> 0;
            case Momentum _, Nesterov _ -> 1;
            case Adam _, AdamW _ -> 2;
        };
    }

    /**
     * Allocates the (zeroed) device state for one parameter matrix: its slots and its step count.
     * {@link Trainer} does this for every layer; call it to drive {@link Backend#optimizerUpdate} yourself.
     *
     * @param backend  where the state lives
     * @param rows     the parameter's rows
     * @param cols     the parameter's columns
     * @param isWeight whether the parameter is a weight matrix (decayed) rather than a bias
     * @return the new state, to close when done
     */
    default State newState(Backend backend, int rows, int cols, boolean isWeight) {
        try (var _ = backend.enterHost("newState")) {
            Matrix[] s = new Matrix[slots()];
            Matrix count = null;
            try {
                for (int i = 0; i < s.length; i++) s[i] = backend.allocate(rows, cols);
                count = backend.allocate(1, 1);
            } catch (RuntimeException | Error e) {
                for (Matrix m : s) if (m != null) m.close();
                throw e;
            }
            return new State(this, backend, s, count, isWeight);
        }
    }

    /**
     * Plain gradient descent.
     *
     * @param learningRate the step size
     * @return {@code new Sgd(learningRate, 0)}
     */
    static Sgd sgd(float learningRate) {
        return new Sgd(learningRate, 0);
    }

    /**
     * Heavy-ball momentum.
     *
     * @param learningRate the step size
     * @param momentum     μ in [0, 1)
     * @return {@code new Momentum(learningRate, momentum, 0)}
     */
    static Momentum momentum(float learningRate, float momentum) {
        return new Momentum(learningRate, momentum, 0);
    }

    /**
     * Nesterov momentum.
     *
     * @param learningRate the step size
     * @param momentum     μ in [0, 1)
     * @return {@code new Nesterov(learningRate, momentum, 0)}
     */
    static Nesterov nesterov(float learningRate, float momentum) {
        return new Nesterov(learningRate, momentum, 0);
    }

    /**
     * Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8.
     *
     * @param learningRate the step size
     * @return {@code new Adam(learningRate)}
     */
    static Adam adam(float learningRate) {
        return new Adam(learningRate);
    }

    /**
     * AdamW with β1 = 0.9, β2 = 0.999, ε = 1e-8.
     *
     * @param learningRate the step size
     * @param weightDecay  the decoupled decay wd ≥ 0
     * @return {@code new AdamW(learningRate, weightDecay)}
     */
    static AdamW adamW(float learningRate, float weightDecay) {
        return new AdamW(learningRate, weightDecay);
    }

    /**
     * Stochastic gradient descent.
     *
     * @param learningRate the step size, finite and &gt; 0
     * @param l2           L2 decay added to the weights' gradient, finite and ≥ 0
     */
    record Sgd(float learningRate, float l2) implements Optimizer {
        /** Validates the components. */
        public Sgd {
            positive("learning rate", learningRate);
            nonNegative("l2", l2);
        }

        /**
         * SGD without decay.
         *
         * @param learningRate the step size
         */
        public Sgd(float learningRate) {
            this(learningRate, 0);
        }

        @Override
        public Sgd withLearningRate(float learningRate) {
            return new Sgd(learningRate, l2);
        }
    }

    /**
     * Momentum (heavy ball), PyTorch's convention.
     *
     * @param learningRate the step size, finite and &gt; 0
     * @param momentum     μ, in [0, 1)
     * @param l2           L2 decay added to the weights' gradient, finite and ≥ 0
     */
    record Momentum(float learningRate, float momentum, float l2) implements Optimizer {
        /** Validates the components. */
        public Momentum {
            positive("learning rate", learningRate);
            belowOne("momentum", momentum);
            nonNegative("l2", l2);
        }

        @Override
        public Momentum withLearningRate(float learningRate) {
            return new Momentum(learningRate, momentum, l2);
        }
    }

    /**
     * Nesterov momentum.
     *
     * @param learningRate the step size, finite and &gt; 0
     * @param momentum     μ, in [0, 1)
     * @param l2           L2 decay added to the weights' gradient, finite and ≥ 0
     */
    record Nesterov(float learningRate, float momentum, float l2) implements Optimizer {
        /** Validates the components. */
        public Nesterov {
            positive("learning rate", learningRate);
            belowOne("momentum", momentum);
            nonNegative("l2", l2);
        }

        @Override
        public Nesterov withLearningRate(float learningRate) {
            return new Nesterov(learningRate, momentum, l2);
        }
    }

    /**
     * Adam.
     *
     * @param learningRate the step size, finite and &gt; 0
     * @param beta1        first-moment decay, in [0, 1)
     * @param beta2        second-moment decay, in [0, 1)
     * @param epsilon      added to the denominator, finite and &gt; 0
     * @param l2           L2 decay added to the weights' gradient, finite and ≥ 0
     */
    record Adam(float learningRate, float beta1, float beta2, float epsilon, float l2) implements Optimizer {
        /** Validates the components. */
        public Adam {
            positive("learning rate", learningRate);
            belowOne("beta1", beta1);
            belowOne("beta2", beta2);
            positive("epsilon", epsilon);
            nonNegative("l2", l2);
        }

        /**
         * Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8 and no decay.
         *
         * @param learningRate the step size
         */
        public Adam(float learningRate) {
            this(learningRate, 0.9f, 0.999f, 1e-8f, 0);
        }

        @Override
        public Adam withLearningRate(float learningRate) {
            return new Adam(learningRate, beta1, beta2, epsilon, l2);
        }
    }

    /**
     * AdamW: Adam with decoupled weight decay.
     *
     * @param learningRate the step size, finite and &gt; 0
     * @param beta1        first-moment decay, in [0, 1)
     * @param beta2        second-moment decay, in [0, 1)
     * @param epsilon      added to the denominator, finite and &gt; 0
     * @param weightDecay  wd: weights shrink by lr·wd·p before each step, finite and ≥ 0
     */
    record AdamW(float learningRate, float beta1, float beta2, float epsilon, float weightDecay) implements Optimizer {
        /** Validates the components. */
        public AdamW {
            positive("learning rate", learningRate);
            belowOne("beta1", beta1);
            belowOne("beta2", beta2);
            positive("epsilon", epsilon);
            nonNegative("weight decay", weightDecay);
        }

        /**
         * AdamW with β1 = 0.9, β2 = 0.999, ε = 1e-8.
         *
         * @param learningRate the step size
         * @param weightDecay  the decoupled decay
         */
        public AdamW(float learningRate, float weightDecay) {
            this(learningRate, 0.9f, 0.999f, 1e-8f, weightDecay);
        }

        @Override
        public AdamW withLearningRate(float learningRate) {
            return new AdamW(learningRate, beta1, beta2, epsilon, weightDecay);
        }
    }

    private static void positive(String what, float v) {
        if (!(v > 0) || !Float.isFinite(v))
            throw new IllegalArgumentException(what + " must be finite and > 0, got " + v);
    }

    private static void nonNegative(String what, float v) {
        if (!(v >= 0) || !Float.isFinite(v))
            throw new IllegalArgumentException(what + " must be finite and >= 0, got " + v);
    }

    private static void belowOne(String what, float v) {
        if (!(v >= 0 && v < 1)) throw new IllegalArgumentException(what + " must be in [0, 1), got " + v);
    }

    /**
     * Per-parameter optimizer state, resident on the device: the slots and the step count t (the number
     * of updates applied, Adam's t), which the device's update advances; nothing about an update happens
     * on the host. {@link #step()} and {@link #setStep} are transfers (one float each way).
     *
     * <pre>
     * try (Optimizer.State s = Optimizer.adam(0.01f).newState(backend, w.rows(), w.cols(), true)) {
     *     backend.optimizerUpdate(s, w, dW);   // one Adam step on the device
     * }
     * </pre>
     */
    final class State implements AutoCloseable {
        /** t is an int32 held in the bits of a 1×1 float matrix. */
        public static final long MAX_STEP = Integer.MAX_VALUE;

        private final Optimizer optimizer;
        private final Backend backend;
        private final Matrix[] slots;
        private final Matrix stepCount;
        private final boolean decayed;
        private UpdateRule rule;

        State(Optimizer optimizer, Backend backend, Matrix[] slots, Matrix stepCount, boolean decayed) {
            this.optimizer = optimizer;
            this.backend = backend;
            this.slots = slots;
            this.stepCount = stepCount;
            this.decayed = decayed;
            setSchedule(LearningRateSchedule.constant());
        }

        /**
         * The schedule the device applies to the learning rate from the next update on, by the device's
         * step count (so a count restored with {@link #setStep} continues it exactly). The schedule's
         * constants are arguments of the update: a step recorded with {@link Backend#replay} before this call
         * keeps the old ones ({@link Trainer#setLearningRateSchedule} drops its recordings).
         *
         * @param schedule the schedule; {@link LearningRateSchedule#constant()} for none
         */
        public void setSchedule(LearningRateSchedule schedule) {
            if (schedule == null) throw new IllegalArgumentException("learning-rate schedule must not be null");
            schedule.checkBase(optimizer.learningRate());
            this.rule = rule(optimizer, decayed, schedule);
        }

        /**
         * The schedule in effect.
         *
         * @return {@link LearningRateSchedule#constant()} unless one was set
         */
        public LearningRateSchedule schedule() {
            return rule.schedule();
        }

        /** The coefficients for the device: decay only for weights (AdamW's wd scaled on the device by lr_t). */
        private static UpdateRule rule(Optimizer optimizer, boolean decayed, LearningRateSchedule schedule) {
            float lr = optimizer.learningRate();
            return switch (optimizer) {
                case Sgd s -> new UpdateRule(UpdateRule.Kind.SGD, lr, 0, 0, 0, 0, decayed ? s.l2() : 0, 0, schedule);
                case Momentum m -> new UpdateRule(UpdateRule.Kind.MOMENTUM, lr, m.momentum(), 0, 0, 0,
                        decayed ? m.l2() : 0, 0, schedule);
                case Nesterov n -> new UpdateRule(UpdateRule.Kind.NESTEROV, lr, n.momentum(), 0, 0, 0,
                        decayed ? n.l2() : 0, 0, schedule);
                case Adam a -> new UpdateRule(UpdateRule.Kind.ADAM, lr, 0, a.beta1(), a.beta2(), a.epsilon(),
                        decayed ? a.l2() : 0, 0, schedule);
                case AdamW a -> new UpdateRule(UpdateRule.Kind.ADAMW, lr, 0, a.beta1(), a.beta2(), a.epsilon(), 0,
                        decayed ? a.weightDecay() : 0, schedule);
            };
        }

        /**
         * The settings this state was made for.
         *
         * @return the optimizer
         */
        public Optimizer optimizer() {
            return optimizer;
        }

        /**
         * One slot's device buffer.
         *
         * @param i 0 = velocity (momentum) or m (Adam); 1 = v (Adam)
         * @return the slot, shaped like the parameter
         */
        public Matrix slot(int i) {
            return slots[i];
        }

        /**
         * The number of slots.
         *
         * @return {@link Optimizer#slots()}
         */
        public int slotCount() {
            return slots.length;
        }

        /**
         * Whether weight decay applies (weights yes, biases no).
         *
         * @return true for a weight matrix
         */
        public boolean decayed() {
            return decayed;
        }

        /**
         * Updates applied so far, read from the device: a download, which waits for queued work.
         *
         * @return t
         */
        public long step() {
            float[] t = new float[1];
            backend.download(stepCount, t);
            return Float.floatToRawIntBits(t[0]) & 0xffffffffL;
        }

        /**
         * Sets the step count on the device (an upload), e.g. when resuming from a checkpoint.
         *
         * @param step t, in [0, {@link #MAX_STEP}]
         */
        public void setStep(long step) {
            if (step < 0 || step > MAX_STEP)
                throw new IllegalArgumentException("optimizer step must be in [0, " + MAX_STEP + "], got " + step);
            backend.upload(new float[]{Float.intBitsToFloat((int) step)}, stepCount);
        }

        /** The 1×1 device buffer holding t. */
        Matrix stepCount() {
            return stepCount;
        }

        /** The coefficients the device applies to this parameter. */
        UpdateRule rule() {
            return rule;
        }

        /**
         * The L2 coefficient applied to this parameter's gradient.
         *
         * @return the rule's l2 for a weight matrix, 0 for a bias or a rule without one
         */
        public float l2() {
            return rule.l2();
        }

        /** Frees the slots and the step count. */
        @Override
        public void close() {
            try (var _ = backend.enterRelease("close optimizer state")) {
                for (Matrix m : slots) m.close();
                stepCount.close();
            }
        }
    }
}
