package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;

/**
 * An optimizer and the training loop, written once against {@link Backend}. One step, top to bottom
 * (the {@code Backend} call in parentheses):
 * <pre>
 * forward   Z_l = A_{l−1}·W_l + 1·b_lᵀ,  A_l = g_l(Z_l)                     (denseForward)
 *           hidden layers with dropout pass A_l ⊙ M_l on, M_l drawn on the device (dropoutForward)
 * loss      δ_L = ∂J/∂Z_L (÷ this batch's n); the loss sum stays on the device (lossGradient, and
 *           activationBackward where the loss gives ∂J/∂A_L)
 * backward  dW_l = A_{l−1}ᵀ·δ_l,  db_l = 1ᵀ·δ_l                               (denseGradients)
 *           δ_{l−1} = (δ_l·W_lᵀ) [⊙ M_{l−1}] ⊙ g'_{l−1}(Z_{l−1})            (gemm, [dropoutBackward,] activationBackward)
 * clip      ‖g‖² = Σ ‖dW_l‖² + ‖db_l‖² into a device scalar, when clipping is set   (sumOfSquares)
 * update    W_l, b_l ← optimizer(W_l, dW_l [· min(1, c/‖g‖)]) at the scheduled rate; state, step count,
 *           rate and clipping factor all on the device                         (optimizerUpdate)
 * </pre>
 * Dropout applies to training steps only, never to {@link Model#evaluate} or {@link Model#predict}.
 * Per step the host uploads the batch and nothing else; the summed loss (one float) is read back every
 * {@link #setLossCheckInterval k} steps and at the end of the epoch, and a non-finite value stops
 * training with a {@link TrainingDivergedException} naming the epoch, the step and the layer; a network
 * left unable to learn (a hidden layer dead or saturated on almost every row) stops it after the epoch
 * with a {@link TrainingCollapsedException}. The last, partial batch of an epoch gets its own buffers so that
 * δ is scaled by its true size.
 *
 * <p>Epoch e (0-based, counted over the whole run, resumed ones included) visits the rows in the order
 * shuffled by {@code new Random(seed·1000003 + e)}, so a run saved with {@link #save} and continued
 * with {@link #resume} trains exactly as one that never stopped (schedule, dropout masks, clipping and
 * early stopping included). Features are raw: the model's {@link Model#normalization() normalization}
 * is applied to every batch, and a regression model's {@link Model#targetNormalization() target
 * normalization} to its targets. {@link #setEarlyStopping Early stopping} watches the validation loss.
 *
 * <pre>
 * try (Trainer trainer = new Trainer(model, Optimizer.adam(0.001f), 128, 42)) {
 *     List&lt;Trainer.EpochResult&gt; history = trainer.fit(train, test, 15, new TrainingListener() {
 *         public void onEpochEnd(Trainer t, Trainer.EpochResult r) {
 *             System.out.println(r.epoch() + ": " + r.loss() + " / " + r.validation().accuracy());
 *         }
 *     });
 *     trainer.save(Path.of("run.safetensors"));
 * }
 * </pre>
 */
public final class Trainer implements AutoCloseable {

    /**
     * One epoch's outcome.
     *
     * @param epoch      1-based, counted over the whole run
     * @param loss       mean training loss over the epoch's samples
     * @param samples    training rows visited
     * @param seconds    wall time of the training steps (not of the validation)
     * @param validation the model on the validation data after the epoch, or null when fit had none
     */
    public record EpochResult(int epoch, double loss, int samples, double seconds, Model.Evaluation validation) {
        /**
         * Training throughput.
         *
         * @return samples / seconds
         */
        public double samplesPerSecond() {
            return samples / seconds;
        }
    }

    /**
     * Early stopping's progress ({@link #setEarlyStopping}): part of the training state a checkpoint
     * saves, so a resumed run stops where the uninterrupted one would have.
     *
     * @param patience                 epochs without a lower validation loss that end training, ≥ 1
     * @param bestLoss                 the lowest validation loss so far (+∞ before the first epoch)
     * @param bestEpoch                its epoch, 1-based over the whole run (0 before the first)
     * @param epochsWithoutImprovement epochs since the best one
     */
    public record EarlyStopping(int patience, double bestLoss, int bestEpoch, int epochsWithoutImprovement) {
        /** Validates the components. */
        public EarlyStopping {
            if (patience < 1) throw new IllegalArgumentException("early stopping patience must be >= 1 epoch, got " + patience);
            if (bestEpoch < 0 || epochsWithoutImprovement < 0 || Double.isNaN(bestLoss)
                    || (bestEpoch == 0) != (bestLoss == Double.POSITIVE_INFINITY))
                throw new IllegalArgumentException("early stopping state: best loss " + bestLoss + " at epoch " + bestEpoch
                        + ", " + epochsWithoutImprovement + " epochs without improvement is inconsistent");
        }

        /**
         * Whether the patience is used up: fit ends, keeping the best epoch's parameters.
         *
         * @return epochsWithoutImprovement ≥ patience
         */
        public boolean stopped() {
            return epochsWithoutImprovement >= patience;
        }
    }

    /**
     * One optimizer step, as {@link TrainingListener#onStep} sees it.
     *
     * @param epoch       1-based epoch over the whole run
     * @param stepInEpoch 1-based step within the epoch
     * @param step        optimizer steps taken over the whole run, this one included
     * @param rows        rows in this step's batch
     */
    public record Step(int epoch, int stepInEpoch, long step, int rows) {
    }

    /**
     * Host copies of one batch's gradients, for checks and diagnostics.
     *
     * @param loss the batch's mean loss
     * @param dW   per layer, row-major [fan-in × fan-out]
     * @param db   per layer, [fan-out]
     */
    public record Gradients(double loss, float[][] dW, float[][] db) {
    }

    /**
     * A batch uploaded once, to run {@link #step(Batch)} on it again and again without transfers
     * (benchmarks, profiling). It owns its device buffers: close it, or its trainer, to free them.
     */
    public static final class Batch implements AutoCloseable {
        private final Trainer owner;
        private final Workspace workspace;

        private Batch(Trainer owner, Workspace workspace) {
            this.owner = owner;
            this.workspace = workspace;
        }

        /**
         * Its size.
         *
         * @return rows in the batch
         */
        public int rows() {
            return workspace.rows;
        }

        /** Frees its device buffers. Idempotent. */
        @Override
        public void close() {
            if (owner.batches.remove(this)) workspace.close();
        }
    }

    private final Backend backend;
    private final Model model;
    private final Network net;
    private final Optimizer optimizer;
    private final int batchSize;
    private final long seed;
    private final Matrix[] dW;
    private final Matrix[] db;
    private final Optimizer.State[] weightState;
    private final Optimizer.State[] biasState;
    private final Matrix lossSum;
    /** The step's squared global gradient norm, when clipping (1 × 1, on the device). */
    private final Matrix gradientSquaredNorm;
    private final float[] zeroLoss = new float[1];
    private final float[] lossHost = new float[1];
    private final Map<Integer, Workspace> workspaces = new HashMap<>();
    private final List<Batch> batches = new ArrayList<>();
    private int epochsDone;
    /** Optimizer steps run (plus any restored count), kept on the host for messages: the device has the truth. */
    private long optimizerStep;
    private boolean stepRecording = true;
    private int lossCheckInterval = 50;
    private volatile boolean stopRequested;
    private boolean closed;
    /** Whether a step has run: what a recorded step does is fixed from then on. */
    private boolean stepped;
    private long dropoutSeed;
    /** The global norm gradients are clipped to; 0 for no clipping. */
    private float maxGradientNorm;
    /** Early stopping's state; null when off. */
    private EarlyStopping earlyStopping;
    /** Host copies of the best epoch's parameters ([0] weights, [1] biases, per layer); null before one. */
    private float[][][] bestParameters;
    /**
     * Host copies of the last epoch's parameters while the model holds the best epoch's (after a fit
     * with early stopping): where training goes on from, put back before the next step; else null.
     */
    private float[][][] parkedParameters;

    /**
     * A trainer shuffling with seed 0; see {@link #Trainer(Model, Optimizer, int, long)}.
     *
     * @param model     the parameters to train
     * @param optimizer the update rule
     * @param batchSize rows per step
     */
    public Trainer(Model model, Optimizer optimizer, int batchSize) {
        this(model, optimizer, batchSize, 0);
    }

    /**
     * A trainer for {@code model}: allocates the gradients and the optimizer's state on the model's
     * backend. Batches hold {@code batchSize} rows (an epoch's last batch, and any data set smaller than
     * the batch, fewer: buffers are sized by the rows a batch really has).
     *
     * @param model     the parameters to train
     * @param optimizer the update rule
     * @param batchSize rows per step, ≥ 1
     * @param seed      seeds the shuffle of every epoch
     */
    public Trainer(Model model, Optimizer optimizer, int batchSize, long seed) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(optimizer, "optimizer must not be null");
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        model.checkOpen("new Trainer");
        this.model = model;
        this.backend = model.backend();
        this.net = model.network();
        this.optimizer = optimizer;
        this.batchSize = batchSize;
        this.seed = seed;
        int depth = net.depth();
        dW = new Matrix[depth];
        db = new Matrix[depth];
        weightState = new Optimizer.State[depth];
        biasState = new Optimizer.State[depth];
        Matrix loss = null, norm = null;
        try (var _ = backend.enterHost("new Trainer")) {
            for (int l = 0; l < depth; l++) {
                dW[l] = backend.allocate(net.fanIn(l), net.fanOut(l));
                db[l] = backend.allocate(1, net.fanOut(l));
                weightState[l] = optimizer.newState(backend, net.fanIn(l), net.fanOut(l), true);
                biasState[l] = optimizer.newState(backend, 1, net.fanOut(l), false);
            }
            loss = backend.allocate(1, 1);
            norm = backend.allocate(1, 1);
        } catch (RuntimeException | Error e) {
            releaseState(loss, norm);
            throw e;
        }
        lossSum = loss;
        gradientSquaredNorm = norm;
    }

    /**
     * Continues a run from a training checkpoint ({@link #save}): the checkpoint's optimizer with its
     * state and step count, batch size, seed, epochs done, learning-rate schedule, dropout seed, gradient
     * clipping and early-stopping state. With early stopping, a checkpoint's model holds the best epoch's
     * parameters and its training part the last epoch's: resuming sets the model's parameters to the
     * last epoch's, where the run continues.
     *
     * @param model      the checkpoint's model, usually {@code checkpoint.model(backend)}
     * @param checkpoint read with {@link Checkpoint#read}
     * @return the trainer, whose next epoch is the one after the checkpoint's
     */
    public static Trainer resume(Model model, Checkpoint checkpoint) {
        Objects.requireNonNull(checkpoint, "checkpoint must not be null");
        return resume(model, checkpoint, checkpoint.training().orElseThrow(() -> noTrainingState(checkpoint)).optimizer());
    }

    /**
     * As {@link #resume(Model, Checkpoint)} with other settings for the same rule, e.g. a new learning
     * rate: the optimizer's state continues as saved.
     *
     * @param model      the checkpoint's model
     * @param checkpoint read with {@link Checkpoint#read}
     * @param optimizer  the same kind of optimizer as the checkpoint's
     * @return the trainer
     * @throws IllegalArgumentException if the optimizer's kind, or the model's network, is not the checkpoint's
     */
    public static Trainer resume(Model model, Checkpoint checkpoint, Optimizer optimizer) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(checkpoint, "checkpoint must not be null");
        Objects.requireNonNull(optimizer, "optimizer must not be null");
        Checkpoint.Training saved = checkpoint.training().orElseThrow(() -> noTrainingState(checkpoint));
        if (!model.network().equals(checkpoint.network()))
            throw new IllegalArgumentException("resume: the model (" + model.network().describe() + ") is not the "
                    + "checkpoint's network (" + checkpoint.network().describe() + ")");
        if (!optimizer.name().equals(saved.optimizer().name()))
            throw new IllegalArgumentException("resume: the checkpoint holds " + saved.optimizer().name() + " state, "
                    + "which " + optimizer.name() + " cannot continue");
        float[][][] slots = checkpoint.optimizerSlots();
        if (slots == null)
            throw new IllegalArgumentException("resume: " + checkpoint.file() + " was read without its optimizer state; "
                    + "read it with Checkpoint.read to resume");
        Trainer trainer = new Trainer(model, optimizer, saved.batchSize(), saved.seed());
        try (var _ = trainer.backend.enterHost("resume")) {
            int depth = trainer.net.depth(), count = optimizer.slots();
            for (int l = 0; l < depth; l++)
                for (int i = 0; i < count; i++) {
                    trainer.backend.upload(slots[2 * l][i], trainer.weightState[l].slot(i));
                    trainer.backend.upload(slots[2 * l + 1][i], trainer.biasState[l].slot(i));
                }
            trainer.setOptimizerStep(saved.optimizerStep());
            trainer.epochsDone = saved.epochsDone();
            trainer.setLearningRateSchedule(saved.schedule());
            trainer.setDropoutSeed(saved.dropoutSeed());
            trainer.setGradientClipping(saved.clipNorm());
            trainer.earlyStopping = saved.earlyStopping();
            if (saved.earlyStopping() != null && saved.earlyStopping().bestEpoch() > 0)
                trainer.bestParameters = new float[][][] {checkpoint.weights(), checkpoint.biases()};
            if (checkpoint.lastWeights() != null)   // the model holds the best epoch's: training goes on from the last
                trainer.parkedParameters = new float[][][] {checkpoint.lastWeights(), checkpoint.lastBiases()};
            return trainer;
        } catch (RuntimeException | Error e) {
            trainer.close();
            throw e;
        }
    }

    private static IllegalArgumentException noTrainingState(Checkpoint checkpoint) {
        return new IllegalArgumentException("resume: " + checkpoint.file() + " holds a model without training state "
                + "(written by Model.save); start a new Trainer on it instead");
    }

    /**
     * The model being trained.
     *
     * @return the model
     */
    public Model model() {
        return model;
    }

    /**
     * The update rule.
     *
     * @return the optimizer
     */
    public Optimizer optimizer() {
        return optimizer;
    }

    /**
     * Rows per step.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * The seed of every epoch's shuffle.
     *
     * @return the seed
     */
    public long seed() {
        return seed;
    }

    /**
     * Layer l's weight optimizer state (its step count is the device's).
     *
     * @param layer 0-based
     * @return the state
     */
    public Optimizer.State weightState(int layer) {
        return weightState[layer];
    }

    /**
     * Layer l's bias optimizer state.
     *
     * @param layer 0-based
     * @return the state
     */
    public Optimizer.State biasState(int layer) {
        return biasState[layer];
    }

    /**
     * Layer l's weight gradient from the last step, on the device (diagnostics: download it to look).
     *
     * @param layer 0-based
     * @return dW_l, fan-in × fan-out
     */
    public Matrix weightGradient(int layer) {
        return dW[layer];
    }

    /**
     * Epochs completed over the whole run (resumed ones included).
     *
     * @return epochs done
     */
    public int epochsDone() {
        return epochsDone;
    }

    /**
     * Optimizer steps taken over the whole run: those this trainer ran plus those of the run it resumed.
     * A host count (no device read); every state's device count equals it.
     *
     * @return the step count
     */
    public long optimizerStep() {
        return optimizerStep;
    }

    /** Restores the step count of every optimizer state (uploads) and of this trainer. */
    private void setOptimizerStep(long step) {
        for (int l = 0; l < net.depth(); l++) {
            weightState[l].setStep(step);
            biasState[l].setStep(step);
        }
        optimizerStep = step;
    }

    /**
     * Steps between reads of the running loss (default 50; 1 pins a divergence to its exact step at the
     * cost of one device read-back, i.e. one synchronization, per step).
     *
     * @param steps ≥ 1
     */
    public void setLossCheckInterval(int steps) {
        if (steps <= 0) throw new IllegalArgumentException("loss check interval must be >= 1 step, got " + steps);
        this.lossCheckInterval = steps;
    }

    /**
     * Steps between reads of the running loss.
     *
     * @return the interval
     */
    public int lossCheckInterval() {
        return lossCheckInterval;
    }

    /**
     * Whether a step may be recorded once and replayed (default true; a CUDA graph on the CUDA
     * backend). Turn it off to profile or debug op by op; results are the same either way.
     *
     * @param enabled whether to let the backend record steps
     */
    public void setStepRecording(boolean enabled) {
        this.stepRecording = enabled;
    }

    // ------------------------------------------------------------------------------------------
    // Dropout, clipping and the learning-rate schedule: part of what a (recorded) step does, so
    // they are set before the first step
    // ------------------------------------------------------------------------------------------

    /**
     * The seed of the dropout masks (default 0): layer l's mask in the step after t updates is
     * Philox4x32-10 of (seed, t, l, element), the same on every backend, so a run resumed with its step
     * count and seed draws the masks the uninterrupted run would have drawn.
     *
     * @param seed the Philox key
     */
    public void setDropoutSeed(long seed) {
        checkBeforeFirstStep("setDropoutSeed");
        this.dropoutSeed = seed;
    }

    /**
     * The seed of the dropout masks.
     *
     * @return the seed (0 unless set)
     */
    public long dropoutSeed() {
        return dropoutSeed;
    }

    /**
     * Clips every step's gradients by their global norm: all dW and db scaled by min(1, maxNorm/‖g‖), ‖g‖
     * over all of them, computed on the device; 0 turns clipping off (the default). A non-finite norm
     * makes the update non-finite, which is reported as divergence.
     *
     * @param maxNorm the largest global norm left unscaled, finite and &gt; 0, or 0 for none
     */
    public void setGradientClipping(float maxNorm) {
        checkBeforeFirstStep("setGradientClipping");
        if (!(maxNorm >= 0) || !Float.isFinite(maxNorm))
            throw new IllegalArgumentException("gradient clipping norm must be finite and > 0 (0 for none), got "
                    + maxNorm);
        this.maxGradientNorm = maxNorm;
    }

    /**
     * The global norm gradients are clipped to.
     *
     * @return the norm, 0 for none
     */
    public float gradientClipping() {
        return maxGradientNorm;
    }

    /**
     * The learning-rate schedule of every parameter's update (default constant), computed on the device
     * from the optimizer's step count, so a {@link #resume resumed} run continues it exactly.
     *
     * @param schedule the schedule ({@link LearningRateSchedule#constant()} for none)
     */
    public void setLearningRateSchedule(LearningRateSchedule schedule) {
        checkBeforeFirstStep("setLearningRateSchedule");
        Objects.requireNonNull(schedule, "schedule must not be null");
        for (int l = 0; l < net.depth(); l++) {
            weightState[l].setSchedule(schedule);
            biasState[l].setSchedule(schedule);
        }
    }

    /**
     * The learning-rate schedule of every update.
     *
     * @return the schedule, constant unless one was set
     */
    public LearningRateSchedule learningRateSchedule() {
        return weightState[0].schedule();
    }

    /**
     * The rate the next update will use, by the schedule's Java twin (no device read).
     *
     * @return the scheduled learning rate of update {@link #optimizerStep()} + 1
     */
    public float learningRate() {
        int next = (int) Math.min(optimizerStep + 1, Optimizer.State.MAX_STEP);
        return learningRateSchedule().learningRate(weightState[0].optimizer().learningRate(), next);
    }

    private void checkBeforeFirstStep(String op) {
        checkUsable(op);
        if (stepped)
            throw new IllegalStateException(op + ": set it before the first step (a recorded step keeps the settings "
                    + "it was recorded with)");
    }

    // ------------------------------------------------------------------------------------------
    // The training step
    // ------------------------------------------------------------------------------------------

    /** One full step on the batch already in {@code ws}: forward, loss, backward, update. */
    private void step(Workspace ws) {
        stepped = true;
        if (stepRecording) backend.replay(ws, ws.stepBody);
        else runStep(ws);
        optimizerStep++;
    }

    private void runStep(Workspace ws) {
        forward(ws);
        lossAndBackward(ws);
        if (maxGradientNorm > 0) sumGradientSquares();
        for (int l = 0; l < net.depth(); l++) {
            update(weightState[l], model.weights(l), dW[l]);
            update(biasState[l], model.bias(l), db[l]);
        }
    }

    /**
     * The training forward pass: a hidden layer with dropout passes its masked activation on (the mask
     * keyed by the step count). Inference ({@link Model#predict}, {@link Model#evaluate}) never drops out.
     */
    private void forward(Workspace ws) {
        for (int l = 0; l < net.depth(); l++) {
            Network.Layer layer = net.layers().get(l);
            backend.denseForward(layer.activation(), layerInput(ws, l), model.weights(l), model.bias(l), ws.z[l], ws.a[l]);
            if (layer.dropout() > 0)
                backend.dropoutForward(ws.a[l], ws.dropped[l], ws.mask[l], layer.dropout(), dropoutSeed, l, weightState[l]);
        }
    }

    /** What layer l reads in training: the input rows, or the previous layer's activation (its dropped-out copy). */
    private Matrix layerInput(Workspace ws, int l) {
        if (l == 0) return ws.x;
        return ws.dropped[l - 1] != null ? ws.dropped[l - 1] : ws.a[l - 1];
    }

    /** After a training forward pass: δ, dW and db of every layer, back through the dropout masks. */
    private void lossAndBackward(Workspace ws) {
        int last = net.depth() - 1;
        backend.lossGradient(net.loss(), ws.a[last], ws.y, ws.delta[last], lossSum);
        Activation out = net.outputActivation();
        if (!net.loss().gradientIsWithRespectToZ(out))
            backend.activationBackward(out, ws.z[last], ws.a[last], ws.delta[last]);
        for (int l = last; l >= 0; l--) {
            backend.denseGradients(layerInput(ws, l), ws.delta[l], dW[l], db[l]);
            if (l > 0) {
                backend.gemm(false, true, 1f, ws.delta[l], model.weights(l), 0f, ws.delta[l - 1]);
                if (ws.mask[l - 1] != null) backend.dropoutBackward(ws.delta[l - 1], ws.mask[l - 1]);
                backend.activationBackward(net.layers().get(l - 1).activation(), ws.z[l - 1], ws.a[l - 1],
                        ws.delta[l - 1]);
            }
        }
    }

    /** ‖g‖² over every dW and db, into the device scalar the clipped updates read. */
    private void sumGradientSquares() {
        for (int l = 0; l < net.depth(); l++) {
            backend.sumOfSquares(dW[l], l > 0, gradientSquaredNorm);
            backend.sumOfSquares(db[l], true, gradientSquaredNorm);
        }
    }

    private void update(Optimizer.State state, Matrix param, Matrix grad) {
        if (maxGradientNorm > 0) backend.optimizerUpdate(state, param, grad, gradientSquaredNorm, maxGradientNorm);
        else backend.optimizerUpdate(state, param, grad);
    }

    // ------------------------------------------------------------------------------------------
    // Fitting
    // ------------------------------------------------------------------------------------------

    /**
     * Trains {@code epochs} epochs on {@code train}.
     *
     * @param train     raw features and targets
     * @param epochs    epochs to run, ≥ 0
     * @param listeners called per fit, epoch and step, in order
     * @return one result per epoch run
     */
    public List<EpochResult> fit(Dataset train, int epochs, TrainingListener... listeners) {
        return fit(train, null, epochs, listeners);
    }

    /**
     * Trains up to {@code epochs} epochs on {@code train}, evaluating the model on {@code validation}
     * after each (in {@link EpochResult#validation()}). Ends early, after an epoch, when a listener
     * calls {@link #stop()} or {@link #setEarlyStopping early stopping}'s patience runs out; with early
     * stopping, the model then holds the best epoch's parameters.
     *
     * @param train      raw features and targets
     * @param validation raw features and targets to evaluate on after every epoch, or null
     * @param epochs     epochs to run, ≥ 0
     * @param listeners  called per fit, epoch and step, in order
     * @return one result per epoch run
     * @throws TrainingDivergedException if the loss or the parameters stop being finite (the epoch it
     *                                   happened in is not counted)
     */
    public List<EpochResult> fit(Dataset train, Dataset validation, int epochs, TrainingListener... listeners) {
        checkUsable("fit");
        model.checkNormalizable(train, "fit");
        Dataset probe = Collapse.probe(train);
        return fit(validation, epochs, listeners, train.rows(), (rng, epochListeners) -> {
            int[] order = Dataset.shuffledOrder(train.rows(), rng);
            return runEpoch(train.rows(), epochListeners,
                    (ws, from) -> ws.load(train, order, from, model.normalization(), model.targetNormalization()), probe);
        });
    }

    /**
     * As {@link #fit(Dataset, Dataset, int, TrainingListener...)} on a data set resident on the device:
     * each epoch uploads only its shuffled order, and each batch is gathered on the device, so a step
     * moves no training data across the bus.
     *
     * @param train      uploaded with {@link DeviceDataset#upload(Model, Dataset)} for this model
     * @param validation raw features and targets to evaluate on after every epoch, or null
     * @param epochs     epochs to run, ≥ 0
     * @param listeners  called per fit, epoch and step, in order
     * @return one result per epoch run
     */
    public List<EpochResult> fit(DeviceDataset train, Dataset validation, int epochs, TrainingListener... listeners) {
        checkUsable("fit");
        Objects.requireNonNull(train, "train must not be null");
        if (train.backend() != backend)
            throw new IllegalArgumentException("fit: the device data set lives on backend '" + train.backend().name()
                    + "', the model on '" + backend.name() + "'");
        if (!train.normalization().equals(model.normalization()))
            throw new IllegalArgumentException("fit: the device data set was normalized with "
                    + train.normalization().describe() + ", the model normalizes with "
                    + model.normalization().describe() + "; upload it for this model");
        if (!train.targetNormalization().equals(model.targetNormalization()))
            throw new IllegalArgumentException("fit: the device data set's targets were normalized with "
                    + train.targetNormalization().describe() + ", the model's with "
                    + model.targetNormalization().describe() + "; upload it for this model");
        model.checkWidths(train.featureCount(), train.targetCount(), "fit");
        return fit(validation, epochs, listeners, train.rows(), (rng, epochListeners) -> {
            train.shuffle(Dataset.shuffledOrder(train.rows(), rng));
            return runEpoch(train.rows(), epochListeners, (ws, from) -> train.gather(from, ws.x, ws.y),
                    train.collapseProbe());
        });
    }

    /**
     * Ends the current {@code fit} once the epoch in progress is over (a listener's own stopping rule;
     * {@link #setEarlyStopping} is the built-in one). The next {@code fit} starts afresh.
     */
    public void stop() {
        stopRequested = true;
    }

    // ------------------------------------------------------------------------------------------
    // Early stopping
    // ------------------------------------------------------------------------------------------

    /**
     * Early stopping on the validation loss: {@code fit} ends once the loss on its validation data has
     * not gone below its best for {@code patience} epochs in a row, and every {@code fit} leaves the
     * model holding the best epoch's parameters (kept on the host from that epoch on), which
     * {@link TrainingListener#onBestEpochKept} reports. Training goes on from the last epoch's
     * parameters: the next {@code fit} or {@link #step(Batch) step} puts them back first. {@code fit}
     * needs validation data while this is on. The state (best loss and epoch, epochs without
     * improvement, the best parameters) is saved by {@link #save}, whose checkpoint's model is the best
     * epoch's, and restored by {@link #resume}; a run whose patience ran out trains no further epochs.
     * Calling it again starts afresh, with the model back at the last epoch's parameters.
     *
     * <pre>
     * trainer.setEarlyStopping(5);
     * trainer.fit(train, validation, 200);   // stops 5 epochs after the best; the model holds the best
     * </pre>
     *
     * @param patience epochs without improvement that end training, ≥ 1; 0 turns early stopping off
     */
    public void setEarlyStopping(int patience) {
        checkUsable("setEarlyStopping");
        if (patience < 0) throw new IllegalArgumentException("early stopping patience must be >= 1 epoch (0 for off), "
                + "got " + patience);
        try (var _ = backend.enterHost("setEarlyStopping")) {
            unpark();   // the best epoch so far is forgotten: the model goes back to where training stands
        }
        earlyStopping = patience == 0 ? null : new EarlyStopping(patience, Double.POSITIVE_INFINITY, 0, 0);
        bestParameters = null;
    }

    /**
     * Early stopping's progress.
     *
     * @return the state, or empty when early stopping is off
     */
    public Optional<EarlyStopping> earlyStopping() {
        return Optional.ofNullable(earlyStopping);
    }

    /** After a validated epoch: a new best is kept (its parameters downloaded), else the patience runs down. */
    private void watch(int epoch, double validationLoss) {
        EarlyStopping s = earlyStopping;
        if (validationLoss < s.bestLoss()) {   // NaN never improves
            earlyStopping = new EarlyStopping(s.patience(), validationLoss, epoch, 0);
            try (var _ = backend.enterHost("fit")) {
                bestParameters = hostParameters();
            }
        } else {
            earlyStopping = new EarlyStopping(s.patience(), s.bestLoss(), s.bestEpoch(), s.epochsWithoutImprovement() + 1);
        }
    }

    /** At the end of a fit with early stopping: the model takes the best epoch's parameters, the last epoch's are parked. */
    private void keepBestEpoch() {
        if (bestParameters == null || parkedParameters != null || earlyStopping.bestEpoch() == epochsDone) return;
        try (var _ = backend.enterHost("fit")) {
            float[][][] last = hostParameters();
            upload(bestParameters);
            parkedParameters = last;
        }
    }

    /** Before training goes on: the last epoch's parameters back in the model, if they were parked. */
    private void unpark() {
        if (parkedParameters == null) return;
        upload(parkedParameters);
        parkedParameters = null;
    }

    private void upload(float[][][] parameters) {
        for (int l = 0; l < net.depth(); l++) {
            backend.upload(parameters[0][l], model.weights(l));
            backend.upload(parameters[1][l], model.bias(l));
        }
    }

    /** The model's parameters downloaded: [0] weights, [1] biases, per layer. */
    private float[][][] hostParameters() {
        float[][][] p = new float[2][net.depth()][];
        for (int l = 0; l < net.depth(); l++) {
            p[0][l] = model.downloadWeights(l);
            p[1][l] = model.downloadBias(l);
        }
        return p;
    }

    /** For {@link Checkpoint#write}: the best epoch's parameters, the checkpoint's model; null: the model's own. */
    float[][][] bestParameters() {
        return earlyStopping != null ? bestParameters : null;
    }

    /**
     * For {@link Checkpoint#write}: whether the last epoch's parameters are saved beside the best epoch's
     * (early stopping with a best epoch before the last).
     */
    boolean savesLastEpochApart() {
        return earlyStopping != null && earlyStopping.bestEpoch() > 0 && earlyStopping.bestEpoch() != epochsDone;
    }

    /** For {@link Checkpoint#write}: the last epoch's parameters when parked on the host; null: the model's. */
    float[][][] lastEpochParameters() {
        return parkedParameters;
    }

    private interface Epoch {
        EpochResult run(Random rng, TrainingListener[] listeners);
    }

    private List<EpochResult> fit(Dataset validation, int epochs, TrainingListener[] listeners, int rows, Epoch epoch) {
        Objects.requireNonNull(listeners, "listeners must not be null");
        for (TrainingListener l : listeners) Objects.requireNonNull(l, "a listener is null");
        if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        if ((long) epochsDone + epochs > Integer.MAX_VALUE)
            throw new IllegalArgumentException("fit: " + epochs + " epochs after " + epochsDone
                    + " would count past 2^31-1 epochs");
        if (validation != null) model.checkNormalizable(validation, "fit (validation data)");
        if (earlyStopping != null && validation == null)
            throw new IllegalArgumentException("fit: early stopping watches the validation loss; pass validation data");
        stopRequested = earlyStopping != null && earlyStopping.stopped();   // a stopped run trains no further
        List<EpochResult> history = new ArrayList<>();
        for (TrainingListener l : listeners) l.onFitStart(this, epochs);
        for (int e = 0; e < epochs && !stopRequested; e++) {
            for (TrainingListener l : listeners) l.onEpochStart(this, epochsDone + 1);
            EpochResult r;
            try (var _ = backend.enterHost("fit")) {
                r = epoch.run(new Random(seed * 1_000_003L + epochsDone), listeners);
            }
            if (validation != null)
                r = new EpochResult(r.epoch(), r.loss(), r.samples(), r.seconds(), model.evaluate(validation));
            if (earlyStopping != null) watch(r.epoch(), r.validation().loss());
            history.add(r);
            for (TrainingListener l : listeners) l.onEpochEnd(this, r);
            if (earlyStopping != null && earlyStopping.stopped()) stopRequested = true;
        }
        if (earlyStopping != null && earlyStopping.bestEpoch() > 0) {
            keepBestEpoch();
            for (TrainingListener l : listeners) l.onBestEpochKept(this, earlyStopping);
        }
        for (TrainingListener l : listeners) l.onFitEnd(this, history);
        return List.copyOf(history);
    }

    private interface BatchLoader {
        void load(Workspace ws, int from);
    }

    private EpochResult runEpoch(int n, TrainingListener[] listeners, BatchLoader loader, Dataset collapseProbe) {
        checkUsable("fit");
        unpark();
        long t0 = System.nanoTime();
        resetLoss();
        int epoch = epochsDone + 1, stepInEpoch = 0, lastFinite = 0;
        double sum = 0;
        Workspace lastWorkspace = null;
        for (int from = 0; from < n; from += batchSize) {
            int count = Math.min(batchSize, n - from);
            Workspace ws = workspace(count);
            loader.load(ws, from);
            step(ws);
            lastWorkspace = ws;
            stepInEpoch++;
            if (stepInEpoch - lastFinite == lossCheckInterval || from + count >= n) {
                sum = readLoss();
                if (!Double.isFinite(sum)) throw diverged(ws, sum, stepInEpoch, lastFinite);
                lastFinite = stepInEpoch;
            }
            if (listeners.length > 0) {
                Step step = new Step(epoch, stepInEpoch, optimizerStep, count);
                for (TrainingListener l : listeners) l.onStep(this, step);
            }
        }
        // The loss read above comes from the last forward pass; the last update came after it.
        Divergence.Origin parameters = Divergence.firstNonFiniteParameter(backend, model);
        if (parameters != null)
            throw new TrainingDivergedException("training diverged in epoch " + epoch + ": the loss stayed "
                    + "finite but after the epoch's last step (" + optimizerStep + ") layer " + parameters.layer()
                    + "'s " + parameters.buffer() + " hold non-finite values (" + net.describe()
                    + "); lower the learning rate or check the data", epoch, optimizerStep,
                    optimizerStep, stepInEpoch, parameters.layer());
        TrainingCollapsedException collapsed = lastWorkspace == null ? null : Collapse.check(model, dW[0],
                lastWorkspace.delta[net.depth() - 1], collapseProbe, epoch, optimizerStep, stepInEpoch);
        if (collapsed != null) throw collapsed;
        epochsDone++;
        return new EpochResult(epochsDone, sum / n, n, (System.nanoTime() - t0) / 1e9, null);
    }

    /** The exception for a non-finite running loss, with the step window and the first non-finite layer. */
    private TrainingDivergedException diverged(Workspace ws, double sum, int stepInEpoch, int lastFinite) {
        int epoch = epochsDone + 1;
        long step = optimizerStep;
        long first = step - (stepInEpoch - lastFinite - 1);
        Divergence.Origin origin = Divergence.locate(backend, model, ws, dW, db);
        String when = first == step ? "at step " + step + " (step " + stepInEpoch + " of the epoch)"
                : "between steps " + first + " and " + step + " (steps " + (lastFinite + 1) + "–" + stepInEpoch
                + " of the epoch; the loss is read every " + lossCheckInterval + " steps)";
        String where = origin.layer() == 0 ? "every layer's activations, gradients and parameters are still finite"
                : "first non-finite values in layer " + origin.layer() + "'s " + origin.buffer();
        return new TrainingDivergedException("training diverged in epoch " + epoch + " " + when + ": the loss became "
                + sum + "; " + where + " (" + net.describe() + "); lower the learning rate or check the data",
                epoch, step, first, stepInEpoch, origin.layer());
    }

    // ------------------------------------------------------------------------------------------
    // Single steps, gradients, saving
    // ------------------------------------------------------------------------------------------

    /**
     * Uploads {@code rows} once (normalized), for {@link #step(Batch)}.
     *
     * @param rows raw features and targets of one batch
     * @return the batch on the device
     */
    public Batch load(Dataset rows) {
        checkUsable("load");
        model.checkNormalizable(rows, "load");
        try (var _ = backend.enterHost("load")) {
            Workspace ws = Workspace.forTraining(backend, net, rows.rows());
            try {
                ws.stepBody = () -> runStep(ws);
                ws.load(rows, null, 0, model.normalization(), model.targetNormalization());
            } catch (RuntimeException | Error e) {
                ws.close();
                throw e;
            }
            Batch batch = new Batch(this, ws);
            batches.add(batch);
            return batch;
        }
    }

    /**
     * One full step (forward, loss, backward, update) on a batch already on the device; nothing is
     * read back, so a divergence goes unnoticed here (use {@code fit} to train).
     *
     * @param batch from {@link #load} of this trainer, not closed
     */
    public void step(Batch batch) {
        checkUsable("step");
        Objects.requireNonNull(batch, "batch must not be null");
        if (batch.owner != this || !batches.contains(batch))
            throw new IllegalArgumentException("step: the batch " + (batch.owner != this ? "was loaded by another "
                    + "trainer" : "was closed"));
        try (var _ = backend.enterHost("step")) {
            unpark();
            step(batch.workspace);
        }
    }

    /**
     * Gradients of the mean loss over the whole of {@code batch} (one step's worth, no update): at the
     * parameters the next step would start from, with the dropout masks it would draw, which stay the
     * same until an update advances the count.
     *
     * @param batch raw features and targets
     * @return host copies of dW and db per layer, and the loss
     */
    public Gradients gradients(Dataset batch) {
        checkUsable("gradients");
        model.checkNormalizable(batch, "gradients");
        try (var _ = backend.enterHost("gradients")) {
            unpark();
            Workspace ws = workspace(batch.rows());
            ws.load(batch, null, 0, model.normalization(), model.targetNormalization());
            resetLoss();
            forward(ws);
            lossAndBackward(ws);
            float[][] w = new float[net.depth()][];
            float[][] b = new float[net.depth()][];
            for (int l = 0; l < net.depth(); l++) {
                w[l] = new float[(int) dW[l].size()];
                b[l] = new float[(int) db[l].size()];
                backend.download(dW[l], w[l]);
                backend.download(db[l], b[l]);
            }
            return new Gradients(readLoss() / batch.rows(), w, b);
        }
    }

    /**
     * Writes a training checkpoint: the model (as {@link Model#save}; with early stopping, the best
     * epoch's parameters, and the last epoch's beside them) plus the optimizer, its state and step count,
     * the batch size, the seed, the epochs done, the learning-rate schedule, the dropout seed, the
     * gradient clipping and early stopping's state, which {@link #resume} continues from.
     *
     * @param file the checkpoint; missing parent directories are created
     * @throws IOException if it cannot be written
     */
    public void save(Path file) throws IOException {
        save(file, Map.of());
    }

    /**
     * As {@link #save(Path)}, with metadata of the caller's own (e.g. where the data came from), which
     * {@link Checkpoint#metadata()} gives back.
     *
     * @param file     the checkpoint
     * @param metadata string entries; the keys the checkpoint writes itself are refused
     * @throws IOException if it cannot be written
     */
    public void save(Path file, Map<String, String> metadata) throws IOException {
        checkUsable("save");
        Checkpoint.write(file, model, this, metadata);
    }

    /** The training loss summed since the last reset (a device read-back: call it rarely). */
    private double readLoss() {
        backend.download(lossSum, lossHost);
        return lossHost[0];
    }

    private void resetLoss() {
        backend.upload(zeroLoss, lossSum);
    }

    /** A closed trainer, or one whose model was closed under it, fails with a message saying which. */
    private void checkUsable(String op) {
        if (closed) throw new IllegalStateException(op + ": the trainer was closed");
        model.checkOpen(op);
    }

    /** Device buffers for a batch of {@code rows} samples, made once per distinct batch size. */
    private Workspace workspace(int rows) {
        return workspaces.computeIfAbsent(rows, r -> {
            Workspace ws = Workspace.forTraining(backend, net, r);
            ws.stepBody = () -> runStep(ws);
            return ws;
        });
    }

    /** Frees the trainer's device buffers and its loaded batches (not the model's). Idempotent; any later use throws. */
    @Override
    public void close() {
        if (closed) return;
        try (var _ = backend.enterRelease("close trainer")) {
            closed = true;
            workspaces.values().forEach(Workspace::close);
            workspaces.clear();
            for (Batch b : List.copyOf(batches)) b.close();
            releaseState(lossSum, gradientSquaredNorm);
        }
    }

    private void releaseState(Matrix loss, Matrix norm) {
        for (int l = 0; l < net.depth(); l++) {
            if (dW[l] != null) dW[l].close();
            if (db[l] != null) db[l].close();
            if (weightState[l] != null) weightState[l].close();
            if (biasState[l] != null) biasState[l].close();
        }
        if (loss != null) loss.close();
        if (norm != null) norm.close();
    }
}
