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
 * optimizer's slots {@code layerL.weight.optI} / {@code layerL.bias.optI} — with metadata holding the
 * network, the normalization, the class names, for a training checkpoint the optimizer, step count,
 * epochs done, seed and batch size, and any entries of the writer's own.
 *
 * <p>Guarantees, on both sides: a save is atomic (a temp file beside the target, forced to disk, then
 * renamed over it: a process killed mid-save leaves the previous file), streams in 1 MiB chunks with
 * 64-bit offsets (files past 2 GiB; one tensor on the host at a time) and refuses parameters or state
 * that are not finite. Every file carries a SHA-256 over its metadata, tensor layout and data, verified
 * on read; a file whose checksum, format, shapes or metadata are wrong, or whose tensors hold NaN or
 * infinity, is refused with an {@link IOException} naming the file and the problem, before anything is
 * allocated that the file merely claims (tensors are checked against the heap first). Files of the
 * formats before this one ({@code backprop4j-checkpoint/1} and {@code /2}) are read as well.
 *
 * <pre>
 * Checkpoint saved = Checkpoint.read(Path.of("run.safetensors"));
 * try (Model model = saved.model(backend); Trainer trainer = Trainer.resume(model, saved)) {
 *     trainer.fit(train, 5);   // five more epochs, exactly as if the run had never stopped
 * }
 * </pre>
 */
public final class Checkpoint {

    /** Written by this version: /2 with the training part optional and the normalization kind "none". */
    static final String FORMAT = "backprop4j-checkpoint/3";
    /** Read: a training checkpoint with its checksum. */
    static final String FORMAT_2 = "backprop4j-checkpoint/2";
    /** Read for compatibility: files from before checksums, validated structurally only. */
    static final String FORMAT_1 = "backprop4j-checkpoint/1";
    /** Metadata keys the checkpoint writes itself; other keys are the writer's own. */
    static final Set<String> RESERVED_KEYS = Set.of("format", Safetensors.CHECKSUM_KEY, "network", "normalization",
            "classes", "optimizer", "optimizer_step", "epochs_done", "seed", "batch");
    private static final List<String> TRAINING_KEYS = List.of("optimizer", "optimizer_step", "epochs_done", "seed",
            "batch");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The training part of a checkpoint: what {@link Trainer#resume} continues from.
     *
     * @param optimizer     the optimizer, with the settings it last ran with
     * @param batchSize     rows per step
     * @param seed          the seed of every epoch's shuffle
     * @param epochsDone    epochs completed
     * @param optimizerStep optimizer steps taken
     */
    public record Training(Optimizer optimizer, int batchSize, long seed, int epochsDone, long optimizerStep) {
    }

    private final Path file;
    private final Network network;
    private final Normalization normalization;
    private final List<String> classNames;
    private final Map<String, String> metadata;
    private final Training training;
    private final float[][] weights;
    private final float[][] biases;
    /** Per parameter (layer l's weight at 2l, its bias at 2l + 1), the optimizer's slots; null when not read. */
    private final float[][][] slots;

    private Checkpoint(Path file, Network network, Normalization normalization, List<String> classNames,
                       Map<String, String> metadata, Training training, float[][][] parameters, float[][][] slots) {
        this.file = file;
        this.network = network;
        this.normalization = normalization;
        this.classNames = classNames;
        this.metadata = metadata;
        this.training = training;
        this.weights = parameters[0];
        this.biases = parameters[1];
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
        Safetensors.Contents c = Safetensors.read(file, name -> optimizerState || !name.contains(".opt"));
        String where = "checkpoint " + file + ": ";
        Map<String, String> meta = c.metadata();
        try {
            String format = meta.get("format");
            if (!FORMAT.equals(format) && !FORMAT_2.equals(format) && !FORMAT_1.equals(format))
                throw new Safetensors.Invalid(where + "not a backprop4j checkpoint (metadata format is "
                        + (format == null ? "missing" : "'" + format + "'") + ")");
            if (!FORMAT_1.equals(format) && !c.verified())
                throw new Safetensors.Invalid(where + "its " + Safetensors.CHECKSUM_KEY + " checksum is missing (the "
                        + "file is corrupted or was edited)");
            Network net = network(json(meta, "network", where));
            Normalization norm = normalization(json(meta, "normalization", where));
            if (!norm.fits(net.inputs()))
                throw new Safetensors.Invalid(where + "the normalization " + norm.describe() + " does not fit the "
                        + "network, which takes " + net.inputs() + " features");
            List<String> classes = new ArrayList<>();
            JsonNode classNodes = json(meta, "classes", where);
            if (!classNodes.isArray())
                throw new Safetensors.Invalid(where + "bad metadata: 'classes' is not a JSON array");
            classNodes.forEach(n -> classes.add(n.asText()));
            net.task().checkClassNames(classes, net.outputs());
            Training training = training(meta, format, where);
            int slotCount = training == null ? 0 : training.optimizer().slots();
            int depth = net.depth();
            float[][][] parameters = new float[2][depth][];
            float[][][] slots = optimizerState ? new float[2 * depth][slotCount][] : null;
            for (int l = 0; l < depth; l++) {
                int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
                parameters[0][l] = tensor(c, "layer" + l + ".weight", weightShape, where);
                parameters[1][l] = tensor(c, "layer" + l + ".bias", biasShape, where);
                for (int i = 0; i < slotCount; i++) {
                    float[] w = tensor(c, "layer" + l + ".weight.opt" + i, weightShape, where);
                    float[] b = tensor(c, "layer" + l + ".bias.opt" + i, biasShape, where);
                    if (slots != null) {
                        slots[2 * l][i] = w;
                        slots[2 * l + 1][i] = b;
                    }
                }
            }
            int expectedTensors = 2 * depth * (1 + slotCount);
            if (c.shapes().size() != expectedTensors)   // all expected ones are present (checked above): extras
                throw new Safetensors.Invalid(where + c.shapes().size() + " tensors, but a " + depth + "-layer network"
                        + (training == null ? "" : " with " + training.optimizer().name() + " state") + " has "
                        + expectedTensors);
            Map<String, String> own = new LinkedHashMap<>(meta);
            own.keySet().removeAll(RESERVED_KEYS);
            return new Checkpoint(file, net, norm, List.copyOf(classes), Collections.unmodifiableMap(own), training,
                    parameters, slots);
        } catch (Safetensors.Invalid e) {
            throw e;
        } catch (RuntimeException e) {
            String reason = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new Safetensors.Invalid(where + "bad metadata: " + reason, e);
        }
    }

    /** The training part: required before format /3, all or nothing since. */
    private static Training training(Map<String, String> meta, String format, String where) throws IOException {
        long present = TRAINING_KEYS.stream().filter(meta::containsKey).count();
        if (present == 0 && FORMAT.equals(format)) return null;
        for (String key : TRAINING_KEYS) required(meta, key, where);
        Optimizer opt = optimizer(json(meta, "optimizer", where));
        int batch = Integer.parseInt(meta.get("batch"));
        long seed = Long.parseLong(meta.get("seed"));
        int epochs = Integer.parseInt(meta.get("epochs_done"));
        long step = Long.parseLong(meta.get("optimizer_step"));
        if (batch < 1 || epochs < 0 || step < 0 || step > Optimizer.State.MAX_STEP)
            throw new Safetensors.Invalid(where + "bad metadata: batch " + batch + ", epochs_done " + epochs
                    + ", optimizer_step " + step + " (batch must be >= 1, the counts >= 0, the step <= "
                    + Optimizer.State.MAX_STEP + ")");
        return new Training(opt, batch, seed, epochs, step);
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
     * The model, uploaded to {@code backend}, with its normalization and class names.
     *
     * @param backend where the parameters go
     * @return the model, to close when done
     */
    public Model model(Backend backend) {
        Model m = Model.of(backend, network, weights, biases);
        try {
            m.setNormalization(normalization);
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
        if (trainer != null) {
            meta.put("optimizer", optimizerJson(trainer.optimizer()).toString());
            meta.put("optimizer_step", Long.toString(trainer.optimizerStep()));
            meta.put("epochs_done", Integer.toString(trainer.epochsDone()));
            meta.put("seed", Long.toString(trainer.seed()));
            meta.put("batch", Integer.toString(trainer.batchSize()));
        }
        meta.putAll(own);
        Backend b = model.backend();
        Map<String, Safetensors.Source> tensors = new LinkedHashMap<>();
        for (int l = 0; l < net.depth(); l++) {
            int[] weightShape = {net.fanIn(l), net.fanOut(l)}, biasShape = {net.fanOut(l)};
            String layer = "layer" + l;
            tensors.put(layer + ".weight", finite(layer + ".weight", weightShape, b, model.weights(l)));
            tensors.put(layer + ".bias", finite(layer + ".bias", biasShape, b, model.bias(l)));
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

    /** A tensor downloaded when written, refused (the save aborted, the old file kept) if not finite. */
    private static Safetensors.Source finite(String name, int[] shape, Backend backend, Matrix m) {
        Supplier<float[]> data = () -> {
            float[] v = new float[(int) m.size()];
            backend.download(m, v);
            int bad = firstNonFinite(v);
            if (bad >= 0)
                throw new IllegalStateException("cannot save tensor " + name + ": it holds " + v[bad] + " at index " + bad
                        + " (" + nonFinite(v) + " non-finite values); the model has diverged");
            return v;
        };
        return new Safetensors.Source(shape, data);
    }

    static ObjectNode networkJson(Network net) {
        ObjectNode o = JSON.createObjectNode().put("inputs", net.inputs());
        ArrayNode layers = o.putArray("layers");
        for (Network.Layer l : net.layers())
            layers.addObject().put("units", l.units()).put("activation", l.activation().name().toLowerCase(Locale.ROOT));
        o.put("loss", net.loss().name().toLowerCase(Locale.ROOT));
        return o;
    }

    static Network network(JsonNode o) {
        List<Network.Layer> layers = new ArrayList<>();
        for (JsonNode l : o.path("layers"))
            layers.add(new Network.Layer(l.path("units").asInt(), Activation.parse(l.path("activation").asText())));
        return new Network(o.path("inputs").asInt(), layers, Loss.parse(o.path("loss").asText()));
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
