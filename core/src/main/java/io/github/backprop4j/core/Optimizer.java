package io.github.backprop4j.core;

import java.util.Locale;

/**
 * Optimizer settings. The update rules (what every backend's {@link Backend#update} computes), with
 * g = grad + l2·param when {@code l2 > 0} (classic L2 weight decay folded into the gradient):
 * <pre>
 * SGD:       p ← p − lr·g
 * MOMENTUM:  v ← μ·v + g;  p ← p − lr·v                 (PyTorch's convention)
 * NESTEROV:  v ← μ·v + g;  p ← p − lr·(g + μ·v)
 * ADAM:      m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *            p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
 * ADAMW:     as ADAM, plus decoupled decay p ← p − lr·wd·p before the step (wd = {@code decoupledDecay})
 * </pre>
 * Weight decay of either kind applies to weight matrices only; biases are never decayed.
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

    /** Allocates the (zeroed) device state for one parameter matrix. */
    public State newState(Backend backend, int rows, int cols, boolean isWeight) {
        Matrix[] s = new Matrix[slots()];
        for (int i = 0; i < s.length; i++) s[i] = backend.allocate(rows, cols);
        return new State(this, s, isWeight);
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
     * Per-parameter optimizer state, resident on the device. {@code step} counts the updates applied
     * (Adam's t); it is advanced by {@link AbstractBackend#update} before the backend's update runs.
     */
    public static final class State implements AutoCloseable {
        private final Optimizer optimizer;
        private final Matrix[] slots;
        private final boolean decayed;
        private long step;

        State(Optimizer optimizer, Matrix[] slots, boolean decayed) {
            this.optimizer = optimizer;
            this.slots = slots;
            this.decayed = decayed;
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

        public long step() {
            return step;
        }

        /** Restores the step counter, e.g. when resuming from a checkpoint. */
        public void setStep(long step) {
            if (step < 0) throw new IllegalArgumentException("optimizer step must be >= 0, got " + step);
            this.step = step;
        }

        void advance() {
            step++;
        }

        /** Effective L2 coefficient for this parameter. */
        public float l2() {
            return decayed ? optimizer.l2 : 0f;
        }

        /** Effective decoupled (AdamW) decay for this parameter. */
        public float decoupledDecay() {
            return decayed && optimizer.kind == Kind.ADAMW ? optimizer.decoupledDecay : 0f;
        }

        @Override
        public void close() {
            for (Matrix m : slots) m.close();
        }
    }
}
