package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Runs exported models in ONNX Runtime, the reference consumer of the files, and compares what it
 * computes with backprop4j's own outputs. Sessions are opened with every graph optimization ORT has
 * (fusions included), so a model that loads here loads in any ORT configuration.
 */
public final class OnnxRuntimeCheck {

    private OnnxRuntimeCheck() {
    }

    public static OrtEnvironment environment() {
        return OrtEnvironment.getEnvironment();
    }

    /** A session on {@code model} with all optimizations. */
    public static OrtSession open(Path model) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return environment().createSession(model.toString(), options);
        }
    }

    /** Runs {@code rows} rows of {@code x} (row-major, {@code features} wide) through input "input"; returns {@code output} flattened. */
    public static float[] run(OrtSession session, String output, float[] x, int rows, int features) throws OrtException {
        try (OnnxTensor in = OnnxTensor.createTensor(environment(), FloatBuffer.wrap(x), new long[]{rows, features});
             OrtSession.Result result = session.run(Map.of("input", in))) {
            OnnxValue v = result.get(output).orElseThrow(() -> new AssertionError("the model has no output '" + output + "'"));
            FloatBuffer buffer = ((OnnxTensor) v).getFloatBuffer();
            float[] out = new float[buffer.remaining()];
            buffer.get(out);
            return out;
        }
    }

    /** Opens the model, checks its input and output are [batch, width] with a symbolic batch, and runs x. */
    public static float[] run(Path model, String output, float[] x, int rows, int features, int outputs)
            throws OrtException {
        try (OrtSession session = open(model)) {
            assertSymbolicBatch(session, features, outputs, output);
            return run(session, output, x, rows, features);
        }
    }

    /** Input "input" is [batch, features] and {@code output} [batch, outputs], batch being the symbol "batch". */
    public static void assertSymbolicBatch(OrtSession session, int features, int outputs, String output)
            throws OrtException {
        TensorInfo in = (TensorInfo) session.getInputInfo().get("input").getInfo();
        TensorInfo out = (TensorInfo) session.getOutputInfo().get(output).getInfo();
        assertEquals(Arrays.toString(new long[]{-1, features}), Arrays.toString(in.getShape()), "input shape");
        assertEquals(Arrays.toString(new long[]{-1, outputs}), Arrays.toString(out.getShape()), "output shape");
        assertEquals("batch", in.getDimensionNames()[0], "input batch dimension");
        assertEquals("batch", out.getDimensionNames()[0], "output batch dimension");
    }

    /**
     * max |expected − got| ≤ maxAbs over all values, and for classifiers ({@code classifier}) the same
     * predicted class in every row: the argmax, or for one output the side of 0.5.
     */
    public static double assertMatches(String what, float[] expected, float[] got, int width, double maxAbs,
                                       boolean classifier) {
        assertEquals(expected.length, got.length, what + ": number of outputs");
        double worst = 0;
        int worstAt = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - got[i]);
            if (!(d <= worst)) {
                worst = d;
                worstAt = i;
            }
        }
        int at = worstAt;
        assertTrue(worst <= maxAbs, () -> what + ": max |difference| " + Math.abs(expected[at] - got[at]) + " > "
                + maxAbs + " at row " + at / width + ", output " + at % width + " (" + expected[at] + " vs " + got[at] + ")");
        if (classifier) {
            for (int r = 0; r < expected.length / width; r++)
                if (predictedClass(expected, r, width) != predictedClass(got, r, width))
                    fail(what + ": row " + r + " is class " + predictedClass(expected, r, width) + " in backprop4j but "
                            + predictedClass(got, r, width) + " in ONNX Runtime");
        }
        return worst;
    }

    /** Argmax of row r, or for a single output 1 when it is ≥ 0.5 (as Model.evaluate counts). */
    public static int predictedClass(float[] out, int r, int width) {
        if (width == 1) return out[r] >= 0.5f ? 1 : 0;
        int best = 0;
        for (int j = 1; j < width; j++) if (out[r * width + j] > out[r * width + best]) best = j;
        return best;
    }
}
