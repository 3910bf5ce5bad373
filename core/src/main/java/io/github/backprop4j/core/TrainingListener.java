package io.github.backprop4j.core;

import java.util.List;

/**
 * Called by {@link Trainer#fit} as training goes: at the start, per epoch, per step and at the end.
 * Every method does nothing by default, so a listener implements what it needs. A listener runs on the
 * training thread and may use the trainer and its model (save a checkpoint, evaluate, look at
 * gradients); it ends training early with {@link Trainer#stop()} (its own rule: the built-in early
 * stopping on the validation loss is {@link Trainer#setEarlyStopping}). An exception it throws ends
 * {@code fit} with that exception.
 *
 * <pre>
 * trainer.fit(train, validation, 100, new TrainingListener() {
 *     double best = Double.POSITIVE_INFINITY;
 *
 *     public void onEpochEnd(Trainer t, Trainer.EpochResult r) {
 *         if (r.validation().loss() &lt; best) best = r.validation().loss();
 *         else t.stop();   // early stopping: the first epoch that does not improve is the last
 *     }
 * });
 * </pre>
 */
public interface TrainingListener {

    /**
     * Before the first epoch.
     *
     * @param trainer the trainer
     * @param epochs  the epochs {@code fit} was asked for
     */
    default void onFitStart(Trainer trainer, int epochs) {
    }

    /**
     * Before an epoch's first step.
     *
     * @param trainer the trainer
     * @param epoch   1-based, counted over the whole run
     */
    default void onEpochStart(Trainer trainer, int epoch) {
    }

    /**
     * After each optimizer step (keep it cheap: it runs once per batch).
     *
     * @param trainer the trainer
     * @param step    where training stands
     */
    default void onStep(Trainer trainer, Trainer.Step step) {
    }

    /**
     * After an epoch, and its validation when {@code fit} has validation data.
     *
     * @param trainer the trainer
     * @param result  the epoch's loss, time and validation
     */
    default void onEpochEnd(Trainer trainer, Trainer.EpochResult result) {
    }

    /**
     * At the end of a {@code fit} with {@link Trainer#setEarlyStopping early stopping}, once there is a
     * best epoch, before {@link #onFitEnd}: the model now holds the best epoch's parameters (and a
     * checkpoint saved from here on holds them as its model).
     *
     * @param trainer the trainer
     * @param state   the best epoch and its validation loss, and whether the patience ran out
     *                ({@link Trainer.EarlyStopping#stopped()}) or the epochs did
     */
    default void onBestEpochKept(Trainer trainer, Trainer.EarlyStopping state) {
    }

    /**
     * After the last epoch, or the one that ended with {@link Trainer#stop()}; not after an exception.
     *
     * @param trainer the trainer
     * @param history every epoch this {@code fit} ran
     */
    default void onFitEnd(Trainer trainer, List<Trainer.EpochResult> history) {
    }
}
