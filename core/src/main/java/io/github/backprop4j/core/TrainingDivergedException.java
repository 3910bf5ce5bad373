package io.github.backprop4j.core;

/**
 * The training loss became NaN or infinite. The message says where; the fields say it for programs:
 * the epoch, the optimizer step at which it was detected (and the earliest step it can have appeared
 * at, given the trainer's loss check interval) and the first layer holding non-finite values.
 */
public class TrainingDivergedException extends RuntimeException {

    private final int epoch;
    private final long step;
    private final long firstSuspectStep;
    private final int stepInEpoch;
    private final int layer;

    public TrainingDivergedException(String message) {
        this(message, 0, 0, 0, 0, 0);
    }

    public TrainingDivergedException(String message, int epoch, long step, long firstSuspectStep, int stepInEpoch,
                                     int layer) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.firstSuspectStep = firstSuspectStep;
        this.stepInEpoch = stepInEpoch;
        this.layer = layer;
    }

    /** 1-based epoch in which the loss stopped being finite (0 when unknown). */
    public int epoch() {
        return epoch;
    }

    /** The optimizer step (1-based, counted over the whole run) at which the non-finite loss was read. */
    public long step() {
        return step;
    }

    /** The earliest step it can have appeared at: the step after the last check that was still finite. */
    public long firstSuspectStep() {
        return firstSuspectStep;
    }

    /** {@link #step()} counted within the epoch (1-based). */
    public int stepInEpoch() {
        return stepInEpoch;
    }

    /**
     * 1-based layer where non-finite values were found first (forward activations in layer order,
     * then gradients and parameters from the output back); 0 when only the loss itself is non-finite.
     */
    public int layer() {
        return layer;
    }
}
