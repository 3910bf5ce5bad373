package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.OnnxExport;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A network trained on this backend, exported with {@link Model#exportOnnx}, gives in ONNX Runtime what
 * the backend's own forward pass gives ({@link Model#predict}): for every hidden activation and every
 * task (regression with its targets standardized, the export mapping the outputs back), with and
 * without dropout, on 300 rows it did not train on, max |difference| ≤ 1e-5 and the same predicted
 * class per row.
 */
public abstract class OnnxExportConformance extends ConformanceBase {

    static final double MAX_ABS_DIFFERENCE = 1e-5;
    private static final int FEATURES = 5, TRAIN_ROWS = 400, TEST_ROWS = 300;

    @TempDir
    Path dir;

    /** The output layer and targets of each task. */
    public enum Task {
        CLASSIFY(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY),
        BINARY(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY),
        REGRESS(2, Activation.IDENTITY, Loss.MSE);

        final int outputs;
        final Activation activation;
        final Loss loss;

        Task(int outputs, Activation activation, Loss loss) {
            this.outputs = outputs;
            this.activation = activation;
            this.loss = loss;
        }

        /** inputs → 7 → 6 → outputs, both hidden layers with {@code hidden}. */
        Network network(int inputs, Activation hidden) {
            return Network.input(inputs).dense(7, hidden).dense(6, hidden).output(outputs, activation, loss);
        }

        boolean classifier() {
            return this != REGRESS;
        }

        /** Targets for row x: three classes by the largest of three features, x0·x1 > 0, or two smooth functions. */
        float[] target(float[] x, int row) {
            int o = row * FEATURES;
            return switch (this) {
                case CLASSIFY -> {
                    float[] t = new float[3];
                    int best = x[o] > x[o + 1] ? 0 : 1;
                    if (x[o + 2] > x[o + best]) best = 2;
                    t[best] = 1;
                    yield t;
                }
                case BINARY -> new float[]{x[o] * x[o + 1] > 0 ? 1 : 0};
                case REGRESS -> new float[]{(float) (Math.sin(x[o]) + x[o + 1] * x[o + 1]), x[o + 2] * x[o + 3]};
            };
        }
    }

    /** Every element-wise activation on the hidden layers, crossed with every task's output layer. */
    public static Stream<Arguments> everyHiddenActivationAndTask() {
        List<Arguments> out = new ArrayList<>();
        for (Activation a : Activation.values())
            if (a.isElementWise()) for (Task t : Task.values()) out.add(Arguments.of(a, t));
        return out.stream();
    }

    @ParameterizedTest(name = "hidden {0}, {1}")
    @MethodSource("everyHiddenActivationAndTask")
    void trainedModelRunsTheSameInOnnxRuntime(Activation hidden, Task task) throws Exception {
        Network net = task.network(FEATURES, hidden);
        float[] trainX = Check.random(new SplittableRandom(1), TRAIN_ROWS * FEATURES, -2, 2);
        float[] testX = Check.random(new SplittableRandom(2), TEST_ROWS * FEATURES, -2, 2);
        Path file = dir.resolve(hidden + "-" + task + ".onnx");
        float[] expected;
        try (Model model = Model.initialize(backend, net, 17);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32, 9)) {
            Dataset train = dataset(task, trainX, TRAIN_ROWS);
            if (task == Task.REGRESS) model.setTargetNormalization(Normalization.standardizeTargets(train));
            train(trainer, train);
            expected = model.predict(testX, TEST_ROWS);
            model.exportOnnx(file);
        }
        String output = task.classifier() ? "probabilities" : "values";
        float[] got = OnnxRuntimeCheck.run(file, output, testX, TEST_ROWS, FEATURES, task.outputs);
        double worst = OnnxRuntimeCheck.assertMatches(backend.name() + " " + hidden + "/" + task, expected, got,
                task.outputs, MAX_ABS_DIFFERENCE, task.classifier());
        System.out.printf(Locale.ROOT, "onnx export %s hidden %s %s: max |backprop4j - ONNX Runtime| %.2e over %d rows%n",
                backend.name(), hidden, task, worst, TEST_ROWS);
    }

    /**
     * Networks with dropout on their hidden layers, for every task (regression with its targets
     * standardized, so the graph ends in the Mul/Add that maps the outputs back), exported from the model
     * and from its checkpoint: ONNX Runtime computes what {@link Model#predict} does.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Task.class)
    void dropoutNetworksExportFromModelAndCheckpoint(Task task) throws Exception {
        Network net = Network.input(FEATURES).dense(9, Activation.RELU).dropout(0.3).dense(7, Activation.GELU)
                .dropout(0.1).output(task.outputs, task.activation, task.loss);
        float[] trainX = Check.random(new SplittableRandom(5), TRAIN_ROWS * FEATURES, -2, 2);
        float[] testX = Check.random(new SplittableRandom(6), TEST_ROWS * FEATURES, -2, 2);
        Dataset train = dataset(task, trainX, TRAIN_ROWS);
        if (task == Task.REGRESS) {   // targets around 10 in units of 2 and 0.5: the scaling is not the identity
            float[] y = new float[TRAIN_ROWS * 2];
            for (int r = 0; r < TRAIN_ROWS; r++) {
                y[2 * r] = 10 + 2 * train.target(r, 0);
                y[2 * r + 1] = -3 + 0.5f * train.target(r, 1);
            }
            train = new Dataset(trainX, FEATURES, y, 2);
        }
        Path fromModel = dir.resolve(task + "-dropout.onnx"), fromCheckpoint = dir.resolve(task + "-checkpoint.onnx");
        Path checkpoint = dir.resolve(task + "-dropout.safetensors");
        float[] expected;
        try (Model model = Model.initialize(backend, net, 19);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32, 9)) {
            model.setNormalization(Normalization.standardize(train));
            if (task == Task.REGRESS) model.setTargetNormalization(Normalization.standardizeTargets(train));
            trainer.setDropoutSeed(3);
            train(trainer, train);
            expected = model.predict(testX, TEST_ROWS);
            model.exportOnnx(fromModel);
            trainer.save(checkpoint);
        }
        OnnxExport.of(Checkpoint.readWithoutOptimizerState(checkpoint)).write(fromCheckpoint);
        String output = task.classifier() ? "probabilities" : "values";
        for (Path file : List.of(fromModel, fromCheckpoint)) {
            float[] got = OnnxRuntimeCheck.run(file, output, testX, TEST_ROWS, FEATURES, task.outputs);
            double worst = OnnxRuntimeCheck.assertMatches(backend.name() + " dropout net " + task + " " + file.getFileName(),
                    expected, got, task.outputs, MAX_ABS_DIFFERENCE, task.classifier());
            System.out.printf(Locale.ROOT, "onnx export %s dropout %s (%s): max |backprop4j - ONNX Runtime| %.2e%n",
                    backend.name(), task, file.getFileName(), worst);
        }
    }

    @Test
    void normalizationInsideTheModelMatchesNormalizingByHand() throws Exception {
        float[] mean = {50f, -2f, 0f, 1000f, 0.5f}, std = {10f, 0.1f, 3f, 250f, 0.05f};
        float[] trainRaw = raw(new SplittableRandom(3), TRAIN_ROWS, mean, std);
        float[] testRaw = raw(new SplittableRandom(4), TEST_ROWS, mean, std);
        float[] trainX = normalize(trainRaw, mean, std), testX = normalize(testRaw, mean, std);
        Network net = Task.CLASSIFY.network(FEATURES, Activation.RELU);
        Path file = dir.resolve("normalized.onnx");
        float[] expected;
        try (Model model = Model.initialize(backend, net, 5);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32, 9)) {
            train(trainer, dataset(Task.CLASSIFY, trainX, TRAIN_ROWS));
            expected = model.predict(testX, TEST_ROWS);
            OnnxExport.of(model).inputNormalization(mean, std).write(file);
        }
        float[] got = OnnxRuntimeCheck.run(file, "probabilities", testRaw, TEST_ROWS, FEATURES, 3);
        OnnxRuntimeCheck.assertMatches(backend.name() + " raw rows normalized by the model", expected, got, 3,
                MAX_ABS_DIFFERENCE, true);

        // The same network with the normalization in the model: fit, predict and the export all take raw rows.
        Path carried = dir.resolve("carried.onnx");
        float[] raw;
        try (Model model = Model.initialize(backend, net, 5);
             Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32, 9)) {
            model.setNormalization(Normalization.standardize(mean, std));
            train(trainer, dataset(Task.CLASSIFY, trainRaw, TRAIN_ROWS, trainX));
            raw = model.predict(testRaw, TEST_ROWS);
            model.exportOnnx(carried);
        }
        Check.close("a model normalizing its raw rows predicts as one trained on normalized rows", Check.toDouble(expected),
                raw, 1e-5);
        OnnxRuntimeCheck.assertMatches(backend.name() + " the model's own normalization, exported",
                raw, OnnxRuntimeCheck.run(carried, "probabilities", testRaw, TEST_ROWS, FEATURES, 3), 3,
                MAX_ABS_DIFFERENCE, true);
    }

    /** A few epochs; the loss must fall, so the exported parameters are trained ones. */
    private static void train(Trainer trainer, Dataset data) {
        List<Trainer.EpochResult> epochs = trainer.fit(data, 4);
        assertTrue(epochs.getLast().loss() < epochs.getFirst().loss(),
                "training did not lower the loss: " + epochs.getFirst().loss() + " → " + epochs.getLast().loss());
    }

    private static Dataset dataset(Task task, float[] x, int rows) {
        return dataset(task, x, rows, x);
    }

    /** Features {@code x}, targets computed from {@code targetsFrom} (the same rows, maybe normalized). */
    private static Dataset dataset(Task task, float[] x, int rows, float[] targetsFrom) {
        float[] y = new float[rows * task.outputs];
        for (int r = 0; r < rows; r++) System.arraycopy(task.target(targetsFrom, r), 0, y, r * task.outputs, task.outputs);
        return new Dataset(x, FEATURES, y, task.outputs);
    }

    private static float[] raw(SplittableRandom rng, int rows, float[] mean, float[] std) {
        float[] x = new float[rows * FEATURES];
        for (int i = 0; i < x.length; i++) x[i] = (float) (mean[i % FEATURES] + 2 * std[i % FEATURES] * (rng.nextDouble() - 0.5));
        return x;
    }

    /** As the CLI prepares CSV features: (x − mean) / std in float. */
    private static float[] normalize(float[] raw, float[] mean, float[] std) {
        float[] x = new float[raw.length];
        for (int i = 0; i < x.length; i++) x[i] = (raw[i] - mean[i % FEATURES]) / std[i % FEATURES];
        return x;
    }
}
