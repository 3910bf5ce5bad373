package io.github.backprop4j.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A checkpoint file, read into host memory: what {@link Model#save} and {@link Trainer#save} write and
 * {@code backprop4j train} writes after every epoch. The file is standard safetensors — tensors
 * {@code layerL.weight} [in, out] and {@code layerL.bias} [out], for a training checkpoint also the
 * optimizer's slots {@code layerL.weight.optI} / {@code layerL.bias.optI} (and, with early stopping past
 * its best epoch, the last epoch's parameters {@code layerL.weight.last} / {@code layerL.bias.last}: the
 * model's tensors are the best epoch's) — with metadata holding the network (layers with their dropout),
 * the normalization, the class names, a regression model's target normalization, for a training
 * checkpoint the optimizer, step count, epochs done, seed, batch size, learning-rate schedule, dropout
 * seed, gradient clipping and early-stopping state, and any entries of the writer's own.
 *
 * <p>Guarantees, on both sides: a save is atomic (a temp file beside the target, forced to disk, then
 * renamed over it: a process killed mid-save leaves the previous file), streams in 1 MiB chunks with
 * 64-bit offsets (files past 2 GiB; one tensor on the host at a time) and refuses parameters or state
 * that are not finite. Every file carries a SHA-256 over its metadata, tensor layout and data, verified
 * on read; a file whose checksum, format, shapes or metadata are wrong, or whose tensors hold NaN or
 * infinity, is refused with an {@link IOException} naming the file and the problem, before anything is
 * allocated that the file merely claims (tensors are checked against the heap first). Files of the
 * formats before this one ({@code backprop4j-checkpoint/1}, {@code /2} and {@code /3}) are read as well;
 * their activation "gelu" was the tanh approximation and is read as {@link Activation#GELU_TANH} (from
 * {@code /4} on, "gelu" is the exact {@link Activation#GELU} and "gelu_tanh" the approximation).
 *
 * <pre>
 * Checkpoint saved = Checkpoint.read(Path.of("run.safetensors"));
 * try (Model model = saved.model(backend); Trainer trainer = Trainer.resume(model, saved)) {
 *     trainer.fit(train, 5);   // five more epochs, exactly as if the run had never stopped
 * }
 * </pre>
 */
public final class Checkpoint {

    /**
     * Written by this version: /3 with "gelu" meaning the exact GELU, layers' dropout, the target
     * normalization, and the schedule, dropout seed, clipping and early stopping in the training part.
     */
    static final String FORMAT = "backprop4j-checkpoint/4";
    /** Read: the training part optional and the normalization kind "none"; "gelu" is the tanh approximation. */
    static final String FORMAT_3 = "backprop4j-checkpoint/3";
    /** Read: a training checkpoint with its checksum. */
    static final String FORMAT_2 = "backprop4j-checkpoint/2";
    /** Read for compatibility: files from before checksums, validated structurally only. */
    static final String FORMAT_1 = "backprop4j-checkpoint/1";
    /** Metadata keys the checkpoint writes itself; other keys are the writer's own. */
    static final Set<String> RESERVED_KEYS = Set.of("format", Safetensors.CHECKSUM_KEY, "network", "normalization",
            "classes", "target_normalization", "optimizer", "optimizer_step", "epochs_done", "seed", "batch", "schedule",
            "dropout_seed", "clip_norm", "early_stopping");
    private static final List<String> TRAINING_KEYS = List.of("optimizer", "optimizer_step", "epochs_done", "seed",
            "batch");
    /** The training part's keys from format /4 on (required there; the defaults before it). */
    private static final List<String> TRAINING_KEYS_4 = List.of("schedule", "dropout_seed", "clip_norm");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The suffix of the last epoch's parameters, saved beside the best epoch's (early stopping). */
    private static final String LAST = ".last";

    /**
     * The training part of a checkpoint: what {@link Trainer#resume} continues from.
     *
     * @param optimizer     the optimizer, with the settings it last ran with
     * @param batchSize     rows per step
     * @param seed          the seed of every epoch's shuffle
     * @param epochsDone    epochs completed
     * @param optimizerStep optimizer steps taken
     * @param schedule      the learning-rate schedule ({@link LearningRateSchedule#constant()} before format /4)
     * @param dropoutSeed   the seed of the dropout masks
     * @param clipNorm      the gradient clipping norm, 0 for none
     * @param earlyStopping early stopping's progress, or null when it was off
     */
    public record Training(Optimizer optimizer, int batchSize, long seed, int epochsDone, long optimizerStep,
                           LearningRateSchedule schedule, long dropoutSeed, float clipNorm,
                           Trainer.EarlyStopping earlyStopping) {
    }

    private final Path file;
    private final Network network;
    private final Normalization normalization;
    private final Normalization targetNormalization;
    private final List<String> classNames;
    private final Map<String, String> metadata;
    private final Training training;
    private final float[][] weights;
    private final float[][] biases;
    /** The last epoch's parameters when the model's are an earlier (best) epoch's; null otherwise or when not read. */
    private final float[][] lastWeights;
    private final float[][] lastBiases;
    /** Per parameter (layer l's weight at 2l, its bias at 2l + 1), the optimizer's slots; null when not read. */
    private final float[][][] slots;

    private Checkpoint(Path file, Network network, Normalization[] normalizations, List<String> classNames,
                       Map<String, String> metadata, Training training, float[][][] parameters, float[][][] slots) {
        this.file = file;
        this.network = network;
        this.normalization = normalizations[0];
        this.targetNormalization = normalizations[1];
        this.classNames = classNames;
        this.metadata = metadata;
        this.training = training;
        this.weights = parameters[0];
        this.biases = parameters[1];
        this.lastWeights = parameters[2];
        this.lastBiases = parameters[3];
        this.slots = slots;
    }

    /**
     * Reads and validates a whole checkpoint, the optimizer state of a training checkpoint included
     * (to {@link Trainer#resume} it).
     *
     * @param file the checkpoint
     * @return its contents
     * @throws IOException if it cannot be read or is not a valid checkpoint (naming the file and why);
     *                     a missing file is a {@link java.nio.file.NoSuchFileException}
     */
    public static Checkpoint read(Path file) throws IOException {
        return read(file, true);
    }

    /**
     * Reads and validates a checkpoint, checking the optimizer state (checksum, shapes) without keeping
     * it: what evaluation and export need, in a third of a training checkpoint's memory for Adam.
     *
     * @param file the checkpoint
     * @return its contents, without optimizer state
     * @throws IOException if it cannot be read or is not a valid checkpoint
     */
    public static Checkpoint readWithoutOptimizerState(Path file) throws IOException {
        return read(file, false);
    }

    private static Checkpoint read(Path file, boolean optimizerState) throws IOException {
        Objects.requireNonNull(file, "file must not be null");
        Safetensors.Contents c = Safetensors.read(file, name -> optimizerState || !(name.contains(".opt")
                || name.endsWith(LAST)));
        String where = "checkpoint " + file + ": ";
        Map<String, String> meta = c.metadata();
        try {
            String format = meta.get("format");
            if (!FORMAT.equals(format) && !FORMAT_3.equals(format) && !FORMAT_2.equals(format) && !FORMAT_1.equals(format))
                throw new Safetensors.Invalid(where + "not a backprop4j checkpoint (metadata format is "
                        + (format == null ? "missing" : "'" + format + "'") + ")");
            if (!FORMAT_1.equals(format) && !c.verified())
                throw new Safetensors.Invalid(where + "its " + Safetensors.CHECKSUM_KEY + " checksum is missing (the "
                        + "file is corrupted or was edited)");
            Network net = network(json(meta, "network", where), !FORMAT.equals(format));
            Normalization norm = normalization(json(meta, "normalization", where));
            if (!norm.fits(net.inputs()))
                throw new Safetensors.Invalid(where + "the normalization " + norm.describe() + " does not fit the "
                        + "network, which takes " + net.inputs() + " features");
            Normalization targetNorm = meta.containsKey("target_normalization")
                    ? normalization(json(meta, "target_normalization", where)) : Normalization.none();
            if (!targetNorm.isIdentity() && (net.task() != Task.REGRESS || !targetNorm.fits(net.outputs())))
                throw new Safetensors.Invalid(where + "the target normalization " + targetNorm.describe() + " does not "
                        + "fit the network (" + net.describe() + ")");
            List<String> classes = new ArrayList<>();
            JsonNode classNodes = json(meta, "classes", where);
            if (!classNodes.isArray())
                throw new Safetensors.Invalid(where + "bad metadata: 'classes' is not a JSON array");
            classNodes.forEach(n -> classes.add(n.asText()));
            net.task().checkClassNames(classes, net.outputs());
            Training training = training(meta, format, where);
            int slotCount = training == null ? 0 : training.optimizer().slots();
            int depth = net.depth();
            boolean last = lastExpected(training, where, c.shapes().containsKey("layer0.weight" + LAST));
            float[][][] parameters = new float[4][][];
            for (int k = 0; k < 4; k++) parameters[k] = k < 2 || (last && optimizerState) ? new float[depth][] : null;
            float[][][] slots = optimizerState ? new float[2 * depth][slotCount][] : null;
            for (int l = 0; l < depth; l++) {
                int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
                parameters[0][l] = tensor(c, "layer" + l + ".weight", weightShape, where);
                parameters[1][l] = tensor(c, "layer" + l + ".bias", biasShape, where);
                if (last) {
                    float[] w = tensor(c, "layer" + l + ".weight" + LAST, weightShape, where);
                    float[] b = tensor(c, "layer" + l + ".bias" + LAST, biasShape, where);
                    if (parameters[2] != null) {
                        parameters[2][l] = w;
                        parameters[3][l] = b;
                    }
                }
                for (int i = 0; i < slotCount; i++) {
                    float[] w = tensor(c, "layer" + l + ".weight.opt" + i, weightShape, where);
                    float[] b = tensor(c, "layer" + l + ".bias.opt" + i, biasShape, where);
                    if (slots != null) {
                        slots[2 * l][i] = w;
                        slots[2 * l + 1][i] = b;
                    }
                }
            }
            int expectedTensors = 2 * depth * (1 + slotCount + (last ? 1 : 0));
            if (c.shapes().size() != expectedTensors)   // all expected ones are present (checked above): extras
                throw new Safetensors.Invalid(where + c.shapes().size() + " tensors, but a " + depth + "-layer network"
                        + (training == null ? "" : " with " + training.optimizer().name() + " state") + " has "
                        + expectedTensors);
            Map<String, String> own = new LinkedHashMap<>(meta);
            own.keySet().removeAll(RESERVED_KEYS);
            return new Checkpoint(file, net, new Normalization[] {norm, targetNorm}, List.copyOf(classes),
                    Collections.unmodifiableMap(own), training, parameters, slots);
        } catch (Safetensors.Invalid e) {
            throw e;
        } catch (RuntimeException e) {
            String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new Safetensors.Invalid(where + "bad metadata: " + reason, e);
        }
    }

    /** The training part: required before format /3, all or nothing since. */
    private static Training training(Map<String, String> meta, String format, String where) throws IOException {
        boolean current = FORMAT.equals(format);
        List<String> keys = new ArrayList<>(TRAINING_KEYS);
        if (current) keys.addAll(TRAINING_KEYS_4);
        long present = keys.stream().filter(meta::containsKey).count();
        if (present == 0 && (current || FORMAT_3.equals(format))) {
            if (meta.containsKey("early_stopping"))
                throw new Safetensors.Invalid(where + "metadata has 'early_stopping' but no training part");
            return null;
        }
        for (String key : keys) required(meta, key, where);
        Optimizer opt = optimizer(json(meta, "optimizer", where));
        int batch = intValue(meta, "batch", where);
        long seed = integer(meta, "seed", where);
        int epochs = intValue(meta, "epochs_done", where);
        long step = integer(meta, "optimizer_step", where);
        if (batch < 1 || epochs < 0 || step < 0 || step > Optimizer.State.MAX_STEP)
            throw new Safetensors.Invalid(where + "bad metadata: batch " + batch + ", epochs_done " + epochs
                    + ", optimizer_step " + step + " (batch must be >= 1, the counts >= 0, the step <= "
                    + Optimizer.State.MAX_STEP + ")");
        LearningRateSchedule schedule = current ? schedule(json(meta, "schedule", where)) : LearningRateSchedule.constant();
        long dropoutSeed = current ? integer(meta, "dropout_seed", where) : 0;
        float clipNorm = 0;
        if (current) {
            try {
                clipNorm = Float.parseFloat(meta.get("clip_norm"));
            } catch (NumberFormatException e) {
                throw new Safetensors.Invalid(where + "bad metadata: clip_norm '" + meta.get("clip_norm") + "' is not a "
                        + "number");
            }
        }
        if (!(clipNorm >= 0) || !Float.isFinite(clipNorm))
            throw new Safetensors.Invalid(where + "bad metadata: clip_norm " + clipNorm + " (must be finite and >= 0)");
        Trainer.EarlyStopping stopping = meta.containsKey("early_stopping")
                ? earlyStopping(json(meta, "early_stopping", where)) : null;
        if (stopping != null && stopping.bestEpoch() > epochs)
            throw new Safetensors.Invalid(where + "bad metadata: early stopping's best epoch " + stopping.bestEpoch()
                    + " is after the " + epochs + " epochs done");
        return new Training(opt, batch, seed, epochs, step, schedule, dropoutSeed, clipNorm, stopping);
    }

    /**
     * Whether the file must hold the last epoch's parameters besides the model's: exactly when early
     * stopping's best epoch is an earlier one than the last.
     */
    private static boolean lastExpected(Training training, String where, boolean present) throws IOException {
        Trainer.EarlyStopping s = training == null ? null : training.earlyStopping();
        boolean expected = s != null && s.bestEpoch() > 0 && s.bestEpoch() != training.epochsDone();
        if (present && !expected)
            throw new Safetensors.Invalid(where + "it holds last-epoch tensors (" + "layer0.weight" + LAST
                    + ") but no early stopping past its best epoch");
        if (!present && expected)
            throw new Safetensors.Invalid(where + "early stopping's best epoch is " + s.bestEpoch() + " of "
                    + training.epochsDone() + " but the last epoch's tensors (" + "layer0.weight" + LAST + ") are missing");
        return expected;
    }

    /** A tensor's data (null when it was not kept), after checking its shape and that every value is finite. */
    private static float[] tensor(Safetensors.Contents c, String name, int[] shape, String where) throws IOException {
        int[] actual = c.shapes().get(name);
        if (actual == null) throw new Safetensors.Invalid(where + "tensor " + name + " is missing");
        if (!Arrays.equals(actual, shape))
            throw new Safetensors.Invalid(where + "tensor " + name + " has shape " + Arrays.toString(actual)
                    + " but the network needs " + Arrays.toString(shape));
        Safetensors.Tensor t = c.tensors().get(name);
        if (t == null) return null;
        float[] v = t.data();
        int bad = firstNonFinite(v);
        if (bad >= 0)
            throw new Safetensors.Invalid(where + "tensor " + name + " holds " + v[bad] + " at index " + bad + " ("
                    + nonFinite(v) + " non-finite values): the run it saved had diverged or the file was edited; it "
                    + "cannot be used");
        return v;
    }

    private static int firstNonFinite(float[] v) {
        for (int i = 0; i < v.length; i++) if (!Float.isFinite(v[i])) return i;
        return -1;
    }

    private static int nonFinite(float[] v) {
        int n = 0;
        for (float x : v) if (!Float.isFinite(x)) n++;
        return n;
    }

    private static String required(Map<String, String> meta, String key, String where) throws IOException {
        String v = meta.get(key);
        if (v == null) throw new Safetensors.Invalid(where + "metadata has no '" + key + "'");
        return v;
    }

    /** A metadata entry holding a whole number, naming the key when it does not. */
    private static long integer(Map<String, String> meta, String key, String where) throws IOException {
        String v = required(meta, key, where);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Safetensors.Invalid(where + "bad metadata: " + key + " '" + v + "' is not an integer");
        }
    }

    private static int intValue(Map<String, String> meta, String key, String where) throws IOException {
        long v = integer(meta, key, where);
        if (v != (int) v) throw new Safetensors.Invalid(where + "bad metadata: " + key + " " + v + " is beyond 2^31-1");
        return (int) v;
    }

    private static JsonNode json(Map<String, String> meta, String key, String where) throws IOException {
        try {
            return JSON.readTree(required(meta, key, where));
        } catch (JsonProcessingException e) {
            throw new Safetensors.Invalid(where + "metadata '" + key + "' is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // What the file holds
    // ------------------------------------------------------------------------------------------

    /**
     * The file it was read from.
     *
     * @return the path given to {@link #read}
     */
    public Path file() {
        return file;
    }

    /**
     * The network's shape.
     *
     * @return the network
     */
    public Network network() {
        return network;
    }

    /**
     * The normalization the model was trained with.
     *
     * @return the normalization ({@link Normalization#none()} for a model without one)
     */
    public Normalization normalization() {
        return normalization;
    }

    /**
     * The normalization of a regression model's targets.
     *
     * @return it ({@link Normalization#none()} for none)
     */
    public Normalization targetNormalization() {
        return targetNormalization;
    }

    /**
     * The class names, in output order.
     *
     * @return the names, or an empty list
     */
    public List<String> classNames() {
        return classNames;
    }

    /**
     * The training part, present in a checkpoint written by {@link Trainer#save}.
     *
     * @return the optimizer and progress, or empty for a model-only checkpoint
     */
    public Optional<Training> training() {
        return Optional.ofNullable(training);
    }

    /**
     * The writer's own metadata entries (e.g. {@code backprop4j train}'s data source and history), in
     * file order; the checkpoint's own keys are not among them.
     *
     * @return an unmodifiable map
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The model, uploaded to {@code backend}, with its normalizations and class names (with early stopping,
     * the best epoch's parameters).
     *
     * @param backend where the parameters go
     * @return the model, to close when done
     */
    public Model model(Backend backend) {
        Model m = Model.of(backend, network, weights, biases);
        try {
            m.setNormalization(normalization);
            m.setTargetNormalization(targetNormalization);
            m.setClassNames(classNames);
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Layer l's weights on the host (not copied: for OnnxExport, which only reads them). */
    float[][] weights() {
        return weights;
    }

    float[][] biases() {
        return biases;
    }

    /** The last epoch's weights when the model's are an earlier epoch's (early stopping), else null. */
    float[][] lastWeights() {
        return lastWeights;
    }

    float[][] lastBiases() {
        return lastBiases;
    }

    /** The optimizer's slots per parameter (weight of layer l at 2l, bias at 2l + 1), or null when not read. */
    float[][][] optimizerSlots() {
        return slots;
    }

    // ------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------

    /**
     * Writes {@code model}, and {@code trainer}'s state and progress when it is not null, with the
     * caller's metadata. Each tensor is downloaded when its turn to be written comes, and refused if it
     * holds a value that is not finite.
     */
    static void write(Path file, Model model, Trainer trainer, Map<String, String> own) throws IOException {
        Objects.requireNonNull(file, "file must not be null");
        Objects.requireNonNull(own, "metadata must not be null");
        for (String key : own.keySet())
            if (key == null || RESERVED_KEYS.contains(key) || own.get(key) == null)
                throw new IllegalArgumentException("checkpoint metadata: key '" + key + "' is written by the checkpoint "
                        + "itself, or an entry is null");
        Network net = model.network();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("network", networkJson(net).toString());
        meta.put("normalization", normalizationJson(model.normalization()).toString());
        meta.put("classes", JSON.valueToTree(model.classNames()).toString());
        if (!model.targetNormalization().isIdentity())
            meta.put("target_normalization", normalizationJson(model.targetNormalization()).toString());
        if (trainer != null) {
            meta.put("optimizer", optimizerJson(trainer.optimizer()).toString());
            meta.put("optimizer_step", Long.toString(trainer.optimizerStep()));
            meta.put("epochs_done", Integer.toString(trainer.epochsDone()));
            meta.put("seed", Long.toString(trainer.seed()));
            meta.put("batch", Integer.toString(trainer.batchSize()));
            meta.put("schedule", scheduleJson(trainer.learningRateSchedule()).toString());
            meta.put("dropout_seed", Long.toString(trainer.dropoutSeed()));
            meta.put("clip_norm", Float.toString(trainer.gradientClipping()));
            trainer.earlyStopping().ifPresent(s -> meta.put("early_stopping", earlyStoppingJson(s).toString()));
        }
        meta.putAll(own);
        Backend b = model.backend();
        // With early stopping the model's tensors are the best epoch's, and the last epoch's go beside them.
        float[][][] best = trainer == null ? null : trainer.bestParameters();
        float[][][] last = trainer == null ? null : trainer.lastEpochParameters();
        Map<String, Safetensors.Source> tensors = new LinkedHashMap<>();
        for (int l = 0; l < net.depth(); l++) {
            int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
            String layer = "layer" + l;
            tensors.put(layer + ".weight", parameter(layer + ".weight", weightShape, b, model.weights(l), best, 0, l));
            tensors.put(layer + ".bias", parameter(layer + ".bias", biasShape, b, model.bias(l), best, 1, l));
        }
        if (trainer != null && trainer.savesLastEpochApart())
            for (int l = 0; l < net.depth(); l++) {
                int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
                String layer = "layer" + l;
                tensors.put(layer + ".weight" + LAST, parameter(layer + ".weight" + LAST, weightShape, b,
                        model.weights(l), last, 0, l));
                tensors.put(layer + ".bias" + LAST, parameter(layer + ".bias" + LAST, biasShape, b, model.bias(l), last,
                        1, l));
            }
        if (trainer != null)
            for (int l = 0; l < net.depth(); l++) {
                Optimizer.State ws = trainer.weightState(l), bs = trainer.biasState(l);
                int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
                for (int i = 0; i < ws.slotCount(); i++) {
                    String name = "layer" + l + ".weight.opt" + i;
                    tensors.put(name, finite(name, weightShape, b, ws.slot(i)));
                }
                for (int i = 0; i < bs.slotCount(); i++) {
                    String name = "layer" + l + ".bias.opt" + i;
                    tensors.put(name, finite(name, biasShape, b, bs.slot(i)));
                }
            }
        try (var _ = b.enterHost("save")) {
            Safetensors.writeStreaming(file, meta, tensors);
        }
    }

    /**
     * A parameter tensor: {@code host[kind][layer]} when the host holds a copy to save instead of the
     * device's (null: the device's), refused if not finite.
     */
    private static Safetensors.Source parameter(String name, int[] shape, Backend backend, Matrix m, float[][][] host,
                                                int kind, int layer) {
        if (host == null) return finite(name, shape, backend, m);
        float[] v = host[kind][layer];
        return finite(name, shape, () -> v);
    }

    /** A tensor downloaded when written, refused (the save aborted, the old file kept) if not finite. */
    private static Safetensors.Source finite(String name, int[] shape, Backend backend, Matrix m) {
        return finite(name, shape, () -> {
            float[] v = new float[(int) m.size()];
            backend.download(m, v);
            return v;
        });
    }

    /** A tensor produced when written, refused (the save aborted, the old file kept) if not finite. */
    private static Safetensors.Source finite(String name, int[] shape, Supplier<float[]> values) {
        Supplier<float[]> data = () -> {
            float[] v = values.get();
            int bad = firstNonFinite(v);
            if (bad >= 0)
                throw new IllegalStateException("cannot save tensor " + name + ": it holds " + v[bad] + " at index " + bad
                        + " (" + nonFinite(v) + " non-finite values); the model has diverged");
            return v;
        };
        return new Safetensors.Source(shape, data);
    }

    /** The network: each layer's units, activation ("gelu" the exact GELU, "gelu_tanh" the approximation) and dropout. */
    static ObjectNode networkJson(Network net) {
        ObjectNode o = JSON.createObjectNode().put("inputs", net.inputs());
        ArrayNode layers = o.putArray("layers");
        for (Network.Layer l : net.layers()) {
            ObjectNode layer = layers.addObject().put("units", l.units())
                    .put("activation", l.activation().name().toLowerCase(Locale.ROOT));
            if (l.dropout() > 0) layer.put("dropout", l.dropout());
        }
        o.put("loss", net.loss().name().toLowerCase(Locale.ROOT));
        return o;
    }

    /**
     * The network of {@link #networkJson}; {@code tanhGelu}: a file from before format /4, whose "gelu"
     * was the tanh approximation.
     */
    static Network network(JsonNode o, boolean tanhGelu) {
        List<Network.Layer> layers = new ArrayList<>();
        for (JsonNode l : o.path("layers")) {
            String name = l.path("activation").asText();
            Activation f = tanhGelu && name.equals("gelu") ? Activation.GELU_TANH : Activation.parse(name);
            float dropout = l.has("dropout") ? number(l.get("dropout"), "layer dropout") : 0f;
            layers.add(new Network.Layer(l.path("units").asInt(), f, dropout));
        }
        return new Network(o.path("inputs").asInt(), layers, Loss.parse(o.path("loss").asText()));
    }

    static ObjectNode scheduleJson(LearningRateSchedule s) {
        return JSON.createObjectNode().put("kind", s.kind().name().toLowerCase(Locale.ROOT))
                .put("warmup_steps", s.warmupSteps()).put("period", s.period()).put("gamma", s.gamma())
                .put("total_steps", s.totalSteps()).put("min_learning_rate", s.minLearningRate());
    }

    static LearningRateSchedule schedule(JsonNode o) {
        String kind = o.path("kind").asText();
        LearningRateSchedule.Kind k = Arrays.stream(LearningRateSchedule.Kind.values())
                .filter(v -> v.name().toLowerCase(Locale.ROOT).equals(kind)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown learning-rate schedule '" + kind
                        + "': expected constant, step or cosine"));
        return new LearningRateSchedule(k, integer(o.get("warmup_steps"), "schedule warmup_steps"),
                integer(o.get("period"), "schedule period"), number(o.get("gamma"), "schedule gamma"),
                integer(o.get("total_steps"), "schedule total_steps"),
                number(o.get("min_learning_rate"), "schedule min_learning_rate"));
    }

    /** Early stopping's state; the best loss only once there is a best epoch (JSON has no infinity). */
    static ObjectNode earlyStoppingJson(Trainer.EarlyStopping s) {
        ObjectNode o = JSON.createObjectNode().put("patience", s.patience()).put("best_epoch", s.bestEpoch())
                .put("epochs_without_improvement", s.epochsWithoutImprovement());
        if (s.bestEpoch() > 0) o.put("best_loss", s.bestLoss());
        return o;
    }

    static Trainer.EarlyStopping earlyStopping(JsonNode o) {
        int bestEpoch = integer(o.get("best_epoch"), "early_stopping best_epoch");
        JsonNode loss = o.get("best_loss");
        if (bestEpoch > 0 && (loss == null || !loss.isNumber()))
            throw new IllegalArgumentException("early_stopping best_loss is " + (loss == null ? "missing" : "not a "
                    + "number: " + loss));
        if (bestEpoch == 0 && loss != null)
            throw new IllegalArgumentException("early_stopping has a best_loss but no best epoch");
        return new Trainer.EarlyStopping(integer(o.get("patience"), "early_stopping patience"),
                bestEpoch > 0 ? loss.doubleValue() : Double.POSITIVE_INFINITY, bestEpoch,
                integer(o.get("epochs_without_improvement"), "early_stopping epochs_without_improvement"));
    }

    static ObjectNode normalizationJson(Normalization n) {
        ObjectNode o = JSON.createObjectNode().put("kind", n.kind());
        if (n.means() != null) {
            ArrayNode mean = o.putArray("mean");
            for (float v : n.means()) mean.add(v);
            ArrayNode std = o.putArray("std");
            for (float v : n.deviations()) std.add(v);
        }
        return o;
    }

    static Normalization normalization(JsonNode o) {
        String kind = o.path("kind").asText();
        if (kind.equals(Normalization.NONE_KIND) || kind.equals(Normalization.PIXELS_KIND)) {
            if (o.has("mean") || o.has("std"))
                throw new IllegalArgumentException("normalization " + kind + " takes no mean or std, got " + o);
            return kind.equals(Normalization.NONE_KIND) ? Normalization.none() : Normalization.pixels();
        }
        if (!kind.equals(Normalization.STANDARDIZE_KIND))
            throw new IllegalArgumentException("unknown normalization '" + kind + "' (expected "
                    + Normalization.NONE_KIND + ", " + Normalization.PIXELS_KIND + " or "
                    + Normalization.STANDARDIZE_KIND + ")");
        JsonNode mean = o.path("mean"), std = o.path("std");
        if (!mean.isArray() || !std.isArray())
            throw new IllegalArgumentException("normalization needs 'mean' and 'std' arrays, got " + o);
        float[] m = new float[mean.size()], s = new float[std.size()];
        for (int i = 0; i < m.length; i++) m[i] = number(mean.get(i), "normalization mean");
        for (int i = 0; i < s.length; i++) s[i] = number(std.get(i), "normalization std");
        return Normalization.standardize(m, s);
    }

    static ObjectNode optimizerJson(Optimizer optimizer) {
        ObjectNode o = JSON.createObjectNode().put("kind", optimizer.name())
                .put("learning_rate", optimizer.learningRate());
        switch (optimizer) {
            case Optimizer.Sgd s -> o.put("l2", s.l2());
            case Optimizer.Momentum m -> o.put("momentum", m.momentum()).put("l2", m.l2());
            case Optimizer.Nesterov n -> o.put("momentum", n.momentum()).put("l2", n.l2());
            case Optimizer.Adam a -> o.put("beta1", a.beta1()).put("beta2", a.beta2()).put("epsilon", a.epsilon())
                    .put("l2", a.l2());
            case Optimizer.AdamW a -> o.put("beta1", a.beta1()).put("beta2", a.beta2()).put("epsilon", a.epsilon())
                    .put("weight_decay", a.weightDecay());
        }
        return o;
    }

    static Optimizer optimizer(JsonNode o) {
        String kind = o.path("kind").asText();
        float lr = number(o.get("learning_rate"), "optimizer learning_rate");
        return switch (kind) {
            case "sgd" -> new Optimizer.Sgd(lr, number(o.get("l2"), "optimizer l2"));
            case "momentum" -> new Optimizer.Momentum(lr, number(o.get("momentum"), "optimizer momentum"),
                    number(o.get("l2"), "optimizer l2"));
            case "nesterov" -> new Optimizer.Nesterov(lr, number(o.get("momentum"), "optimizer momentum"),
                    number(o.get("l2"), "optimizer l2"));
            case "adam" -> new Optimizer.Adam(lr, number(o.get("beta1"), "optimizer beta1"),
                    number(o.get("beta2"), "optimizer beta2"), number(o.get("epsilon"), "optimizer epsilon"),
                    number(o.get("l2"), "optimizer l2"));
            case "adamw" -> new Optimizer.AdamW(lr, number(o.get("beta1"), "optimizer beta1"),
                    number(o.get("beta2"), "optimizer beta2"), number(o.get("epsilon"), "optimizer epsilon"),
                    number(o.get("weight_decay"), "optimizer weight_decay"));
            default -> throw new IllegalArgumentException("unknown optimizer '" + kind
                    + "': expected sgd, momentum, nesterov, adam or adamw");
        };
    }

    private static float number(JsonNode n, String what) {
        if (n == null || !n.isNumber()) throw new IllegalArgumentException(what + " is " + (n == null ? "missing"
                : "not a number: " + n));
        return n.floatValue();
    }

    private static int integer(JsonNode n, String what) {
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber())
            throw new IllegalArgumentException(what + " is " + (n == null ? "missing" : "not an integer: " + n));
        return n.intValue();
    }

    // ------------------------------------------------------------------------------------------
    // One run per file
    // ------------------------------------------------------------------------------------------

    /**
     * Locks {@code file} for this process until the lock is closed: a hidden {@code .NAME.lock} beside
     * it, held with {@link FileChannel#tryLock()} (an OS lock, released when the process exits however
     * it exits) and holding this process's pid and start time. Hold it for a whole training run, so a
     * second run on the same checkpoint fails at its start instead of both overwriting each other's
     * epochs. The lock file stays (deleting it would race with a run about to lock it).
     *
     * <pre>
     * try (Checkpoint.Lock lock = Checkpoint.lock(file)) {
     *     trainer.fit(train, 15, saveEveryEpoch);
     * }
     * </pre>
     *
     * @param file the checkpoint to be written
     * @return the lock, to close when the run is over
     * @throws IOException naming the holder when another run (in this or another process) holds it, or
     *                     if the lock file cannot be made
     */
    public static Lock lock(Path file) throws IOException {
        Path lockFile = lockFile(file);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;   // this JVM holds it already
            }
            if (lock != null) {
                ch.truncate(0);
                ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", started " + Instant.now()
                        + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                return new Lock(ch, lock);
            }
        } catch (IOException e) {
            if (ch != null) ch.close();
            throw new IOException("cannot lock checkpoint " + file + " (" + lockFile + "): " + AtomicFiles.reason(e, null),
                    e);
        }
        String holder = holder(ch);
        ch.close();
        throw new IOException("checkpoint " + file + " is in use by another training run"
                + (holder.isEmpty() ? "" : " (" + holder + ")") + "; wait for it to finish or write another checkpoint "
                + "(lock file " + lockFile + ")");
    }

    /** The hidden lock file beside {@code checkpoint}. */
    static Path lockFile(Path checkpoint) {
        Path abs = checkpoint.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".lock");
    }

    /** The holder's own description from the lock file, "" when unreadable. */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(256);
            ch.read(b, 0);
            String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return text.lines().findFirst().orElse("").replaceAll("\\p{Cntrl}", "?");
        } catch (IOException e) {
            return "";
        }
    }

    /** A checkpoint locked for one run ({@link #lock}); closing it, or the process ending, releases it. */
    public static final class Lock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private Lock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        /** Releases the lock (the lock file stays). */
        @Override
        public void close() {
            try {
                if (lock.isValid()) lock.release();
                channel.close();
            } catch (IOException ignored) {
                // the OS drops the lock with the process anyway
            }
        }
    }
}
