package io.github.backprop4j.core;

import io.github.backprop4j.core.spi.UpdateRule;
import java.util.Locale;

/**
 * Optimizer settings. The update rules (what every backend's {@link Backend#optimizerUpdate} computes), with
 * g = grad + l2·param when {@code l2 > 0} (classic L2 weight decay folded into the gradient):
 * <pre>
 * SGD:       p ← p − lr·g
 * MOMENTUM:  v ← μ·v + g;  p ← p − lr·v                 (PyTorch's convention)
 * NESTEROV:  v ← μ·v + g;  p ← p − lr·(g + μ·v)
 * ADAM:      m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *            p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)       (t: this update's 1-based count)
 * ADAMW:     as ADAM, plus decoupled decay p ← p − lr·wd·p before the step (wd = {@code decoupledDecay})
 * </pre>
 * Weight decay of either kind applies to weight matrices only; biases are never decayed. lr is the
 * update's rate by the state's {@link LearningRateSchedule} (constant unless one is set), computed on the
 * device from the step count; AdamW's decay uses that rate too.
 */
public record Optimizer(Kind kind, float learningRate, float momentum, float beta1, float beta2, float epsilon,
                        float l2, float decoupledDecay) {

    public enum Kind { SGD, MOMENTUM, NESTEROV, ADAM, ADAMW }

    public Optimizer {
        if (kind == null) throw new IllegalArgumentException("optimizer kind must not be null");
        check("learning rate", learningRate, false);
        check("momentum", momentum, true);
        check("beta1", beta1, true);
        check("beta2", beta2, true);
        check("l2", l2, true);
        check("weight decay", decoupledDecay, true);
        if (!(epsilon > 0) || !Float.isFinite(epsilon))
            throw new IllegalArgumentException("epsilon must be finite and > 0, got " + epsilon);
        if (momentum >= 1 || beta1 >= 1 || beta2 >= 1)
            throw new IllegalArgumentException("momentum and betas must be < 1, got momentum=" + momentum
                    + " beta1=" + beta1 + " beta2=" + beta2);
    }

    private static void check(String what, float v, boolean zeroAllowed) {
        if (!Float.isFinite(v) || v < 0 || (!zeroAllowed && v == 0))
            throw new IllegalArgumentException(what + " must be finite and " + (zeroAllowed ? ">= 0" : "> 0")
                    + ", got " + v);
    }

    public static Optimizer sgd(float lr) {
        return new Optimizer(Kind.SGD, lr, 0, 0.9f, 0.999f, 1e-8f, 0, 0);
    }

    public static Optimizer momentum(float lr, float momentum) {
        return new Optimizer(Kind.MOMENTUM, lr, momentum, 0.9f, 0.999f, 1e-8f, 0, 0);
    }

    public static Optimizer nesterov(float lr, float momentum) {
        return new Optimizer(Kind.NESTEROV, lr, momentum, 0.9f, 0.999f, 1e-8f, 0, 0);
    }

    public static Optimizer adam(float lr) {
        return new Optimizer(Kind.ADAM, lr, 0, 0.9f, 0.999f, 1e-8f, 0, 0);
    }

    public static Optimizer adamW(float lr, float weightDecay) {
        return new Optimizer(Kind.ADAMW, lr, 0, 0.9f, 0.999f, 1e-8f, 0, weightDecay);
    }

    /** The same optimizer with classic L2 decay (added to the gradient of weights). */
    public Optimizer withL2(float l2) {
        return new Optimizer(kind, learningRate, momentum, beta1, beta2, epsilon, l2, decoupledDecay);
    }

    public Optimizer withLearningRate(float lr) {
        return new Optimizer(kind, lr, momentum, beta1, beta2, epsilon, l2, decoupledDecay);
    }

    /** Number of per-parameter state slots on the device: 0 (SGD), 1 (velocity) or 2 (Adam's m and v). */
    public int slots() {
        return switch (kind) {
            case SGD -> 0;
            case MOMENTUM, NESTEROV -> 1;
            case ADAM, ADAMW -> 2;
        };
    }

    /** Allocates the (zeroed) device state for one parameter matrix: its slots and its step count. */
    public State newState(Backend backend, int rows, int cols, boolean isWeight) {
        try (var _ = backend.enterHost("newState")) {
            Matrix[] s = new Matrix[slots()];
            for (int i = 0; i < s.length; i++) s[i] = backend.allocate(rows, cols);
            return new State(this, backend, s, backend.allocate(1, 1), isWeight);
        }
    }

    public static Optimizer.Kind parseKind(String text) {
        try {
            return Kind.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown optimizer '" + text
                    + "': expected sgd, momentum, nesterov, adam or adamw");
        }
    }

    /**
     * Per-parameter optimizer state, resident on the device: the slots and the step count t (the number
     * of updates applied, Adam's t), which the device's update advances; nothing about an update happens
     * on the host. {@link #step()} and {@link #setStep} are transfers (one float each way).
     */
    public static final class State implements AutoCloseable {
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
         */
        public void setSchedule(LearningRateSchedule schedule) {
            if (schedule == null) throw new IllegalArgumentException("learning-rate schedule must not be null");
            schedule.checkBase(optimizer.learningRate);
            float l2 = decayed ? optimizer.l2 : 0f;
            float weightDecay = decayed && optimizer.kind == Kind.ADAMW ? optimizer.decoupledDecay : 0f;
            this.rule = new UpdateRule(optimizer.kind, optimizer.learningRate, optimizer.momentum, optimizer.beta1,
                    optimizer.beta2, optimizer.epsilon, l2, weightDecay, schedule);
        }

        /** The schedule in effect ({@link LearningRateSchedule#constant()} unless the trainer set one). */
        public LearningRateSchedule schedule() {
            return rule.schedule();
        }

        public Optimizer optimizer() {
            return optimizer;
        }

        /** Slot i: 0 = velocity (momentum) or m (Adam); 1 = v (Adam). */
        public Matrix slot(int i) {
            return slots[i];
        }

        public int slotCount() {
            return slots.length;
        }

        /** Whether weight decay applies (weights yes, biases no). */
        public boolean decayed() {
            return decayed;
        }

        /** Updates applied so far, read from the device: a download, which waits for queued work. */
        public long step() {
            float[] t = new float[1];
            backend.download(stepCount, t);
            return Float.floatToRawIntBits(t[0]) & 0xffffffffL;
        }

        /** Sets the step count on the device (an upload), e.g. when resuming from a checkpoint. */
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

        /** Effective L2 coefficient for this parameter. */
        public float l2() {
            return rule.l2();
        }

        /** Effective decoupled (AdamW) decay for this parameter. */
        public float decoupledDecay() {
            return decayed && optimizer.kind == Kind.ADAMW ? optimizer.decoupledDecay : 0f;
        }

        @Override
        public void close() {
            try (var _ = backend.enterRelease("close optimizer state")) {
                for (Matrix m : slots) m.close();
                stepCount.close();
            }
        }
    }
}
