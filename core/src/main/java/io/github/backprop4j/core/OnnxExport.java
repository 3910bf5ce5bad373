package io.github.backprop4j.core;

import com.google.protobuf.UnsafeByteOperations;
import io.github.backprop4j.core.internal.onnx.Onnx.AttributeProto;
import io.github.backprop4j.core.internal.onnx.Onnx.GraphProto;
import io.github.backprop4j.core.internal.onnx.Onnx.ModelProto;
import io.github.backprop4j.core.internal.onnx.Onnx.NodeProto;
import io.github.backprop4j.core.internal.onnx.Onnx.OperatorSetIdProto;
import io.github.backprop4j.core.internal.onnx.Onnx.StringStringEntryProto;
import io.github.backprop4j.core.internal.onnx.Onnx.TensorProto;
import io.github.backprop4j.core.internal.onnx.Onnx.TensorShapeProto;
import io.github.backprop4j.core.internal.onnx.Onnx.TypeProto;
import io.github.backprop4j.core.internal.onnx.Onnx.ValueInfoProto;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * A trained network written as a standard ONNX model, to serve it with ONNX Runtime (Java, C#, Python,
 * the browser) or any other ONNX runtime. One graph, opset {@value #OPSET} of the default domain:
 * <pre>
 * input [batch, features] ─ Sub(offset) ─ Div(scale) ─ Gemm ─ activation ─ … ─ Gemm ─ activation ─ [Mul ─ Add] ─ output
 * </pre>
 * The input normalization is optional (the model then takes the features exactly as the network was
 * trained on them), and so is the output scaling (a regression model's target normalization undone, so
 * the outputs are {@link Model#predict}'s, in the targets' units). A layer's dropout leaves no node:
 * it is inverted dropout (kept units scaled by 1/(1 − p) in training), so at inference it is the identity.
 * Each layer is a {@code Gemm} with its weights [fan-in, fan-out] and bias as
 * initializers, followed by its activation as the standard operator ({@code Relu}, {@code LeakyRelu},
 * {@code Sigmoid}, {@code Tanh}, {@code Softmax}; GELU, which has no operator before opset 20, as its formula:
 * the exact one as {@code Div}(√2)/{@code Erf}/{@code Add}/{@code Mul} nodes, the tanh approximation as
 * {@code Mul}/{@code Add}/{@code Tanh} nodes). The batch dimension is the
 * symbol {@value #BATCH}, so any number of rows can be run. Metadata (read back with e.g. ONNX Runtime's
 * {@code OnnxModelMetadata.getCustomMetadata()}): {@code task}, {@code classes} (a JSON array),
 * {@code network}, {@code input_normalization}, {@code backprop4j_version}.
 *
 * <pre>
 * OnnxExport.of(model).inputNormalization(mean, std).classNames(List.of("cat", "dog")).write(Path.of("model.onnx"));
 * </pre>
 */
public final class OnnxExport {

    /** The ONNX operator set the graph uses (released with ONNX 1.12 in 2022). */
    public static final int OPSET = 17;
    /** The ONNX IR (file format) version that goes with {@link #OPSET}. */
    public static final int IR_VERSION = 8;
    /** Name of the graph's input, [batch, features] float32. */
    public static final String INPUT = "input";
    /** The symbolic name of the batch dimension of the input and the output. */
    public static final String BATCH = "batch";
    /**
     * One protobuf message cannot exceed 2 GiB; the parameters must leave room for the rest of the
     * file (graph, names, metadata: a few kilobytes).
     */
    static final long MAX_PARAMETER_BYTES = Integer.MAX_VALUE - (1L << 20);
    /** Metadata keys the exporter writes itself. */
    private static final List<String> RESERVED_KEYS = List.of("task", "classes", "network", "input_normalization",
            "output_scaling", "backprop4j_version");

    private final Network network;
    private final float[][] weights;
    private final float[][] biases;
    private float[] inputOffset;
    private float[] inputScale;
    private float[] outputScale;
    private float[] outputOffset;
    private List<String> classNames;
    private String description;
    private final Map<String, String> metadata = new LinkedHashMap<>();

    private OnnxExport(Network network, float[][] weights, float[][] biases) {
        this.network = network;
        this.weights = weights;
        this.biases = biases;
    }

    /**
     * The model's parameters, downloaded from its backend once, now, with its normalization (the graph
     * then takes raw features, as {@link Model#predict} does) and its class names.
     *
     * @param model a trained model
     * @return an export of it, to configure and write
     * @throws IllegalArgumentException if the parameters are not finite or too large for one ONNX file
     */
    public static OnnxExport of(Model model) {
        Network net = model.network();
        checkSize(net);
        float[][] w = new float[net.depth()][], b = new float[net.depth()][];
        for (int l = 0; l < net.depth(); l++) {
            w[l] = model.downloadWeights(l);
            b[l] = model.downloadBias(l);
        }
        return of(net, w, b).described(model.normalization(), model.targetNormalization(), model.classNames());
    }

    /**
     * A checkpoint's model, from its host arrays (no backend needed), with its normalization, its target
     * normalization and class names.
     *
     * @param checkpoint read with {@link Checkpoint#readWithoutOptimizerState} (or {@link Checkpoint#read})
     * @return an export of it, to configure and write
     */
    public static OnnxExport of(Checkpoint checkpoint) {
        return of(checkpoint.network(), checkpoint.weights(), checkpoint.biases())
                .described(checkpoint.normalization(), checkpoint.targetNormalization(), checkpoint.classNames());
    }

    /**
     * Takes over a model's normalization, its target normalization inverted as the output scaling (as
     * {@link Model#predict} maps outputs back; unless the identity) and class names (unless none).
     */
    private OnnxExport described(Normalization normalization, Normalization targets, List<String> names) {
        if (!normalization.isIdentity())
            inputNormalization(normalization.offset(network.inputs()), normalization.scale(network.inputs()));
        if (!targets.isIdentity())
            outputScaling(targets.scale(network.outputs()), targets.offset(network.outputs()));
        if (!names.isEmpty()) classNames(names);
        return this;
    }

    /**
     * Parameters on the host: per layer l, W_l row-major [fan-in × fan-out] and b_l [fan-out] (the
     * layout of {@link Model#of} and of the checkpoint). Shapes are checked and every value must be
     * finite (a diverged model is refused rather than exported to produce NaN elsewhere). The arrays
     * are not copied: they are read again when the model is serialized.
     *
     * @param network the network's shape and loss (which decides the task and the output's name)
     * @param weights per layer, row-major [fan-in × fan-out]
     * @param biases per layer, [fan-out]
     * @return an export of them, to configure and write
     * @throws ShapeException if an array does not fit the network
     * @throws IllegalArgumentException if a value is not finite or the parameters exceed one ONNX file
     */
    public static OnnxExport of(Network network, float[][] weights, float[][] biases) {
        checkSize(network);
        if (weights.length != network.depth() || biases.length != network.depth())
            throw new ShapeException("ONNX export: the network (" + network.describe() + ") has " + network.depth()
                    + " layers but " + weights.length + " weight and " + biases.length + " bias arrays were given");
        for (int l = 0; l < network.depth(); l++) {
            int in = network.fanIn(l), out = network.fanOut(l);
            if (weights[l].length != (long) in * out)
                throw new ShapeException("ONNX export: layer " + (l + 1) + " weights have " + weights[l].length
                        + " values, not " + in + "×" + out);
            if (biases[l].length != out)
                throw new ShapeException("ONNX export: layer " + (l + 1) + " bias has " + biases[l].length
                        + " values, not " + out);
            String diverged = " (a diverged model cannot be exported)";
            requireFinite("layer " + (l + 1) + " weight", weights[l], out, diverged);
            requireFinite("layer " + (l + 1) + " bias", biases[l], out, diverged);
        }
        return new OnnxExport(network, weights, biases);
    }

    static void checkSize(Network network) {
        long bytes = 4 * network.parameterCount();
        if (bytes > MAX_PARAMETER_BYTES)
            throw new IllegalArgumentException("ONNX export: the network (" + network.describe() + ") has "
                    + network.parameterCount() + " parameters, " + bytes + " bytes: over the 2 GiB a single ONNX "
                    + "(protobuf) file can hold");
    }

    /**
     * Normalizes raw features inside the model: the first layer sees {@code (x − offset) / scale}, per
     * feature, exactly as the training data was prepared (CSV standardization: offset = mean,
     * scale = standard deviation; 8-bit pixels: offset 0, scale 255).
     *
     * @param offset per input feature, finite
     * @param scale per input feature, finite and non-zero
     * @return this export
     */
    public OnnxExport inputNormalization(float[] offset, float[] scale) {
        checkAffine("input normalization", offset, scale, network.inputs(), "feature");
        this.inputOffset = offset.clone();
        this.inputScale = scale.clone();
        return this;
    }

    /**
     * Maps the network's outputs back to the units of the targets: output = ŷ·scale + offset, per
     * output (for regression targets standardized before training: scale = std, offset = mean).
     *
     * @param scale per output, finite and non-zero
     * @param offset per output, finite
     * @return this export
     * @throws IllegalArgumentException for a classifier, whose outputs are probabilities
     */
    public OnnxExport outputScaling(float[] scale, float[] offset) {
        checkAffine("output scaling", offset, scale, network.outputs(), "output");
        if (task() != Task.REGRESS)
            throw new IllegalArgumentException("ONNX export: output scaling applies to regression outputs, not to "
                    + "the probabilities of a " + task().id() + " network");
        this.outputScale = scale.clone();
        this.outputOffset = offset.clone();
        return this;
    }

    /**
     * Class names in output order, stored as the metadata {@code classes}: one per output of a
     * classifier, or for a binary network with one output either one name (the positive class) or
     * two (negative, positive).
     *
     * @param names the class names
     * @return this export
     * @throws IllegalArgumentException for a regression network or a count that does not fit the outputs
     */
    public OnnxExport classNames(List<String> names) {
        List<String> copy = List.copyOf(names);
        try {
            network.task().checkClassNames(copy, network.outputs());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("ONNX export: " + e.getMessage() + " (" + network.describe() + ")", e);
        }
        this.classNames = copy.isEmpty() ? null : copy;
        return this;
    }

    /**
     * The model's doc string (default: what the network is and what its input and output hold).
     *
     * @param text the description
     * @return this export
     */
    public OnnxExport description(String text) {
        this.description = text;
        return this;
    }

    /**
     * An extra metadata entry (e.g. how the training data was prepared); the built-in keys are reserved.
     *
     * @param key a key other than the exporter's own
     * @param value its value
     * @return this export
     */
    public OnnxExport metadata(String key, String value) {
        if (key == null || key.isEmpty() || value == null)
            throw new IllegalArgumentException("ONNX export: metadata needs a non-empty key and a value");
        if (RESERVED_KEYS.contains(key))
            throw new IllegalArgumentException("ONNX export: metadata key '" + key + "' is written by the exporter");
        metadata.put(key, value);
        return this;
    }

    /**
     * The task, from the network's loss, as written to the metadata {@code task}.
     *
     * @return the network's task; the metadata holds its {@link Task#id() id}
     */
    public Task task() {
        return network.task();
    }

    /**
     * The name of the graph's output.
     *
     * @return "probabilities" for classifiers, "values" for regression
     */
    public String outputName() {
        return switch (task()) {
            case CLASSIFY, BINARY -> "probabilities";
            case REGRESS -> "values";
        };
    }

    /**
     * The ONNX model as bytes.
     *
     * @return the serialized ModelProto
     */
    public byte[] toByteArray() {
        return build().toByteArray();
    }

    /**
     * Writes the model atomically: readers of {@code file} see the old file or the whole new one.
     *
     * @param file the ONNX file; missing parent directories are created
     * @throws IOException if it cannot be written
     */
    public void write(Path file) throws IOException {
        AtomicFiles.write(file, toByteArray());
    }

    // ------------------------------------------------------------------------------------------
    // The graph
    // ------------------------------------------------------------------------------------------

    private ModelProto build() {
        Graph g = new Graph();
        String x = INPUT;
        if (inputOffset != null) {
            g.initializer("input_offset", inputOffset, inputOffset.length);
            g.initializer("input_scale", inputScale, inputScale.length);
            x = g.node("Sub", "normalize/center", "input minus the per-feature offset", List.of(x, "input_offset"));
            x = g.node("Div", "normalize/scale", "divided by the per-feature scale", List.of(x, "input_scale"));
        }
        for (int l = 0; l < network.depth(); l++) {
            int in = network.fanIn(l), out = network.fanOut(l);
            Activation f = network.layers().get(l).activation();
            String prefix = "layer" + l;
            g.initializer(prefix + ".weight", weights[l], in, out);
            g.initializer(prefix + ".bias", biases[l], out);
            x = g.node("Gemm", prefix + "/gemm", "layer " + (l + 1) + " of " + network.depth() + ": " + in + "→" + out
                    + ", Z = A·W + b", List.of(x, prefix + ".weight", prefix + ".bias"));
            x = activation(g, f, prefix, x);
        }
        if (outputScale != null) {
            g.initializer("output_scale", outputScale, outputScale.length);
            g.initializer("output_offset", outputOffset, outputOffset.length);
            x = g.node("Mul", "output/scale", "outputs times the per-output scale", List.of(x, "output_scale"));
            g.node("Add", "output/offset", "plus the per-output offset", List.of(x, "output_offset"));
        }
        g.renameLastOutput(outputName());

        GraphProto.Builder graph = GraphProto.newBuilder()
                .setName("backprop4j_mlp")
                .setDocString(network.describe())
                .addInput(value(INPUT, network.inputs(), inputDoc()))
                .addOutput(value(outputName(), network.outputs(), outputDoc()));
        g.nodes.forEach(graph::addNode);
        graph.addAllInitializer(g.initializers);

        ModelProto.Builder model = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("backprop4j")
                .setProducerVersion(VERSION)
                .setDomain("io.github.backprop4j")
                .setModelVersion(1)
                .setDocString(description != null ? description : defaultDescription())
                .setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        for (Map.Entry<String, String> e : allMetadata().entrySet())
            model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(e.getKey()).setValue(e.getValue()));
        return model.build();
    }

    /**
     * The activation after layer {@code prefix}'s Gemm, as standard operators; returns the output's
     * name. The switch has no default: a new {@link Activation} does not compile until it has an
     * export rule here.
     */
    private static String activation(Graph g, Activation f, String prefix, String z) {
        String name = prefix + "/" + f.name().toLowerCase(Locale.ROOT);
        return switch (f) {
            case IDENTITY -> z;
            case RELU -> g.node("Relu", name, "max(z, 0)", List.of(z));
            case LEAKY_RELU -> g.node("LeakyRelu", name, "max(z, 0.01·z)", List.of(z),
                    attribute("alpha", (float) Activation.LEAKY_SLOPE));
            case SIGMOID -> g.node("Sigmoid", name, "1 / (1 + exp(−z))", List.of(z));
            case TANH -> g.node("Tanh", name, "tanh(z)", List.of(z));
            case GELU -> gelu(g, name, z);
            case GELU_TANH -> geluTanh(g, name, z);
            case SOFTMAX -> g.node("Softmax", name, "softmax over the last axis (the classes)", List.of(z),
                    attribute("axis", -1L));
        };
    }

    /** GELU, exact (as {@link Activation#GELU}): 0.5·z·(1 + erf(z/√2)), as PyTorch exports it before opset 20. */
    private static String gelu(Graph g, String name, String z) {
        String half = g.scalar("gelu/half", 0.5f), one = g.scalar("gelu/one", 1f);
        String sqrt2 = g.scalar("gelu/sqrt_2", (float) Math.sqrt(2));
        String doc = "GELU: 0.5·z·(1 + erf(z/√2))";
        String erf = g.node("Erf", name + "/erf", doc, List.of(g.node("Div", name + "/scaled", doc, List.of(z, sqrt2))));
        String onePlusErf = g.node("Add", name + "/one_plus_erf", doc, List.of(erf, one));
        return g.node("Mul", name, doc, List.of(g.node("Mul", name + "/z_times", doc, List.of(z, onePlusErf)), half));
    }

    /** GELU, tanh approximation (as {@link Activation#GELU_TANH}): 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))). */
    private static String geluTanh(Graph g, String name, String z) {
        String half = g.scalar("gelu/half", 0.5f), one = g.scalar("gelu/one", 1f);
        String c = g.scalar("gelu/sqrt_2_over_pi", (float) Activation.GELU_C);
        String k = g.scalar("gelu/cubic_coefficient", (float) Activation.GELU_K);
        String doc = "GELU, tanh approximation: 0.5·z·(1 + tanh(√(2/π)·(z + 0.044715·z³)))";
        String z2 = g.node("Mul", name + "/z2", doc, List.of(z, z));
        String z3 = g.node("Mul", name + "/z3", doc, List.of(z2, z));
        String kz3 = g.node("Mul", name + "/kz3", doc, List.of(z3, k));
        String inner = g.node("Add", name + "/inner", doc, List.of(z, kz3));
        String t = g.node("Tanh", name + "/tanh", doc, List.of(g.node("Mul", name + "/scaled", doc, List.of(inner, c))));
        String halfZ = g.node("Mul", name + "/half_z", doc, List.of(z, half));
        String onePlusT = g.node("Add", name + "/one_plus_tanh", doc, List.of(t, one));
        return g.node("Mul", name, doc, List.of(halfZ, onePlusT));
    }

    /** Nodes and initializers in the order they are added (which is topological: each uses earlier values). */
    private static final class Graph {
        final List<NodeProto> nodes = new ArrayList<>();
        final List<TensorProto> initializers = new ArrayList<>();
        private final List<String> scalars = new ArrayList<>();

        /** Adds a node whose one output is named after the node; returns that name. */
        String node(String op, String name, String doc, List<String> inputs, AttributeProto... attributes) {
            nodes.add(NodeProto.newBuilder().setOpType(op).setName(name).setDocString(doc).addAllInput(inputs)
                    .addOutput(name).addAllAttribute(List.of(attributes)).build());
            return name;
        }

        void renameLastOutput(String output) {
            NodeProto last = nodes.removeLast();
            nodes.add(last.toBuilder().setOutput(0, output).build());
        }

        void initializer(String name, float[] values, long... dims) {
            byte[] raw = new byte[values.length * Float.BYTES];
            ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
            TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                    .setRawData(UnsafeByteOperations.unsafeWrap(raw));   // raw is not shared: no copy needed
            for (long d : dims) t.addDims(d);
            initializers.add(t.build());
        }

        /** A 0-d float constant, added once however many layers use it. */
        String scalar(String name, float value) {
            if (!scalars.contains(name)) {
                scalars.add(name);
                initializer(name, new float[]{value});
            }
            return name;
        }
    }

    private static AttributeProto attribute(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static AttributeProto attribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static ValueInfoProto value(String name, int width, String doc) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width))
                .build();
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(type).setDocString(doc).build();
    }

    // ------------------------------------------------------------------------------------------
    // Documentation and metadata
    // ------------------------------------------------------------------------------------------

    private String inputDoc() {
        return network.inputs() + " features per row, float32; " + (inputOffset != null
                ? "raw values: the model normalizes them as in training ((x − input_offset) / input_scale)"
                : "fed to the first layer as they are (no normalization in the model)");
    }

    private String outputDoc() {
        return switch (task()) {
            case CLASSIFY -> "class probabilities per row (softmax), in the order of metadata 'classes'";
            case BINARY -> "probability of the positive class per output (sigmoid)";
            case REGRESS -> network.outputs() + " predicted value(s) per row" + (outputScale != null
                    ? ", in the units of the targets" : "");
        };
    }

    private String defaultDescription() {
        return "Multilayer perceptron " + network.describe() + " trained with backprop4j (task " + task().id()
                + "). Input '" + INPUT + "': " + inputDoc() + ". Output '" + outputName() + "': " + outputDoc() + ".";
    }

    private Map<String, String> allMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task", task().id());
        if (classNames != null) m.put("classes", jsonArray(classNames));
        m.put("network", network.describe());
        m.put("input_normalization", inputOffset != null ? "(input - input_offset) / input_scale, per feature" : "none");
        if (outputScale != null) m.put("output_scaling", "output * output_scale + output_offset, per output");
        m.put("backprop4j_version", VERSION);
        m.putAll(metadata);
        return m;
    }

    /** The strings as a JSON array, with the escapes JSON requires (quote, backslash, control characters). */
    static String jsonArray(List<String> values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append('"');
            for (char ch : values.get(i).toCharArray()) {
                switch (ch) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (ch < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                        else sb.append(ch);
                    }
                }
            }
            sb.append('"');
        }
        return sb.append(']').toString();
    }

    // ------------------------------------------------------------------------------------------
    // Checks
    // ------------------------------------------------------------------------------------------

    private static void checkAffine(String what, float[] offset, float[] scale, int width, String unit) {
        if (offset == null || scale == null)
            throw new IllegalArgumentException("ONNX export: " + what + " needs both an offset and a scale");
        if (offset.length != width || scale.length != width)
            throw new ShapeException("ONNX export: " + what + " has " + offset.length + " offsets and " + scale.length
                    + " scales but the network has " + width + " " + unit + "s");
        requireFinite(what + " offset", offset, width, "");
        requireFinite(what + " scale", scale, width, "");
        for (int i = 0; i < width; i++)
            if (scale[i] == 0)
                throw new IllegalArgumentException("ONNX export: " + what + " scale of " + unit + " " + i + " is 0");
    }

    /** Throws naming the first non-finite element: [i] of a vector, [row, column] of a row-major matrix. */
    private static void requireFinite(String what, float[] values, int width, String hint) {
        for (int i = 0; i < values.length; i++)
            if (!Float.isFinite(values[i]))
                throw new IllegalArgumentException("ONNX export: " + what + " " + (values.length == width ? "[" + i + "]"
                        : "[" + i / width + ", " + i % width + "]") + " is " + values[i] + hint);
    }

    /** backprop4j's version, from the build (version.properties, filtered by Maven). */
    static final String VERSION = readVersion();

    private static String readVersion() {
        try (InputStream in = OnnxExport.class.getResourceAsStream("version.properties")) {
            if (in == null) throw new IllegalStateException("version.properties is missing from backprop4j-core");
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
