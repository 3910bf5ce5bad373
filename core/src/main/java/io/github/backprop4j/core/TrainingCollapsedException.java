package io.github.backprop4j.core;

/**
 * Training stayed finite but the network has stopped learning, as a learning rate far too high leaves
 * it when it has not overflowed. After each epoch the trainer forwards up to 512 training rows spread
 * over the set (an eighth of a smaller set; none below 16 rows), and stops when either
 * <ul>
 * <li>in at least 90% of them every ReLU of some hidden layer is 0, so the network gives those rows one
 * output per such layer, and gets at least a tenth of them wrong whatever those outputs are; or</li>
 * <li>in at least 99% of them some hidden layer has every unit dead or saturated, and the first layer's
 * weight gradient in the epoch's last step was (all but) 0 while the loss still had one.</li>
 * </ul>
 * {@link #layer()} is the hidden layer that does so on the most rows; the epoch is not counted as done.
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
