package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.OnnxExport;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.conformance.OnnxExportConformance.Task;
import io.github.backprop4j.core.internal.onnx.Onnx;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ONNX file itself, without a backend: its structure as the ONNX specification wants it, and
 * ONNX Runtime's outputs against the float64 reference MLP for every activation and output kind.
 * (OnnxExportConformance compares with a backend's forward pass after training.)
 */
class OnnxExportTest {

    @TempDir
    Path dir;

    record Parameters(float[][] w, float[][] b) {
        static Parameters random(Network net, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            float[][] w = new float[net.depth()][], b = new float[net.depth()][];
            for (int l = 0; l < net.depth(); l++) {
                double s = 1.5 / Math.sqrt(net.fanIn(l));
                w[l] = Check.random(rng, net.fanIn(l) * net.fanOut(l), -s, s);
                b[l] = Check.random(rng, net.fanOut(l), -0.5, 0.5);
            }
            return new Parameters(w, b);
        }
    }

    @ParameterizedTest(name = "hidden {0}, {1}")
    @MethodSource("io.github.backprop4j.core.conformance.OnnxExportConformance#everyHiddenActivationAndTask")
    void onnxRuntimeComputesTheNetworkAsDefined(Activation hidden, Task task) throws Exception {
        Network net = task.network(5, hidden);
        Parameters p = Parameters.random(net, 31L * hidden.ordinal() + task.ordinal());
        int rows = 300;
        float[] x = Check.random(new SplittableRandom(5), rows * 5, -2.5, 2.5);
        Path file = dir.resolve(hidden + "-" + task + ".onnx");
        OnnxExport export = OnnxExport.of(net, p.w(), p.b());
        export.write(file);
        float[] got = OnnxRuntimeCheck.run(file, export.outputName(), x, rows, 5, task.outputs);
        float[] expected = toFloat(new ReferenceMlp(net, p.w(), p.b()).predict(Check.toDouble(x), rows));
        OnnxRuntimeCheck.assertMatches(hidden + "/" + task, expected, got, task.outputs, 1e-5, task.classifier());
    }

    @Test
    void batchDimensionIsSymbolicAndOneRowGivesTheSameAsThreeHundred() throws Exception {
        Network net = Task.CLASSIFY.network(4, Activation.GELU);
        Parameters p = Parameters.random(net, 2);
        Path file = dir.resolve("batch.onnx");
        OnnxExport.of(net, p.w(), p.b()).write(file);
        float[] x = Check.random(new SplittableRandom(8), 300 * 4, -2, 2);
        try (OrtSession s = OnnxRuntimeCheck.open(file)) {
            OnnxRuntimeCheck.assertSymbolicBatch(s, 4, 3, "probabilities");
            float[] all = OnnxRuntimeCheck.run(s, "probabilities", x, 300, 4);
            for (int r : new int[]{0, 137, 299}) {
                float[] one = OnnxRuntimeCheck.run(s, "probabilities", Arrays.copyOfRange(x, r * 4, r * 4 + 4), 1, 4);
                OnnxRuntimeCheck.assertMatches("row " + r + " alone", Arrays.copyOfRange(all, r * 3, r * 3 + 3), one, 3,
                        1e-6, true);
            }
        }
    }

    @Test
    void inputNormalizationIsTheOneTheDataWasPreparedWith() throws Exception {
        Network net = Task.CLASSIFY.network(3, Activation.RELU);
        Parameters p = Parameters.random(net, 4);
        float[] mean = {100f, -3f, 0.25f}, std = {20f, 0.5f, 4f};
        int rows = 300;
        float[] raw = new float[rows * 3];
        SplittableRandom rng = new SplittableRandom(6);
        for (int i = 0; i < raw.length; i++) raw[i] = (float) (mean[i % 3] + std[i % 3] * rng.nextGaussian());
        float[] normalized = new float[raw.length];
        for (int i = 0; i < raw.length; i++) normalized[i] = (raw[i] - mean[i % 3]) / std[i % 3];
        Path file = dir.resolve("normalized.onnx");
        OnnxExport.of(net, p.w(), p.b()).inputNormalization(mean, std).write(file);
        float[] got = OnnxRuntimeCheck.run(file, "probabilities", raw, rows, 3, 3);
        float[] expected = toFloat(new ReferenceMlp(net, p.w(), p.b()).predict(Check.toDouble(normalized), rows));
        OnnxRuntimeCheck.assertMatches("normalized inside the model", expected, got, 3, 1e-5, true);
    }

    @Test
    void outputScalingMapsRegressionOutputsBackToTargetUnits() throws Exception {
        Network net = Task.REGRESS.network(3, Activation.TANH);
        Parameters p = Parameters.random(net, 5);
        float[] scale = {12.5f, 0.01f}, offset = {-40f, 3f};
        float[] x = Check.random(new SplittableRandom(7), 300 * 3, -2, 2);
        Path file = dir.resolve("scaled.onnx");
        OnnxExport export = OnnxExport.of(net, p.w(), p.b()).outputScaling(scale, offset);
        export.write(file);
        assertEquals("values", export.outputName());
        double[] y = new ReferenceMlp(net, p.w(), p.b()).predict(Check.toDouble(x), 300);
        float[] expected = new float[y.length];
        for (int i = 0; i < y.length; i++) expected[i] = (float) (y[i] * scale[i % 2] + offset[i % 2]);
        float[] got = OnnxRuntimeCheck.run(file, "values", x, 300, 3, 2);
        double[] scaleOfEach = new double[y.length];
        for (int i = 0; i < y.length; i++) scaleOfEach[i] = scale[i % 2];
        Check.close("scaled outputs", Check.toDouble(expected), got, scaleOfEach, 1e-5, 1e-5);
    }

    @Test
    void graphIsStandardOnnxWithNamedValuesDocsAndMetadata() throws Exception {
        Network net = Network.input(4).dense(5, Activation.LEAKY_RELU).dense(3, Activation.IDENTITY)
                .output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        Parameters p = Parameters.random(net, 9);
        Onnx.ModelProto m = Onnx.ModelProto.parseFrom(OnnxExport.of(net, p.w(), p.b())
                .inputNormalization(new float[4], new float[]{255, 255, 255, 255})
                .classNames(List.of("no \"quote\"", "back\\slash")).metadata("source", "unit test").toByteArray());
        assertEquals(8, m.getIrVersion());
        assertEquals(1, m.getOpsetImportCount());
        assertEquals("", m.getOpsetImport(0).getDomain());
        assertEquals(17, m.getOpsetImport(0).getVersion());
        assertEquals("backprop4j", m.getProducerName());
        assertFalse(m.getProducerVersion().isBlank() || m.getProducerVersion().contains("${"), m.getProducerVersion());
        assertTrue(m.getDocString().contains("4-5-3-2"), m.getDocString());

        Onnx.GraphProto g = m.getGraph();
        assertEquals(List.of("Sub", "Div", "Gemm", "LeakyRelu", "Gemm", "Gemm", "Softmax"),
                g.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList());
        for (Onnx.NodeProto n : g.getNodeList()) assertFalse(n.getDocString().isBlank(), n.getName() + " has no doc");
        Onnx.NodeProto leaky = g.getNode(3), softmax = g.getNode(6), gemm = g.getNode(2);
        assertEquals(List.of("normalize/scale", "layer0.weight", "layer0.bias"), gemm.getInputList());
        assertEquals(Onnx.AttributeProto.AttributeType.FLOAT, leaky.getAttribute(0).getType());
        assertEquals("alpha", leaky.getAttribute(0).getName());
        assertEquals(0.01f, leaky.getAttribute(0).getF());
        assertEquals("axis", softmax.getAttribute(0).getName());
        assertEquals(Onnx.AttributeProto.AttributeType.INT, softmax.getAttribute(0).getType());
        assertEquals(-1, softmax.getAttribute(0).getI());
        assertEquals(List.of("probabilities"), softmax.getOutputList());

        assertEquals(1, g.getInputCount());
        assertEquals(1, g.getOutputCount());
        checkValue(g.getInput(0), "input", 4);
        checkValue(g.getOutput(0), "probabilities", 2);

        Map<String, Onnx.TensorProto> init = g.getInitializerList().stream()
                .collect(Collectors.toMap(Onnx.TensorProto::getName, Function.identity()));
        for (int l = 0; l < net.depth(); l++) {
            Onnx.TensorProto w = init.get("layer" + l + ".weight"), b = init.get("layer" + l + ".bias");
            assertEquals(List.of((long) net.fanIn(l), (long) net.fanOut(l)), w.getDimsList());
            assertEquals(List.of((long) net.fanOut(l)), b.getDimsList());
            assertArrayEquals(p.w()[l], floats(w));
            assertArrayEquals(p.b()[l], floats(b));
        }
        assertArrayEquals(new float[]{255, 255, 255, 255}, floats(init.get("input_scale")));

        Map<String, String> meta = m.getMetadataPropsList().stream()
                .collect(Collectors.toMap(Onnx.StringStringEntryProto::getKey, Onnx.StringStringEntryProto::getValue));
        assertEquals("classify", meta.get("task"));
        assertEquals("[\"no \\\"quote\\\"\",\"back\\\\slash\"]", meta.get("classes"));
        assertEquals(net.describe(), meta.get("network"));
        assertEquals(m.getProducerVersion(), meta.get("backprop4j_version"));
        assertEquals("unit test", meta.get("source"));
        assertTrue(meta.get("input_normalization").contains("input_offset"), meta.get("input_normalization"));
    }

    /** Dropout is inverted (scaled in training), so inference is the identity: no node, the same graph. */
    @Test
    void aDropoutNetworkExportsWithoutDropoutNodes() throws Exception {
        Network dropout = Network.input(4).dense(6, Activation.RELU).dropout(0.5).dense(5, Activation.GELU).dropout(0.2)
                .output(2, Activation.IDENTITY, Loss.MSE);
        Network plain = Network.input(4).dense(6, Activation.RELU).dense(5, Activation.GELU)
                .output(2, Activation.IDENTITY, Loss.MSE);
        Parameters p = Parameters.random(dropout, 15);
        Onnx.GraphProto withDropout = Onnx.ModelProto.parseFrom(OnnxExport.of(dropout, p.w(), p.b())
                .outputScaling(new float[]{2, 3}, new float[]{10, -1}).toByteArray()).getGraph();
        Onnx.GraphProto without = Onnx.ModelProto.parseFrom(OnnxExport.of(plain, p.w(), p.b())
                .outputScaling(new float[]{2, 3}, new float[]{10, -1}).toByteArray()).getGraph();
        List<String> ops = withDropout.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList();
        assertFalse(ops.contains("Dropout"), ops.toString());
        assertEquals(without.getNodeList().stream().map(Onnx.NodeProto::getOpType).toList(), ops);
        assertEquals(without.getNodeList().stream().map(Onnx.NodeProto::getInputList).toList(),
                withDropout.getNodeList().stream().map(Onnx.NodeProto::getInputList).toList());
        assertEquals(List.of("Mul", "Add"), ops.subList(ops.size() - 2, ops.size()), "the output scaling comes last");
        assertEquals(List.of("values"), withDropout.getNode(ops.size() - 1).getOutputList());
    }

    @Test
    void onnxRuntimeReadsTheMetadata() throws Exception {
        Network net = Task.BINARY.network(2, Activation.TANH);
        Parameters p = Parameters.random(net, 10);
        Path file = dir.resolve("meta.onnx");
        OnnxExport.of(net, p.w(), p.b()).classNames(List.of("negative", "positive")).write(file);
        try (OrtSession s = OnnxRuntimeCheck.open(file)) {
            assertEquals("backprop4j", s.getMetadata().getProducerName());
            Map<String, String> meta = s.getMetadata().getCustomMetadata();
            assertEquals("binary", meta.get("task"));
            assertEquals("[\"negative\",\"positive\"]", meta.get("classes"));
        }
    }

    @Test
    void exportWritesAtomicallyAndReplacesAnEarlierFile() throws IOException, OrtException {
        Network net = Task.REGRESS.network(2, Activation.RELU);
        Parameters p = Parameters.random(net, 11);
        Path file = dir.resolve("sub/dir/model.onnx");
        OnnxExport.of(net, p.w(), p.b()).write(file);
        byte[] first = Files.readAllBytes(file);
        Parameters q = Parameters.random(net, 12);
        OnnxExport.of(net, q.w(), q.b()).write(file);
        assertFalse(Arrays.equals(first, Files.readAllBytes(file)));
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of("model.onnx"), files.map(f -> f.getFileName().toString()).toList(), "temp files left");
        }
        try (OrtSession s = OnnxRuntimeCheck.open(file)) {
            assertEquals(Set.of("values"), s.getOutputNames());
        }
    }

    @Test
    void badParametersAndOptionsAreRefusedNamingTheProblem() {
        Network net = Task.CLASSIFY.network(3, Activation.RELU);
        Parameters p = Parameters.random(net, 13);
        assertMessage(ShapeException.class, "layer 2 weights have 41 values, not 7×6", () -> {
            float[][] w = p.w().clone();
            w[1] = new float[41];
            OnnxExport.of(net, w, p.b());
        });
        assertMessage(ShapeException.class, "3 layers but 2 weight", () -> OnnxExport.of(net, Arrays.copyOf(p.w(), 2), p.b()));
        assertMessage(IllegalArgumentException.class, "layer 3 bias [1] is NaN (a diverged model", () -> {
            float[][] b = p.b().clone();
            b[2] = b[2].clone();
            b[2][1] = Float.NaN;
            OnnxExport.of(net, p.w(), b);
        });
        assertMessage(IllegalArgumentException.class, "layer 1 weight [2, 5] is Infinity", () -> {
            float[][] w = p.w().clone();
            w[0] = w[0].clone();
            w[0][2 * 7 + 5] = Float.POSITIVE_INFINITY;
            OnnxExport.of(net, w, p.b());
        });
        OnnxExport export = OnnxExport.of(net, p.w(), p.b());
        assertMessage(ShapeException.class, "2 offsets and 2 scales but the network has 3 features",
                () -> export.inputNormalization(new float[2], new float[2]));
        assertMessage(IllegalArgumentException.class, "scale of feature 1 is 0",
                () -> export.inputNormalization(new float[3], new float[]{1, 0, 1}));
        assertMessage(IllegalArgumentException.class, "offset [2] is NaN",
                () -> export.inputNormalization(new float[]{0, 0, Float.NaN}, new float[]{1, 1, 1}));
        assertMessage(IllegalArgumentException.class, "2 class names for a network with 3 outputs",
                () -> export.classNames(List.of("a", "b")));
        assertMessage(IllegalArgumentException.class, "output scaling applies to regression outputs",
                () -> export.outputScaling(new float[]{1, 1, 1}, new float[3]));
        assertMessage(IllegalArgumentException.class, "'task' is written by the exporter",
                () -> export.metadata("task", "x"));
        Network regress = Task.REGRESS.network(3, Activation.RELU);
        Parameters r = Parameters.random(regress, 14);
        assertMessage(IllegalArgumentException.class, "class names apply to classifiers",
                () -> OnnxExport.of(regress, r.w(), r.b()).classNames(List.of("a", "b")));
        // 40000 × 20000 floats (3.2 GB) cannot be one protobuf message; refused before touching any array
        Network huge = Network.input(40_000).output(20_000, Activation.IDENTITY, Loss.MSE);
        assertMessage(IllegalArgumentException.class, "over the 2 GiB a single ONNX (protobuf) file can hold",
                () -> OnnxExport.of(huge, new float[1][], new float[1][]));
    }

    private static void assertMessage(Class<? extends Throwable> type, String part, Runnable r) {
        Throwable t = assertThrows(type, r::run);
        assertTrue(t.getMessage().contains(part) && t.getMessage().startsWith("ONNX export: "),
                "message '" + t.getMessage() + "' should contain '" + part + "'");
    }

    private static void checkValue(Onnx.ValueInfoProto v, String name, int width) {
        assertEquals(name, v.getName());
        assertFalse(v.getDocString().isBlank());
        Onnx.TypeProto.Tensor t = v.getType().getTensorType();
        assertEquals(Onnx.TensorProto.DataType.FLOAT_VALUE, t.getElemType());
        assertEquals(2, t.getShape().getDimCount());
        assertEquals("batch", t.getShape().getDim(0).getDimParam());
        assertEquals(width, t.getShape().getDim(1).getDimValue());
    }

    private static float[] floats(Onnx.TensorProto t) {
        assertEquals(Onnx.TensorProto.DataType.FLOAT_VALUE, t.getDataType());
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[raw.remaining() / 4];
        raw.asFloatBuffer().get(v);
        return v;
    }

    static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }
}
