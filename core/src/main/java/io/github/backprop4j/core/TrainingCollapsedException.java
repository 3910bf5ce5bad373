package io.github.backprop4j.core;

/**
 * Training stayed finite but the network has stopped learning: after an epoch, the loss still had a
 * gradient but none reached the first layer (its weight gradient was exactly 0 in the last step), and
 * in at least 99% of the training rows checked some hidden layer has every unit dead (ReLU output 0)
 * or saturated (sigmoid 0 or 1, tanh ±1), so no gradient flows back through it for those rows. It is
 * what a learning rate far too high usually leaves when it has not overflowed. {@link #layer()} is the
 * hidden layer that blocks the most rows; the epoch is not counted as done.
 *
 * <pre>
 * try {
 *     trainer.fit(train, 15);
 * } catch (TrainingCollapsedException e) {
 *     System.err.println("layer " + e.layer() + " died in epoch " + e.epoch() + ": lower the learning rate");
 * }
 * </pre>
 */
public final class TrainingCollapsedException extends TrainingDivergedException {

    TrainingCollapsedException(String message, int epoch, long step, int stepInEpoch, int layer) {
        super(message, epoch, step, step, stepInEpoch, layer);
    }
}
