package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A network's parameters, resident on one backend — W_l (fan-in × fan-out) and b_l (1 × fan-out) —
 * with what it takes to use them: the {@link Normalization} its inputs get, for classifiers the class
 * names, for regression the normalization of its targets. Inference and persistence live here; training
 * is {@link Trainer}'s.
 *
 * <p>Every method that takes features takes them raw, as the data comes: the model applies its
 * normalization first ({@link #predict}, {@link #evaluate}, and {@link Trainer#fit} alike), so a model
 * trained on pixel values 0–255 is given pixel values 0–255. Likewise targets and predictions are in the
 * data's own units: a regression model with a {@link #setTargetNormalization target normalization}
 * trains on the normalized targets and maps its outputs back. Dropout never applies here (only in
 * {@link Trainer}'s steps). Inference allocates no gradients and no
 * optimizer state: forward passes run in chunks of {@value #INFERENCE_ROWS} rows through buffers the
 * model allocates on first use and frees in {@link #close()}.
 *
 * <pre>
 * try (Model model = Model.load(backend, Path.of("model.safetensors"))) {
 *     float[][] probabilities = model.predict(new float[][] {row});
 *     Model.Evaluation e = model.evaluate(test);
 * }
 * </pre>
 */
public final class Model implements AutoCloseable {

    /** Rows per forward pass in {@link #predict} and {@link #evaluate}. */
    public static final int INFERENCE_ROWS = 512;

    /**
     * A model's quality on a data set; which metrics apply depends on the {@link Task}, the others are
     * NaN.
     *
     * @param loss     the mean loss per sample, as training computes it (for regression on the targets as
     *                 the target normalization scales them)
     * @param accuracy classifiers and binary networks: the share of rows whose predicted class is the
     *                 target's (argmax, or ≥ 0.5 for one output)
     * @param samples  the number of rows
     * @param auc      binary networks with one output: the area under the ROC curve of the predicted
     *                 probability (tied scores share their rank, so a tie counts half); NaN when the data
     *                 holds one class only
     * @param mse      regression: the mean squared error in the targets' own units, over every row and
     *                 output
     * @param mae      regression: the mean absolute error in the targets' own units
     * @param r2       regression: the coefficient of determination 1 − SS_res/SS_tot of each output,
     *                 averaged over the outputs; NaN when a target is constant
     */
    public record Evaluation(double loss, double accuracy, int samples, double auc, double mse, double mae, double r2) {
    }

    private final Network network;
    private final Backend backend;
    private final Matrix[] weights;
    private final Matrix[] biases;
    private Normalization normalization = Normalization.none();
    private Normalization targetNormalization = Normalization.none();
    private List<String> classNames = List.of();
    /** Inference buffers, made on first use: one for full chunks, one for the last chunk's size. */
    private Workspace fullChunk;
    private Workspace lastChunk;
    private Matrix lossSum;
    private volatile boolean closed;

    private Model(Network network, Backend backend) {
        this.network = Objects.requireNonNull(network, "network must not be null");
        this.backend = Objects.requireNonNull(backend, "backend must not be null");
        this.weights = new Matrix[network.depth()];
        this.biases = new Matrix[network.depth()];
        try {
            for (int l = 0; l < network.depth(); l++) {
                weights[l] = backend.allocate(network.fanIn(l), network.fanOut(l));
                biases[l] = backend.allocate(1, network.fanOut(l));
            }
        } catch (RuntimeException | Error e) {
            close();   // what was allocated before the failure
            throw e;
        }
    }

    /** Runs {@code fill} on a new model, closing it if filling fails. */
    private static Model filled(Network network, Backend backend, Consumer<Model> fill) {
        Objects.requireNonNull(backend, "backend must not be null");
        try (var _ = backend.enterHost("new Model")) {
            Model m = new Model(network, backend);
            try {
                fill.accept(m);
                return m;
            } catch (RuntimeException | Error e) {
                m.close();
                throw e;
            }
        }
    }

    /**
     * New parameters drawn from {@code new Random(seed).nextGaussian()}: He-normal (σ = √(2/fan-in))
     * before ReLU-family and GELU layers (both kinds), Glorot-normal (σ = √(2/(fan-in+fan-out))) before the
     * others; biases zero. No normalization and no class names yet.
     *
     * @param backend where the parameters live
     * @param network the shape
     * @param seed    the same seed gives the same parameters on every backend
     * @return the model, to close when done
     */
    public static Model initialize(Backend backend, Network network, long seed) {
        return filled(network, backend, m -> {
            Random rng = new Random(seed);
            for (int l = 0; l < network.depth(); l++) {
                int in = network.fanIn(l), out = network.fanOut(l);
                double sigma = switch (network.layers().get(l).activation()) {
                    case RELU, LEAKY_RELU, GELU, GELU_TANH -> Math.sqrt(2.0 / in);
                    default -> Math.sqrt(2.0 / ((double) in + out));
                };
                float[] w = new float[(int) m.weights[l].size()];   // the backend checked the size when allocating
                for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * sigma);
                backend.upload(w, m.weights[l]);
            }
        });
    }

    /**
     * Parameters given on the host (row-major W_l and b_l per layer), e.g. from a test or another
     * framework. Every array must have its layer's size and hold finite values only; nothing is
     * allocated on the device before all of them are checked.
     *
     * @param backend where the parameters live
     * @param network the shape
     * @param weights per layer, row-major [fan-in × fan-out]
     * @param biases  per layer, [fan-out]
     * @return the model, to close when done
     * @throws ShapeException if an array does not fit its layer
     * @throws IllegalArgumentException if a value is not finite, naming layer and index
     */
    public static Model of(Backend backend, Network network, float[][] weights, float[][] biases) {
        Objects.requireNonNull(backend, "backend must not be null");
        Objects.requireNonNull(network, "network must not be null");
        Objects.requireNonNull(weights, "weights must not be null");
        Objects.requireNonNull(biases, "biases must not be null");
        if (weights.length != network.depth() || biases.length != network.depth())
            throw new ShapeException("network has " + network.depth() + " layers but " + weights.length
                    + " weight and " + biases.length + " bias arrays were given");
        for (int l = 0; l < network.depth(); l++) {
            checkParameter("weights", l, weights[l], (long) network.fanIn(l) * network.fanOut(l),
                    network.fanIn(l) + "×" + network.fanOut(l), network.fanOut(l));
            checkParameter("bias", l, biases[l], network.fanOut(l), "1×" + network.fanOut(l), network.fanOut(l));
        }
        return filled(network, backend, m -> {
            for (int l = 0; l < network.depth(); l++) {
                backend.upload(weights[l], m.weights[l]);
                backend.upload(biases[l], m.biases[l]);
            }
        });
    }

    private static void checkParameter(String what, int layer, float[] v, long size, String shape, int cols) {
        String name = "layer " + (layer + 1) + " " + what;
        if (v == null) throw new NullPointerException(name + " must not be null");
        if (v.length != size)
            throw new ShapeException(name + ": " + v.length + " floats given, " + shape + " needs " + size);
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new IllegalArgumentException(name + " value " + v[i] + " at [" + (i / cols) + ", " + (i % cols)
                        + "] is not finite");
    }

    /**
     * Reads a checkpoint written by {@link #save} or {@link Trainer#save} (or by {@code backprop4j train})
     * onto {@code backend}, with its normalization and class names; the optimizer state a training
     * checkpoint holds is checked but not kept. On the backend kind that saved it, the loaded model
     * predicts bit for bit what the saved one did.
     *
     * @param backend where the parameters go
     * @param file    the checkpoint
     * @return the model, to close when done
     * @throws IOException if the file cannot be read, or is not a valid checkpoint (the message names
     *                     the file and the problem)
     */
    public static Model load(Backend backend, Path file) throws IOException {
        Objects.requireNonNull(backend, "backend must not be null");
        return Checkpoint.readWithoutOptimizerState(file).model(backend);
    }

    /**
     * Writes this model as a checkpoint (see {@link Checkpoint}): parameters, normalization and class
     * names, atomically and checksummed, one tensor on the host at a time. {@link Trainer#save} adds the
     * optimizer state and progress to the same format.
     *
     * @param file the checkpoint to write; missing parent directories are created
     * @throws IOException if it cannot be written (naming the file, never a temp file)
     * @throws IllegalStateException if a parameter is not finite (a diverged model is not saved)
     */
    public void save(Path file) throws IOException {
        checkOpen("save");
        Checkpoint.write(file, this, null, java.util.Map.of());
    }

    /**
     * The shape.
     *
     * @return the network
     */
    public Network network() {
        return network;
    }

    /**
     * What the outputs mean.
     *
     * @return {@code network().task()}
     */
    public Task task() {
        return network.task();
    }

    /**
     * The backend holding the parameters.
     *
     * @return the backend
     */
    public Backend backend() {
        return backend;
    }

    /**
     * What raw features go through before the first layer.
     *
     * @return the normalization ({@link Normalization#none()} unless set)
     */
    public Normalization normalization() {
        return normalization;
    }

    /**
     * Sets what raw features go through before the first layer, for training and inference alike; it is
     * saved with the model and exported to ONNX.
     *
     * @param normalization e.g. {@link Normalization#standardize(Dataset)} of the training rows
     * @throws ShapeException if it standardizes another number of features than the network takes
     */
    public void setNormalization(Normalization normalization) {
        Objects.requireNonNull(normalization, "normalization must not be null");
        if (!normalization.fits(network.inputs()))
            throw new ShapeException("normalization " + normalization.describe() + " does not fit the network ("
                    + network.describe() + "), which takes " + network.inputs() + " features");
        this.normalization = normalization;
    }

    /**
     * What a regression network's targets go through in training, and its outputs through in reverse
     * ({@link Normalization#invert}) in {@link #predict} and {@link #evaluate}.
     *
     * @return the target normalization ({@link Normalization#none()} unless set)
     */
    public Normalization targetNormalization() {
        return targetNormalization;
    }

    /**
     * Sets the normalization of a regression network's targets, usually
     * {@link Normalization#standardizeTargets} of the training rows: training fits the normalized targets
     * (so the outputs' scale suits the initialization and the learning rate), and predictions, the
     * evaluation's metrics and the ONNX export map the outputs back to the targets' units. Saved with the
     * model.
     *
     * @param normalization one value per output, or {@link Normalization#none()}
     * @throws IllegalArgumentException for a network that is not a regression network (its outputs are
     *                                  probabilities), or a normalization of another width
     */
    public void setTargetNormalization(Normalization normalization) {
        Objects.requireNonNull(normalization, "target normalization must not be null");
        if (!normalization.isIdentity() && network.task() != Task.REGRESS)
            throw new IllegalArgumentException("a target normalization applies to regression networks, not to the "
                    + "probabilities of a " + network.task().id() + " network (" + network.describe() + ")");
        if (!normalization.fits(network.outputs()))
            throw new ShapeException("target normalization " + normalization.describe() + " does not fit the network ("
                    + network.describe() + "), which has " + network.outputs() + " outputs");
        this.targetNormalization = normalization;
    }

    /**
     * The class names, in output order.
     *
     * @return the names, or an empty list when none were set
     */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * Names the classes, in output order; saved with the model and exported to ONNX.
     *
     * @param names one per output of a classifier; one or two for a binary network with one output
     * @throws IllegalArgumentException if they do not fit the network's task and outputs
     */
    public void setClassNames(List<String> names) {
        List<String> copy = List.copyOf(Objects.requireNonNull(names, "class names must not be null"));
        network.task().checkClassNames(copy, network.outputs());
        this.classNames = copy;
    }

    /**
     * Layer l's weights on the device (for backend ops, diagnostics and tests).
     *
     * @param layer 0-based
     * @return W_l, fan-in × fan-out
     */
    public Matrix weights(int layer) {
        return weights[layer];
    }

    /**
     * Layer l's bias on the device.
     *
     * @param layer 0-based
     * @return b_l, 1 × fan-out
     */
    public Matrix bias(int layer) {
        return biases[layer];
    }

    /**
     * A host copy of layer l's weights.
     *
     * @param layer 0-based
     * @return W_l, row-major fan-in × fan-out
     */
    public float[] downloadWeights(int layer) {
        checkOpen("downloadWeights");
        float[] w = new float[(int) weights[layer].size()];
        backend.download(weights[layer], w);
        return w;
    }

    /**
     * A host copy of layer l's bias.
     *
     * @param layer 0-based
     * @return b_l
     */
    public float[] downloadBias(int layer) {
        checkOpen("downloadBias");
        float[] b = new float[(int) biases[layer].size()];
        backend.download(biases[layer], b);
        return b;
    }

    // ------------------------------------------------------------------------------------------
    // Inference
    // ------------------------------------------------------------------------------------------

    /**
     * The network's outputs for {@code rows} samples: class probabilities for a classifier, the
     * positive class's probability for a binary network, values for regression (in the targets' units:
     * the {@link #targetNormalization() target normalization} inverted).
     *
     * @param x    rows × inputs raw feature values, row-major (normalized here)
     * @param rows the number of samples
     * @return rows × outputs values, row-major
     * @throws ShapeException if x does not hold {@code rows} rows of the network's inputs
     * @throws IllegalArgumentException if a value is not finite, raw or normalized (naming row and column)
     */
    public float[] predict(float[] x, int rows) {
        checkOpen("predict");
        Objects.requireNonNull(x, "x must not be null");
        if (rows <= 0 || x.length != (long) rows * network.inputs())
            throw new ShapeException("predict: " + x.length + " floats is not " + rows + " rows of " + network.inputs());
        float[] out = forwardRows(x, rows, network.depth() - 1, "predict")[network.depth() - 1];
        invertTargets(out);
        return out;
    }

    /** Maps outputs (row-major, outputs wide) back to the targets' units, in place. */
    private void invertTargets(float[] out) {
        if (targetNormalization.isIdentity()) return;
        int w = network.outputs();
        for (int i = 0; i < out.length; i++) out[i] = targetNormalization.invert(out[i], i % w);
    }

    /**
     * {@link #predict(float[], int)} on row arrays.
     *
     * @param rows one array of raw features per sample
     * @return one array of outputs per sample
     */
    public float[][] predict(float[][] rows) {
        Objects.requireNonNull(rows, "rows must not be null");
        if (rows.length == 0) return new float[0][];
        int width = network.inputs(), outs = network.outputs();
        if ((long) rows.length * width > Dataset.MAX_ARRAY_LENGTH)
            throw new IllegalArgumentException("predict: " + rows.length + " rows × " + width + " features exceed one "
                    + "array; predict in parts");
        float[] flat = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] == null) throw new NullPointerException("predict: row " + i + " is null");
            if (rows[i].length != width)
                throw new ShapeException("predict: row " + i + " has " + rows[i].length + " features, the network ("
                        + network.describe() + ") takes " + width);
            System.arraycopy(rows[i], 0, flat, i * width, width);
        }
        float[] out = predict(flat, rows.length);
        float[][] result = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) result[i] = java.util.Arrays.copyOfRange(out, i * outs, (i + 1) * outs);
        return result;
    }

    /**
     * Every layer's outputs A_l for {@code rows} samples, e.g. to count dead ReLU units (the last layer's
     * as the network computes them, before any target normalization is inverted).
     *
     * @param x    rows × inputs raw feature values, row-major
     * @param rows the number of samples
     * @return per layer, rows × fan-out values, row-major
     */
    public float[][] activations(float[] x, int rows) {
        checkOpen("activations");
        Objects.requireNonNull(x, "x must not be null");
        if (rows <= 0 || x.length != (long) rows * network.inputs())
            throw new ShapeException("activations: " + x.length + " floats is not " + rows + " rows of "
                    + network.inputs());
        return forwardRows(x, rows, 0, "activations");
    }

    /**
     * Forward passes over x in chunks; returns the outputs of layers {@code first}..last for every row
     * (null for the layers before {@code first}).
     */
    private float[][] forwardRows(float[] x, int rows, int first, String op) {
        int depth = network.depth();
        float[][] result = new float[depth][];
        for (int l = first; l < depth; l++) {
            long count = (long) rows * network.fanOut(l);
            if (count > Dataset.MAX_ARRAY_LENGTH)
                throw new IllegalArgumentException(op + ": " + rows + " rows × " + network.fanOut(l) + " outputs of "
                        + "layer " + (l + 1) + " exceed the " + Dataset.MAX_ARRAY_LENGTH + " floats one array can hold; "
                        + "pass fewer rows at a time");
            result[l] = new float[(int) count];
        }
        try (var _ = backend.enterHost(op)) {
            for (int from = 0; from < rows; from += INFERENCE_ROWS) {
                int n = Math.min(INFERENCE_ROWS, rows - from);
                Workspace ws = inference(n);
                ws.loadFeatures(x, network.inputs(), from, normalization, op);
                forward(ws, depth - 1);
                for (int l = first; l < depth; l++) {
                    float[] host = l == depth - 1 ? ws.downloadOutput() : new float[n * network.fanOut(l)];
                    if (l < depth - 1) backend.download(ws.a[l], host);
                    System.arraycopy(host, 0, result[l], from * network.fanOut(l), host.length);
                }
            }
        }
        return result;
    }

    /**
     * The loss and the task's metrics over a data set, in one forward pass per chunk (no gradients):
     * accuracy for classifiers, accuracy and ROC AUC for binary networks, MSE, MAE and R² for regression.
     *
     * @param data raw features and targets
     * @return the evaluation
     * @throws ShapeException if the data's widths do not fit the network
     */
    public Evaluation evaluate(Dataset data) {
        return evaluate(data, null);
    }

    /**
     * As {@link #evaluate(Dataset)}, also copying the outputs ({@link #predict}'s) into {@code outputs}:
     * one forward pass serves both (e.g. for a confusion matrix).
     *
     * @param data    raw features and targets
     * @param outputs null, or rows × outputs floats to receive the outputs, row-major
     * @return the evaluation
     */
    public Evaluation evaluate(Dataset data, float[] outputs) {
        checkOpen("evaluate");
        checkNormalizable(data, "evaluate");
        int n = data.rows(), outs = network.outputs(), last = network.depth() - 1;
        if (outputs != null && outputs.length != (long) n * outs)
            throw new ShapeException("evaluate: outputs has " + outputs.length + " floats but " + n + " rows × "
                    + outs + " outputs need " + (long) n * outs);
        Task task = network.task();
        boolean classes = task != Task.REGRESS, ranked = task == Task.BINARY && outs == 1;
        float[] scores = ranked ? new float[n] : null;
        boolean[] positive = ranked ? new boolean[n] : null;
        double[] squaredErrors = new double[outs];
        double absoluteErrors = 0;
        try (var _ = backend.enterHost("evaluate")) {
            if (lossSum == null) lossSum = backend.allocate(1, 1);
            backend.upload(new float[1], lossSum);
            long correct = 0;
            for (int from = 0; from < n; from += INFERENCE_ROWS) {
                int count = Math.min(INFERENCE_ROWS, n - from);
                Workspace ws = inference(count);
                ws.load(data, null, from, normalization, targetNormalization);
                forward(ws, last);
                backend.lossGradient(network.loss(), ws.a[last], ws.y, ws.delta[last], lossSum);
                float[] out = ws.downloadOutput();
                invertTargets(out);
                if (outputs != null) System.arraycopy(out, 0, outputs, from * outs, count * outs);
                for (int i = 0; i < count; i++) {
                    if (classes && predictedClass(out, i, outs) == trueClass(data, from + i, outs)) correct++;
                    if (ranked) {
                        scores[from + i] = out[i];
                        positive[from + i] = trueClass(data, from + i, 1) == 1;
                    }
                    if (!classes)
                        for (int j = 0; j < outs; j++) {
                            double d = (double) out[i * outs + j] - data.target(from + i, j);
                            squaredErrors[j] += d * d;
                            absoluteErrors += Math.abs(d);
                        }
                }
            }
            float[] sum = new float[1];
            backend.download(lossSum, sum);
            double nan = Double.NaN, values = (double) n * outs;
            double sse = 0;
            for (double e : squaredErrors) sse += e;
            return new Evaluation(sum[0] / n, classes ? (double) correct / n : nan, n,
                    ranked ? Metrics.auc(scores, positive) : nan, classes ? nan : sse / values,
                    classes ? nan : absoluteErrors / values, classes ? nan : Metrics.r2(data, squaredErrors));
        }
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

    /** Layers 0..last forward on the batch in {@code ws}: A_l = f(A_{l−1}·W_l + b_l). */
    void forward(Workspace ws, int last) {
        try (var _ = backend.enter("forward")) {
            Matrix input = ws.x;
            for (int l = 0; l <= last; l++) {
                Activation f = network.layers().get(l).activation();
                backend.denseForward(f, input, weights[l], biases[l], ws.z[l], ws.a[l]);
                input = ws.a[l];
            }
        }
    }

    /** The inference buffers for a chunk of {@code rows}; at most two sizes are kept. */
    private Workspace inference(int rows) {
        if (rows == INFERENCE_ROWS) {
            if (fullChunk == null) fullChunk = Workspace.forInference(backend, network, rows);
            return fullChunk;
        }
        if (lastChunk != null && lastChunk.rows != rows) {
            lastChunk.close();
            lastChunk = null;
        }
        if (lastChunk == null) lastChunk = Workspace.forInference(backend, network, rows);
        return lastChunk;
    }

    /**
     * Throws unless {@code data} fits the network and stays finite once its features and targets are
     * normalized, naming the operation: what training and evaluation need.
     */
    void checkNormalizable(Dataset data, String op) {
        checkData(data, op);
        normalization.checkFinite(data, op);
        targetNormalization.checkFiniteTargets(data, op);
    }

    /** Throws unless {@code data}'s widths are the network's, naming the operation. */
    void checkData(Dataset data, String op) {
        Objects.requireNonNull(data, "data must not be null");
        checkWidths(data.featureCount(), data.targetCount(), op);
    }

    void checkWidths(int features, int targets, String op) {
        if (features != network.inputs())
            throw new ShapeException(op + ": data has " + features + " features per row but the network ("
                    + network.describe() + ") takes " + network.inputs());
        if (targets != network.outputs())
            throw new ShapeException(op + ": data has " + targets + " targets per row but the network ("
                    + network.describe() + ") outputs " + network.outputs());
    }

    /**
     * Writes this model as a standard ONNX file, atomically, with its normalization and class names, for
     * serving in ONNX Runtime or another ONNX runtime. {@link OnnxExport} adds metadata first.
     *
     * @param file the ONNX file to write; missing parent directories are created
     * @throws IOException if it cannot be written
     * @throws IllegalArgumentException if a parameter is not finite (a diverged model)
     */
    public void exportOnnx(Path file) throws IOException {
        OnnxExport.of(this).write(file);
    }

    /**
     * Whether {@link #close()} was called: its parameters are gone from the device.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        return closed;
    }

    /** Throws when the model is closed, naming the operation that needed it. */
    void checkOpen(String op) {
        if (closed) throw new IllegalStateException(op + ": the model (" + network.describe() + ") is closed");
    }

    /** Frees the parameters and the inference buffers. Idempotent; any later use throws. */
    @Override
    public void close() {
        try (var _ = backend.enterRelease("close model")) {
            closed = true;
            for (Matrix m : weights) if (m != null) m.close();
            for (Matrix m : biases) if (m != null) m.close();
            for (Workspace ws : new Workspace[] {fullChunk, lastChunk}) if (ws != null) ws.close();
            if (lossSum != null) lossSum.close();
            fullChunk = lastChunk = null;
            lossSum = null;
        }
    }
}
