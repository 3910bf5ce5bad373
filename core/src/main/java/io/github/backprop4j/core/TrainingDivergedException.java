package io.github.backprop4j.core;

/**
 * Training stopped being finite: the running loss became NaN or infinite, or the parameters did after
 * an epoch's last update. The message says where; the fields say it for programs: the epoch, the
 * optimizer step at which it was detected (and the earliest step it can have appeared at, given the
 * trainer's {@link Trainer#setLossCheckInterval loss check interval}) and the first layer holding
 * non-finite values. The diverged epoch is not counted as done. A network that stayed finite but can
 * no longer learn is reported by the subclass {@link TrainingCollapsedException}.
 *
 * <pre>
 * try {
 *     trainer.fit(train, 15);
 * } catch (TrainingDivergedException e) {
 *     System.err.println("diverged in epoch " + e.epoch() + ", layer " + e.layer() + ": lower the learning rate");
 * }
 * </pre>
 */
public class TrainingDivergedException extends RuntimeException {

    /** The 1-based epoch. */
    private final int epoch;
    /** The optimizer step at which it was seen. */
    private final long step;
    /** The earliest step it can have appeared at. */
    private final long firstSuspectStep;
    /** The step within the epoch. */
    private final int stepInEpoch;
    /** The first layer holding non-finite values, 0 for none. */
    private final int layer;

    TrainingDivergedException(String message, int epoch, long step, long firstSuspectStep, int stepInEpoch, int layer) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.firstSuspectStep = firstSuspectStep;
        this.stepInEpoch = stepInEpoch;
        this.layer = layer;
    }

    /**
     * Where it happened.
     *
     * @return the 1-based epoch in which the loss stopped being finite
     */
    public int epoch() {
        return epoch;
    }

    /**
     * When it was seen.
     *
     * @return the optimizer step (1-based, counted over the whole run) at which the non-finite value was read
     */
    public long step() {
        return step;
    }

    /**
     * The earliest step it can have appeared at.
     *
     * @return the step after the last check that was still finite
     */
    public long firstSuspectStep() {
        return firstSuspectStep;
    }

    /**
     * The step within its epoch.
     *
     * @return {@link #step()} counted within the epoch (1-based)
     */
    public int stepInEpoch() {
        return stepInEpoch;
    }

    /**
     * Where non-finite values were found first (forward activations in layer order, then gradients and
     * parameters from the output back).
     *
     * @return the 1-based layer; 0 when only the loss itself is non-finite
     */
    public int layer() {
        return layer;
    }
}
