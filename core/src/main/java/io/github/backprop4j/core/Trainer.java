package io.github.backprop4j.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Mini-batch training, written once against {@link Backend}. One step, top to bottom:
 * <pre>
 * forward   Z_l = A_{l−1}·W_l + 1·b_lᵀ,  A_l = g_l(Z_l)                    (denseForward)
 *           hidden layers with dropout pass A_l ⊙ M_l on, M_l drawn on the device (dropoutForward)
 * loss      δ_L = ∂J/∂Z_L  (÷ this batch's n), loss sum stays on the device (lossGradient[, activationBackward])
 * backward  dW_l = A_{l−1}ᵀ·δ_l,  db_l = 1ᵀ·δ_l                              (denseGradients)
 *           δ_{l−1} = (δ_l·W_lᵀ) [⊙ M_{l−1}] ⊙ g'_{l−1}(Z_{l−1})           (gemm, [dropoutBackward,] activationBackward)
 * clip      ‖g‖² = Σ ‖dW_l‖² + ‖db_l‖² into a device scalar, when clipping is set  (sumOfSquares)
 * update    W_l, b_l ← optimizer(W_l, dW_l [· min(1, c/‖g‖)]) at the scheduled rate; state, step count,
 *           rate and clipping factor all on the device                        (optimizerUpdate)
 * </pre>
 * Dropout never applies to {@link #evaluate}, {@link #predict} or {@link #forward}.
 * Per step the host uploads the batch and nothing else; the summed loss (one float) is read back every
 * {@link #setLossCheckInterval k} steps and at the end of the epoch, and a non-finite value stops
 * training with a {@link TrainingDivergedException} naming the epoch, the step and the layer. The last,
 * partial batch of an epoch gets its own workspace so that δ is scaled by its true size.
 */
public final class Trainer implements AutoCloseable {

    /** Result of one epoch: mean training loss over its samples and the wall time it took. */
    public record EpochResult(int epoch, double loss, int samples, double seconds) {
        public double samplesPerSecond() {
            return samples / seconds;
        }
    }

    /** Loss and accuracy over a data set (accuracy: argmax match, or threshold 0.5 for one output). */
    public record Evaluation(double loss, double accuracy, int samples) {
    }

    /** Host copies of one batch's gradients, for checks and diagnostics. */
    public record Gradients(double loss, float[][] dW, float[][] db) {
    }

    private final Backend backend;
    private final Model model;
    private final Network net;
    private final int batchSize;
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
    private int epochsDone;
    /** Optimizer steps run (plus any restored count), kept on the host for messages: the device has the truth. */
    private long optimizerStep;
    private boolean stepRecording = true;
    private int lossCheckInterval = 50;
    private boolean closed;
    /** Whether a step has run: what a recorded step does is fixed from then on. */
    private boolean stepped;
    private long dropoutSeed;
    /** The global norm gradients are clipped to; 0 for no clipping. */
    private float maxGradientNorm;

    /**
     * A trainer for {@code model}; batches hold {@code batchSize} rows (an epoch's last batch, and any
     * data set smaller than the batch, fewer: buffers are sized by the rows a batch really has).
     */
    public Trainer(Model model, Optimizer optimizer, int batchSize) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(optimizer, "optimizer must not be null");
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        model.checkOpen("new Trainer");
        this.model = model;
        this.backend = model.backend();
        this.net = model.network();
        this.batchSize = batchSize;
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

    public Model model() {
        return model;
    }

    public int batchSize() {
        return batchSize;
    }

    public Optimizer.State weightState(int layer) {
        return weightState[layer];
    }

    public Optimizer.State biasState(int layer) {
        return biasState[layer];
    }

    public Matrix weightGradient(int layer) {
        return dW[layer];
    }

    public Matrix biasGradient(int layer) {
        return db[layer];
    }

    /** Epochs completed by {@link #fitEpoch} (restorable for resumed runs). */
    public int epochsDone() {
        return epochsDone;
    }

    public void setEpochsDone(int epochs) {
        if (epochs < 0) throw new IllegalArgumentException("epochs done must be >= 0, got " + epochs);
        this.epochsDone = epochs;
    }

    /**
     * Optimizer steps taken over the whole run: those this trainer ran plus the count restored with
     * {@link #setOptimizerStep}. A host count (no device read); every state's device count equals it.
     */
    public long optimizerStep() {
        return optimizerStep;
    }

    /** Restores the step count of every optimizer state (uploads) and of this trainer, e.g. on resume. */
    public void setOptimizerStep(long step) {
        checkUsable("setOptimizerStep");
        try (var _ = backend.enterHost("setOptimizerStep")) {
            for (int l = 0; l < net.depth(); l++) {
                weightState[l].setStep(step);
                biasState[l].setStep(step);
            }
            optimizerStep = step;
        }
    }

    /**
     * Steps between reads of the running loss in {@link #fitEpoch} (default 50; 1 pins a divergence to
     * its exact step at the cost of one device read-back, i.e. one synchronization, per step).
     */
    public void setLossCheckInterval(int steps) {
        if (steps <= 0) throw new IllegalArgumentException("loss check interval must be >= 1 step, got " + steps);
        this.lossCheckInterval = steps;
    }

    public int lossCheckInterval() {
        return lossCheckInterval;
    }

    // ------------------------------------------------------------------------------------------
    // Dropout, clipping and the learning-rate schedule: part of what a (recorded) step does, so
    // they are set before the first step
    // ------------------------------------------------------------------------------------------

    /**
     * The seed of the dropout masks (default 0): layer l's mask in the step after t updates is
     * Philox4x32-10 of (seed, t, l, element), the same on every backend, so a run resumed with its step
     * count and seed draws the masks the uninterrupted run would have drawn.
     */
    public void setDropoutSeed(long seed) {
        checkBeforeFirstStep("setDropoutSeed");
        this.dropoutSeed = seed;
    }

    public long dropoutSeed() {
        return dropoutSeed;
    }

    /**
     * Clips every step's gradients by their global norm: all dW and db scaled by min(1, maxNorm/‖g‖), ‖g‖
     * over all of them, computed on the device; 0 turns clipping off (the default). A non-finite norm
     * makes the update non-finite, which is reported as divergence.
     */
    public void setGradientClipping(float maxNorm) {
        checkBeforeFirstStep("setGradientClipping");
        if (!(maxNorm >= 0) || !Float.isFinite(maxNorm))
            throw new IllegalArgumentException("gradient clipping norm must be finite and > 0 (0 for none), got "
                    + maxNorm);
        this.maxGradientNorm = maxNorm;
    }

    /** The global norm gradients are clipped to, 0 for none. */
    public float gradientClipping() {
        return maxGradientNorm;
    }

    /**
     * The learning-rate schedule of every parameter's update (default constant), computed on the device
     * from the optimizer's step count, so {@link #setOptimizerStep} on resume continues it exactly.
     */
    public void setLearningRateSchedule(LearningRateSchedule schedule) {
        checkBeforeFirstStep("setLearningRateSchedule");
        Objects.requireNonNull(schedule, "schedule must not be null");
        for (int l = 0; l < net.depth(); l++) {
            weightState[l].setSchedule(schedule);
            biasState[l].setSchedule(schedule);
        }
    }

    public LearningRateSchedule learningRateSchedule() {
        return weightState[0].schedule();
    }

    /** The rate the next update will use, by the schedule's Java twin (no device read). */
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

    /**
     * One full step on the batch already in {@code ws}: forward, loss, backward, update. The backend
     * may record the step once and replay it (a CUDA graph), since it is the same work on the same
     * buffers every time.
     */
    public void step(Workspace ws) {
        checkUsable("step");
        Objects.requireNonNull(ws, "workspace must not be null");
        try (var _ = backend.enterHost("step")) {
            stepped = true;
            if (stepRecording) backend.replay(ws, ws.stepBody);
            else runStep(ws);
            optimizerStep++;
        }
    }

    /**
     * Whether {@link #step} lets the backend record the step once and replay it (default true). Turn it
     * off to profile or debug op by op; results are the same either way.
     */
    public void setStepRecording(boolean enabled) {
        this.stepRecording = enabled;
    }

    private void runStep(Workspace ws) {
        forward(ws, true);
        lossAndBackward(ws);
        if (maxGradientNorm > 0) sumGradientSquares();
        for (int l = 0; l < net.depth(); l++) {
            update(weightState[l], model.weights(l), dW[l]);
            update(biasState[l], model.bias(l), db[l]);
        }
    }

    /** Forward pass only, on the batch already loaded into {@code ws} (diagnostics, inference): no dropout. */
    public void forward(Workspace ws) {
        checkUsable("forward");
        Objects.requireNonNull(ws, "workspace must not be null");
        try (var _ = backend.enter("forward")) {
            forward(ws, false);
        }
    }

    /** In training, a hidden layer with dropout passes its masked activation on (the mask keyed by the step count). */
    private void forward(Workspace ws, boolean training) {
        for (int l = 0; l < net.depth(); l++) {
            Network.Layer layer = net.layers().get(l);
            backend.denseForward(layer.activation(), layerInput(ws, l, training), model.weights(l), model.bias(l),
                    ws.z[l], ws.a[l]);
            if (training && layer.dropout() > 0)
                backend.dropoutForward(ws.a[l], ws.dropped[l], ws.mask[l], layer.dropout(), dropoutSeed, l, weightState[l]);
        }
    }

    /** What layer l reads: the input rows, or the previous layer's activation (its dropped-out copy in training). */
    private Matrix layerInput(Workspace ws, int l, boolean training) {
        if (l == 0) return ws.x;
        return training && net.layers().get(l - 1).dropout() > 0 ? ws.dropped[l - 1] : ws.a[l - 1];
    }

    /** After a training forward pass: δ, dW and db of every layer, back through the dropout masks. */
    private void lossAndBackward(Workspace ws) {
        int last = net.depth() - 1;
        backend.lossGradient(net.loss(), ws.a[last], ws.y, ws.delta[last], lossSum);
        Activation out = net.outputActivation();
        if (!net.loss().gradientIsWithRespectToZ(out))
            backend.activationBackward(out, ws.z[last], ws.a[last], ws.delta[last]);
        for (int l = last; l >= 0; l--) {
            backend.denseGradients(layerInput(ws, l, true), ws.delta[l], dW[l], db[l]);
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
    // Epochs, evaluation, gradients
    // ------------------------------------------------------------------------------------------

    /** One epoch over the data in an order shuffled by {@code rng}; returns the mean training loss. */
    public EpochResult fitEpoch(Dataset data, Random rng) {
        return fitEpoch(data, rng, null);
    }

    /** As {@link #fitEpoch(Dataset, Random)}, calling {@code afterStep} with the step's batch size (progress bars). */
    public EpochResult fitEpoch(Dataset data, Random rng, IntConsumer afterStep) {
        checkUsable("fitEpoch");
        checkData(data);
        Objects.requireNonNull(rng, "rng must not be null");
        int[] order = shuffled(data.rows(), rng);
        try (var _ = backend.enterHost("fitEpoch")) {
            return runEpoch(data.rows(), afterStep, (ws, from) -> ws.load(data, order, from));
        }
    }

    /**
     * One epoch over a data set resident on the device: the shuffled order is uploaded once, and each
     * batch is gathered on the device, so a step moves no training data across the bus.
     */
    public EpochResult fitEpoch(DeviceDataset data, Random rng, IntConsumer afterStep) {
        checkUsable("fitEpoch");
        Objects.requireNonNull(data, "data must not be null");
        Objects.requireNonNull(rng, "rng must not be null");
        if (data.backend() != backend)
            throw new IllegalArgumentException("the device data set lives on backend '" + data.backend().name()
                    + "', the model on '" + backend.name() + "'");
        checkData(data.featureCount(), data.targetCount());
        try (var _ = backend.enterHost("fitEpoch")) {
            data.shuffle(shuffled(data.rows(), rng));
            return runEpoch(data.rows(), afterStep, (ws, from) -> data.gather(from, ws.x, ws.y));
        }
    }

    private interface BatchLoader {
        void load(Workspace ws, int from);
    }

    private EpochResult runEpoch(int n, IntConsumer afterStep, BatchLoader loader) {
        long t0 = System.nanoTime();
        resetLoss();
        int stepInEpoch = 0, lastFinite = 0;
        double sum = 0;
        for (int from = 0; from < n; from += batchSize) {
            int count = Math.min(batchSize, n - from);
            Workspace ws = workspace(count);
            loader.load(ws, from);
            step(ws);
            stepInEpoch++;
            if (stepInEpoch - lastFinite == lossCheckInterval || from + count >= n) {
                sum = readLoss();
                if (!Double.isFinite(sum)) throw diverged(ws, sum, stepInEpoch, lastFinite);
                lastFinite = stepInEpoch;
            }
            if (afterStep != null) afterStep.accept(count);
        }
        // The loss read above comes from the last forward pass; the last update came after it.
        Divergence.Origin parameters = Divergence.firstNonFiniteParameter(backend, model);
        if (parameters != null)
            throw new TrainingDivergedException("training diverged in epoch " + (epochsDone + 1) + ": the loss stayed "
                    + "finite but after the epoch's last step (" + optimizerStep + ") layer " + parameters.layer()
                    + "'s " + parameters.buffer() + " hold non-finite values (" + net.describe()
                    + "); lower the learning rate or check the data", epochsDone + 1, optimizerStep,
                    optimizerStep, stepInEpoch, parameters.layer());
        epochsDone++;
        return new EpochResult(epochsDone, sum / n, n, (System.nanoTime() - t0) / 1e9);
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

    private static int[] shuffled(int n, Random rng) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** {@code epochs} epochs with shuffling seeded by {@code seed}. */
    public List<EpochResult> fit(Dataset data, int epochs, long seed) {
        Objects.requireNonNull(data, "data must not be null");
        if (epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, got " + epochs);
        Random rng = new Random(seed);
        List<EpochResult> out = new ArrayList<>();
        for (int e = 0; e < epochs; e++) out.add(fitEpoch(data, rng));
        return out;
    }

    /** Mean loss and accuracy over a data set, forward passes only. */
    public Evaluation evaluate(Dataset data) {
        return evaluate(data, null);
    }

    /**
     * As {@link #evaluate(Dataset)}, also copying the network's outputs (rows × outputs, row-major)
     * into {@code outputs} when it is not null: one forward pass serves both.
     */
    public Evaluation evaluate(Dataset data, float[] outputs) {
        checkUsable("evaluate");
        checkData(data);
        if (outputs != null && outputs.length != (long) data.rows() * net.outputs())
            throw new ShapeException("evaluate: outputs has " + outputs.length + " floats but " + data.rows() + " rows × "
                    + net.outputs() + " outputs need " + (long) data.rows() * net.outputs());
        try (var _ = backend.enterHost("evaluate")) {
            int n = data.rows(), outs = net.outputs(), last = net.depth() - 1;
            resetLoss();
            long[] correct = {0};
            float[] yHat = new float[Math.min(batchSize, n) * outs];   // < rows × outputs, which fits (checked above)
            forwardBatches(data, (ws, from, count) -> {
                backend.lossGradient(net.loss(), ws.a[last], ws.y, ws.delta[last], lossSum);
                float[] out = count * outs == yHat.length ? yHat : new float[count * outs];
                backend.download(ws.a[last], out);
                if (outputs != null) System.arraycopy(out, 0, outputs, from * outs, count * outs);
                for (int i = 0; i < count; i++)
                    if (predictedClass(out, i, outs) == trueClass(data, from + i, outs)) correct[0]++;
            });
            return new Evaluation(readLoss() / n, (double) correct[0] / n, n);
        }
    }

    /** Network outputs for {@code rows} samples (row-major, featureCount wide). */
    public float[] predict(float[] x, int rows) {
        checkUsable("predict");
        Objects.requireNonNull(x, "x must not be null");
        if (rows <= 0 || x.length != (long) rows * net.inputs())
            throw new ShapeException("predict: " + x.length + " floats is not " + rows + " rows of " + net.inputs());
        long outputCount = (long) rows * net.outputs();
        if (outputCount > Dataset.MAX_ARRAY_LENGTH)
            throw new IllegalArgumentException("predict: " + rows + " rows × " + net.outputs() + " outputs exceed the "
                    + Dataset.MAX_ARRAY_LENGTH + " floats one array can hold; predict in parts");
        try (var _ = backend.enterHost("predict")) {
            int outs = net.outputs();
            float[] result = new float[(int) outputCount];
            Dataset d = new Dataset(x, net.inputs(), new float[(int) outputCount], outs);
            forwardBatches(d, (ws, from, count) -> {
                float[] out = new float[count * outs];
                backend.download(ws.output(), out);
                System.arraycopy(out, 0, result, from * outs, out.length);
            });
            return result;
        }
    }

    private interface BatchSink {
        void accept(Workspace ws, int from, int count);
    }

    /** Forward passes over {@code data} in order, batch by batch; {@code sink} reads each batch's results. */
    private void forwardBatches(Dataset data, BatchSink sink) {
        int[] order = identity(data.rows());
        for (int from = 0; from < data.rows(); from += batchSize) {
            int count = Math.min(batchSize, data.rows() - from);
            Workspace ws = workspace(count);
            ws.load(data, order, from);
            forward(ws);
            sink.accept(ws, from, count);
        }
    }

    /**
     * Gradients of the mean loss over the whole of {@code batch} (one step's worth, no update): with the
     * dropout masks the next step would draw, which stay the same until an update advances the count.
     */
    public Gradients gradients(Dataset batch) {
        checkUsable("gradients");
        checkData(batch);
        try (var _ = backend.enterHost("gradients")) {
            Workspace ws = workspace(batch.rows());
            ws.load(batch, identity(batch.rows()), 0);
            resetLoss();
            forward(ws, true);
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

    /** The training loss summed since the last reset (a device read-back: call it rarely). */
    public double readLoss() {
        checkUsable("readLoss");
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

    private void checkData(Dataset data) {
        Objects.requireNonNull(data, "data must not be null");
        checkData(data.featureCount(), data.targetCount());
    }

    private void checkData(int features, int targets) {
        if (features != net.inputs())
            throw new ShapeException("data has " + features + " features per row but the network ("
                    + net.describe() + ") takes " + net.inputs());
        if (targets != net.outputs())
            throw new ShapeException("data has " + targets + " targets per row but the network ("
                    + net.describe() + ") outputs " + net.outputs());
    }

    private static int[] identity(int n) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        return o;
    }

    private static int predictedClass(float[] out, int row, int width) {
        if (width == 1) return out[row] >= 0.5f ? 1 : 0;
        int best = 0;
        for (int j = 1; j < width; j++) if (out[row * width + j] > out[row * width + best]) best = j;
        return best;
    }

    private static int trueClass(Dataset d, int row, int width) {
        if (width == 1) return d.target(row, 0) >= 0.5f ? 1 : 0;
        int best = 0;
        for (int j = 1; j < width; j++) if (d.target(row, j) > d.target(row, best)) best = j;
        return best;
    }

    /** Device buffers for a batch of {@code rows} samples, made once per distinct batch size. */
    public Workspace workspace(int rows) {
        checkUsable("workspace");
        if (rows <= 0) throw new IllegalArgumentException("workspace rows must be >= 1, got " + rows);
        return workspaces.computeIfAbsent(rows, r -> {
            Workspace ws = new Workspace(backend, net, r);
            ws.stepBody = () -> runStep(ws);
            return ws;
        });
    }

    /** Frees the trainer's device buffers (not the model's). Idempotent; any later use throws. */
    @Override
    public void close() {
        if (closed) return;
        try (var _ = backend.enterRelease("close trainer")) {
            closed = true;
            workspaces.values().forEach(Workspace::close);
            workspaces.clear();
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

    /**
     * Fixed device buffers for one batch size: inputs, targets, Z, A and δ for every layer, and for a
     * layer with dropout its masked activation and the mask.
     */
    public static final class Workspace implements AutoCloseable {
        private final Backend backend;
        public final int rows;
        public final Matrix x;
        public final Matrix y;
        final Matrix[] z;
        final Matrix[] a;
        final Matrix[] delta;
        /** Per layer with dropout (else null): A ⊙ mask, what the next layer reads in training, and the mask. */
        final Matrix[] dropped;
        final Matrix[] mask;
        private final float[] xHost;
        private final float[] yHost;
        private Runnable stepBody;

        Workspace(Backend backend, Network net, int rows) {
            this.backend = backend;
            this.rows = rows;
            z = new Matrix[net.depth()];
            a = new Matrix[net.depth()];
            delta = new Matrix[net.depth()];
            dropped = new Matrix[net.depth()];
            mask = new Matrix[net.depth()];
            Matrix xm = null, ym = null;
            try (var _ = backend.enterHost("workspace")) {
                xm = backend.allocate(rows, net.inputs());
                ym = backend.allocate(rows, net.outputs());
                for (int l = 0; l < net.depth(); l++) {
                    z[l] = backend.allocate(rows, net.fanOut(l));
                    a[l] = backend.allocate(rows, net.fanOut(l));
                    delta[l] = backend.allocate(rows, net.fanOut(l));
                    if (net.layers().get(l).dropout() > 0) {
                        dropped[l] = backend.allocate(rows, net.fanOut(l));
                        mask[l] = backend.allocate(rows, net.fanOut(l));
                    }
                }
            } catch (RuntimeException | Error e) {
                closeAll(xm, ym);
                throw e;
            }
            x = xm;
            y = ym;
            // the backend has refused any of these shapes beyond one array's reach, so the products fit an int
            xHost = new float[(int) x.size()];
            yHost = new float[(int) y.size()];
        }

        /** Gathers rows order[from..from+rows) on the host and uploads them: the step's only transfer. */
        public void load(Dataset data, int[] order, int from) {
            Objects.requireNonNull(data, "data must not be null");
            data.gather(order, from, rows, xHost, yHost);
            try (var _ = backend.enterHost("load")) {
                backend.upload(xHost, x);
                backend.upload(yHost, y);
            }
        }

        /** Layer l's activations A_l (rows × units) from the last forward pass. */
        public Matrix activation(int layer) {
            return a[layer];
        }

        /** The output activations (ŷ) of the last forward pass. */
        public Matrix output() {
            return a[a.length - 1];
        }

        @Override
        public void close() {
            try (var _ = backend.enterRelease("close workspace")) {
                closeAll(x, y);
            }
        }

        private void closeAll(Matrix xm, Matrix ym) {
            for (Matrix m : new Matrix[] {xm, ym}) if (m != null) m.close();
            for (Matrix[] layerBuffers : new Matrix[][] {z, a, delta, dropped, mask})
                for (Matrix m : layerBuffers) if (m != null) m.close();
        }
    }
}
