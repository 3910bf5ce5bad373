package io.github.backprop4j.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoint integrity: the checksum, files of earlier formats, contents that do not fit the network,
 * model-only and training checkpoints, refused saves and the lock. Parameters go through a host-memory
 * device (no backend module is needed to write and read a file).
 */
class CheckpointTest {

    static final Network NET = Network.input(3).dense(4, Activation.TANH).output(2, Activation.SOFTMAX,
            Loss.CATEGORICAL_CROSS_ENTROPY);

    @TempDir
    Path dir;
    Path good;
    Safetensors.Contents contents;
    final Backend backend = Backend.of("host", Precision.FP32, new BackendHandleTest.RecordingDevice());

    @BeforeEach
    void save() throws IOException {
        good = dir.resolve("good.safetensors");
        try (Model model = Model.initialize(backend, NET, 1);
             Trainer t = new Trainer(model, Optimizer.momentum(0.1f, 0.9f), 4, 5)) {
            model.setNormalization(Normalization.standardize(new float[]{0, 0, 0}, new float[]{1, 2, 3}));
            model.setClassNames(List.of("x", "y"));
            t.save(good, Map.of("data", "{\"kind\":\"csv\"}"));
        }
        contents = Safetensors.read(good);
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    /** Rewrites the checkpoint's contents (with a fresh, valid checksum) after {@code edit}. */
    Path rewrite(String name, java.util.function.Consumer<Map<String, String>> editMeta,
                 java.util.function.Consumer<Map<String, Safetensors.Tensor>> editTensors) throws IOException {
        return rewrite(contents, name, editMeta, editTensors);
    }

    /** As {@link #rewrite(String, java.util.function.Consumer, java.util.function.Consumer)} from another file's contents. */
    Path rewrite(Safetensors.Contents from, String name, java.util.function.Consumer<Map<String, String>> editMeta,
                 java.util.function.Consumer<Map<String, Safetensors.Tensor>> editTensors) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(from.metadata());
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(from.tensors());
        editMeta.accept(meta);
        editTensors.accept(tensors);
        Path f = dir.resolve(name);
        Safetensors.write(f, meta, tensors);
        return f;
    }

    static String reject(Path f) {
        IOException e = assertThrows(IOException.class, () -> Checkpoint.read(f));
        assertTrue(e.getMessage().startsWith("checkpoint " + f + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aTrainingCheckpointKeepsEverything() throws IOException {
        Checkpoint c = Checkpoint.read(good);
        assertEquals(NET, c.network());
        assertEquals(Normalization.standardize(new float[]{0, 0, 0}, new float[]{1, 2, 3}), c.normalization());
        assertEquals(List.of("x", "y"), c.classNames());
        assertEquals(new Checkpoint.Training(Optimizer.momentum(0.1f, 0.9f), 4, 5, 0, 0, LearningRateSchedule.constant(),
                0, 0f, null), c.training().orElseThrow());
        assertEquals(Map.of("data", "{\"kind\":\"csv\"}"), c.metadata());
        assertEquals(2 * 2, c.optimizerSlots().length);
        assertEquals(null, Checkpoint.readWithoutOptimizerState(good).optimizerSlots(), "slots checked, not kept");
        try (Model m = c.model(backend)) {
            assertEquals(c.normalization(), m.normalization());
            assertEquals(c.classNames(), m.classNames());
            assertArrayEquals(contents.tensors().get("layer0.weight").data(), m.downloadWeights(0));
        }
    }

    @Test
    void aModelCheckpointHasNoTrainingPartAndCannotBeResumed() throws IOException {
        Path file = dir.resolve("model.safetensors");
        try (Model model = Model.initialize(backend, NET, 2)) {
            model.save(file);
            Checkpoint c = Checkpoint.read(file);
            assertTrue(c.training().isEmpty());
            assertEquals(Normalization.none(), c.normalization());
            assertEquals(List.of(), c.classNames());
            assertEquals(4, Safetensors.read(file).tensors().size(), "parameters only");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Trainer.resume(model, c));
            assertTrue(e.getMessage().contains("without training state"), e.getMessage());
            try (Model loaded = Model.load(backend, file)) {
                assertArrayEquals(model.downloadWeights(1), loaded.downloadWeights(1));
            }
        }
    }

    @Test
    void aResumedTrainerContinuesTheSavedState() throws IOException {
        try (Model model = Checkpoint.read(good).model(backend);
             Trainer resumed = Trainer.resume(model, Checkpoint.read(good), Optimizer.momentum(0.01f, 0.9f))) {
            assertEquals(4, resumed.batchSize());
            assertEquals(5, resumed.seed());
            assertEquals(0.01f, resumed.optimizer().learningRate());
            assertThrows(IllegalArgumentException.class, () -> Trainer.resume(model, Checkpoint.read(good),
                    Optimizer.adam(0.01f)), "Adam cannot continue momentum's state");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Trainer.resume(model, Checkpoint.readWithoutOptimizerState(good)));
            assertTrue(e.getMessage().contains("without its optimizer state"), e.getMessage());
        }
    }

    @Test
    void everyTensorByteIsCoveredByTheChecksum() throws IOException {
        assertTrue(contents.verified());
        assertEquals(Checkpoint.FORMAT, contents.metadata().get("format"));
        byte[] b = Files.readAllBytes(good);
        for (int back : new int[]{1, 4, 40}) {
            byte[] m = b.clone();
            m[m.length - back] ^= 0x01;   // one bit of one float
            Path f = dir.resolve("flip" + back + ".safetensors");
            Files.write(f, m);
            assertTrue(reject(f).contains("checksum mismatch"));
        }
    }

    @Test
    void currentFormatWithoutChecksumIsRejectedOldFormatsAreAccepted() throws IOException {
        String text = new String(Files.readAllBytes(good), StandardCharsets.ISO_8859_1);
        Path stripped = dir.resolve("stripped.safetensors");
        // rename the checksum key in place (same length): the file is intact but unverifiable
        Files.write(stripped, text.replace("\"sha256\"", "\"sha257\"").getBytes(StandardCharsets.ISO_8859_1));
        assertTrue(reject(stripped).contains("checksum is missing"));

        Path two = rewrite("two.safetensors", m -> m.put("format", Checkpoint.FORMAT_2), t -> { });
        assertEquals(2, Checkpoint.read(two).network().depth(), "a /2 file (training part required) loads");
        Path twoWithoutTraining = rewrite("two-model.safetensors", m -> {
            m.put("format", Checkpoint.FORMAT_2);
            m.remove("batch");
        }, t -> { });
        assertTrue(reject(twoWithoutTraining).contains("metadata has no 'batch'"));

        Path old = rewrite("old.safetensors", m -> m.put("format", Checkpoint.FORMAT_1), t -> { });
        String oldText = new String(Files.readAllBytes(old), StandardCharsets.ISO_8859_1);
        Path unchecked = dir.resolve("unchecked.safetensors");
        Files.write(unchecked, oldText.replace("\"sha256\"", "\"sha257\"").getBytes(StandardCharsets.ISO_8859_1));
        Checkpoint c = Checkpoint.read(unchecked);   // a /1 file from before checksums still loads
        assertEquals(2, c.network().depth());
    }

    /** A file of format {@code format} as that version wrote it: without the keys format /4 added. */
    Path older(String name, String format, java.util.function.Consumer<Map<String, String>> edit) throws IOException {
        return rewrite(name, m -> {
            m.put("format", format);
            m.keySet().removeAll(List.of("schedule", "dropout_seed", "clip_norm"));
            edit.accept(m);
        }, t -> { });
    }

    @Test
    void geluInAFileBeforeFormat4IsTheTanhApproximation() throws IOException {
        for (String format : List.of(Checkpoint.FORMAT_3, Checkpoint.FORMAT_2)) {
            Path old = older("gelu-" + format.charAt(format.length() - 1) + ".safetensors", format,
                    m -> m.put("network", m.get("network").replace("\"tanh\"", "\"gelu\"")));
            Checkpoint c = Checkpoint.read(old);
            assertEquals(Activation.GELU_TANH, c.network().layers().getFirst().activation(), format + " 'gelu'");
            Checkpoint.Training t = c.training().orElseThrow();
            assertEquals(LearningRateSchedule.constant(), t.schedule(), "no schedule before /4");
            assertEquals(0f, t.clipNorm());
            assertEquals(null, t.earlyStopping());
        }
        Path exact = rewrite("gelu-4.safetensors", m -> m.put("network", m.get("network").replace("\"tanh\"", "\"gelu\"")),
                t -> { });
        assertEquals(Activation.GELU, Checkpoint.read(exact).network().layers().getFirst().activation(), "/4 'gelu'");
        Path tanh = rewrite("gelu-tanh-4.safetensors", m -> m.put("network",
                m.get("network").replace("\"tanh\"", "\"gelu_tanh\"")), t -> { });
        assertEquals(Activation.GELU_TANH, Checkpoint.read(tanh).network().layers().getFirst().activation());
        // and what a network with both writes reads back as itself
        Network both = Network.input(3).dense(4, Activation.GELU).dense(4, Activation.GELU_TANH)
                .output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        Path file = dir.resolve("both.safetensors");
        try (Model m = Model.initialize(backend, both, 1)) {
            m.save(file);
        }
        assertEquals(both, Checkpoint.read(file).network());
        assertTrue(Safetensors.read(file).metadata().get("network").contains("\"gelu_tanh\""));
        Path four = rewrite("four-without-schedule.safetensors", m -> m.remove("schedule"), t -> { });
        assertTrue(reject(four).contains("metadata has no 'schedule'"), reject(four));
    }

    static final Network DROPOUT = Network.input(3).dense(5, Activation.RELU).dropout(0.25).dense(4, Activation.GELU)
            .dropout(0.5).output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    /**
     * A training checkpoint with every training setting, early stopping past its best epoch (the
     * recording device computes nothing: every validation loss is 0, so epoch 1 stays the best).
     */
    Path savedWithEverySetting(Path file, int epochs) throws IOException {
        Dataset data = Dataset.classification(new float[]{1, 2, 3, 4, 5, 6}, 3, new int[]{0, 1}, 2);
        try (Model model = Model.initialize(backend, DROPOUT, 1);
             Trainer t = new Trainer(model, Optimizer.adamW(0.01f, 0.1f), 2, 5)) {
            t.setLearningRateSchedule(LearningRateSchedule.cosine(100, 1e-4f).withWarmup(10));
            t.setDropoutSeed(-77);
            t.setGradientClipping(0.75f);
            t.setEarlyStopping(4);
            t.fit(data, data, epochs);
            t.save(file);
        }
        return file;
    }

    @Test
    void theTrainingSettingsAndEarlyStoppingAreSaved() throws IOException {
        Path file = savedWithEverySetting(dir.resolve("settings.safetensors"), 3);
        Checkpoint c = Checkpoint.read(file);
        assertEquals(DROPOUT, c.network(), "layers with their dropout");
        assertEquals(new Checkpoint.Training(Optimizer.adamW(0.01f, 0.1f), 2, 5, 3, 3,
                LearningRateSchedule.cosine(100, 1e-4f).withWarmup(10), -77, 0.75f,
                new Trainer.EarlyStopping(4, 0, 1, 2)), c.training().orElseThrow());
        Map<String, int[]> shapes = Safetensors.read(file).shapes();
        assertArrayEquals(new int[]{3, 5}, shapes.get("layer0.weight.last"), "the last epoch's beside the best's");
        assertEquals(2 * 3 * (1 + 1 + 2), shapes.size(), "parameters, last parameters, AdamW's two slots");
        assertEquals(3, c.lastWeights().length);
        assertEquals(null, Checkpoint.readWithoutOptimizerState(file).lastWeights(), "checked, not kept");

        Safetensors.Contents settings = Safetensors.read(file);
        Path noLast = rewrite(settings, "no-last.safetensors", m -> { }, t -> t.keySet().removeIf(k -> k.endsWith(".last")));
        assertTrue(reject(noLast).contains("last epoch's tensors (layer0.weight.last) are missing"), reject(noLast));
        Path stray = rewrite("stray-last.safetensors", m -> { }, t -> t.put("layer0.weight.last",
                t.get("layer0.weight")));
        assertTrue(reject(stray).contains("no early stopping past its best epoch"), reject(stray));
    }

    @Test
    void badTrainingSettingsAreRejected() throws IOException {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("clip_norm", "-1");
        bad.put("dropout_seed", "seven");
        bad.put("schedule", "{\"kind\":\"linear\",\"warmup_steps\":0,\"period\":1,\"gamma\":1,\"total_steps\":0,"
                + "\"min_learning_rate\":0}");
        bad.put("early_stopping", "{\"patience\":0,\"best_epoch\":0,\"epochs_without_improvement\":0}");
        Map<String, String> expected = Map.of("clip_norm", "clip_norm -1.0", "dropout_seed", "seven",
                "schedule", "unknown learning-rate schedule 'linear'", "early_stopping", "patience must be >= 1");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            Path f = rewrite("bad-" + e.getKey() + ".safetensors", m -> m.put(e.getKey(), e.getValue()), t -> { });
            assertTrue(reject(f).contains(expected.get(e.getKey())), reject(f));
        }
        Path late = rewrite("late.safetensors", m -> m.put("early_stopping",
                "{\"patience\":2,\"best_epoch\":3,\"epochs_without_improvement\":0,\"best_loss\":0.5}"), t -> { });
        assertTrue(reject(late).contains("best epoch 3 is after the 0 epochs done"), reject(late));
        Path noLoss = rewrite("no-loss.safetensors", m -> m.put("early_stopping",
                "{\"patience\":2,\"best_epoch\":0,\"epochs_without_improvement\":0,\"best_loss\":0.5}"), t -> { });
        assertTrue(reject(noLoss).contains("best_loss but no best epoch"), reject(noLoss));
    }

    @Test
    void aRegressionModelKeepsItsTargetNormalization() throws IOException {
        Network regress = Network.input(3).dense(4, Activation.TANH).output(2, Activation.IDENTITY, Loss.MSE);
        Normalization targets = Normalization.standardize(new float[]{10, -3}, new float[]{2.5f, 0.5f});
        Path file = dir.resolve("regress.safetensors");
        try (Model m = Model.initialize(backend, regress, 1)) {
            m.setTargetNormalization(targets);
            m.save(file);
        }
        assertEquals(targets, Checkpoint.read(file).targetNormalization());
        try (Model loaded = Model.load(backend, file)) {
            assertEquals(targets, loaded.targetNormalization());
        }
        assertEquals(Normalization.none(), Checkpoint.read(good).targetNormalization(), "none unless set");
        Path classifier = rewrite("classifier-targets.safetensors", m -> m.put("target_normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0],\"std\":[1,1]}"), t -> { });
        assertTrue(reject(classifier).contains("target normalization standardize (2 features) does not fit"),
                reject(classifier));
        try (Model m = Model.initialize(backend, NET, 1)) {
            assertThrows(IllegalArgumentException.class, () -> m.setTargetNormalization(targets));
        }
    }

    @Test
    void aBinaryNetworkTakesOneOrTwoClassNames() throws IOException {
        Network binary = Network.input(3).dense(4, Activation.TANH).output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
        for (List<String> names : List.of(List.of("spam"), List.of("ham", "spam"))) {
            Path file = dir.resolve("binary-" + names.size() + ".safetensors");
            try (Model m = Model.initialize(backend, binary, 1)) {
                m.setClassNames(names);
                m.save(file);
            }
            Checkpoint c = Checkpoint.read(file);
            assertEquals(names, c.classNames());
            OnnxExport.of(c);   // the export accepts what the checkpoint does
        }
        Path three = rewrite("binary-3.safetensors", m -> {
            m.put("network", "{\"inputs\":3,\"layers\":[{\"units\":4,\"activation\":\"tanh\"},{\"units\":1,"
                    + "\"activation\":\"sigmoid\"}],\"loss\":\"binary_cross_entropy\"}");
            m.put("classes", "[\"a\",\"b\",\"c\"]");
        }, t -> {
            t.put("layer1.weight", new Safetensors.Tensor(new int[]{4, 1}, new float[4]));
            t.put("layer1.bias", new Safetensors.Tensor(new int[]{1}, new float[1]));
            t.put("layer1.weight.opt0", new Safetensors.Tensor(new int[]{4, 1}, new float[4]));
            t.put("layer1.bias.opt0", new Safetensors.Tensor(new int[]{1}, new float[1]));
        });
        assertTrue(reject(three).contains("3 class names for a network with 1 outputs"), reject(three));
    }

    @Test
    void shapesThatDoNotMatchTheNetworkAreRejected() throws IOException {
        Path wider = rewrite("wider.safetensors", m -> m.put("network", m.get("network").replace("\"units\":4", "\"units\":5")),
                t -> { });
        assertTrue(reject(wider).contains("tensor layer0.weight has shape [3, 4] but the network needs [3, 5]"),
                reject(wider));
        Path missing = rewrite("missing.safetensors", m -> { }, t -> t.remove("layer1.bias.opt0"));
        assertTrue(reject(missing).contains("tensor layer1.bias.opt0 is missing"));
        Path transposed = rewrite("transposed.safetensors", m -> { }, t -> t.put("layer0.weight",
                new Safetensors.Tensor(new int[]{4, 3}, t.get("layer0.weight").data())));
        assertTrue(reject(transposed).contains("has shape [4, 3]"));
        Path extra = rewrite("extra.safetensors", m -> { }, t -> t.put("stray", new Safetensors.Tensor(new int[]{1},
                new float[1])));
        assertTrue(reject(extra).contains("9 tensors"), reject(extra));
    }

    @Test
    void inconsistentMetadataIsRejected() throws IOException {
        Path norm = rewrite("norm.safetensors", m -> m.put("normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0,0],\"std\":[1,2]}"), t -> { });
        assertTrue(reject(norm).contains("normalization"));
        Path zeroStd = rewrite("zero.safetensors", m -> m.put("normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0,0],\"std\":[1,0,3]}"), t -> { });
        assertTrue(reject(zeroStd).contains("std > 0"));
        Path narrow = rewrite("narrow.safetensors", m -> m.put("normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0],\"std\":[1,2]}"), t -> { });
        assertTrue(reject(narrow).contains("does not fit the network"), reject(narrow));
        Path classes = rewrite("classes.safetensors", m -> m.put("classes", "[\"x\"]"), t -> { });
        assertTrue(reject(classes).contains("1 class names for a network with 2 outputs"), reject(classes));
        Path units = rewrite("units.safetensors", m -> m.put("network", m.get("network").replace("\"units\":4", "\"units\":0")),
                t -> { });
        assertTrue(reject(units).contains(">= 1 units"));
        Path lr = rewrite("lr.safetensors", m -> m.put("optimizer", m.get("optimizer").replace("\"learning_rate\":0.1",
                "\"learning_rate\":\"fast\"")), t -> { });
        assertTrue(reject(lr).contains("learning_rate is not a number"), reject(lr));
        Path step = rewrite("step.safetensors", m -> m.put("optimizer_step", "-1"), t -> { });
        assertTrue(reject(step).contains("optimizer_step -1"), reject(step));
        Path format = rewrite("format.safetensors", m -> m.put("format", "something/9"), t -> { });
        assertTrue(reject(format).contains("not a backprop4j checkpoint"));
    }

    @Test
    void nonFiniteTensorsAreRefusedOnReadAndNeverWritten() throws IOException {
        Path nan = rewrite("nan.safetensors", m -> { }, t -> {
            float[] w = t.get("layer1.weight").data().clone();
            w[3] = Float.NaN;
            t.put("layer1.weight", new Safetensors.Tensor(new int[]{4, 2}, w));
        });
        assertTrue(reject(nan).contains("tensor layer1.weight holds NaN at index 3"), reject(nan));

        Path target = dir.resolve("diverged.safetensors");
        Files.writeString(target, "the previous file");
        try (Model model = Model.initialize(backend, NET, 3)) {
            float[] w = model.downloadWeights(0);
            w[1] = Float.POSITIVE_INFINITY;
            backend.upload(w, model.weights(0));   // Model.of would refuse it: planted on the device
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.save(target));
            assertTrue(e.getMessage().contains("layer0.weight") && e.getMessage().contains("Infinity"), e.getMessage());
        }
        assertEquals("the previous file", Files.readString(target), "the old file is kept");
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
    }

    @Test
    void writerMetadataCannotOverrideTheCheckpointsOwnKeys() throws IOException {
        try (Model model = Model.initialize(backend, NET, 1); Trainer t = new Trainer(model, Optimizer.sgd(0.1f), 2)) {
            assertThrows(IllegalArgumentException.class, () -> t.save(dir.resolve("x.safetensors"),
                    Map.of("network", "{}")));
        }
    }

    @Test
    void aLockedCheckpointRefusesASecondRunNamingTheHolder() throws IOException {
        Path file = dir.resolve("locked.safetensors");
        try (Checkpoint.Lock held = Checkpoint.lock(file)) {
            IOException e = assertThrows(IOException.class, () -> Checkpoint.lock(file));
            assertTrue(e.getMessage().startsWith("checkpoint " + file + " is in use by another training run (pid "
                    + ProcessHandle.current().pid() + ", started "), e.getMessage());
        }
        Checkpoint.lock(file).close();   // released
        assertTrue(Files.exists(Checkpoint.lockFile(file)), "the lock file stays");
    }
}
