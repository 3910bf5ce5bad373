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
        Map<String, String> meta = new LinkedHashMap<>(contents.metadata());
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(contents.tensors());
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
        assertEquals(new Checkpoint.Training(Optimizer.momentum(0.1f, 0.9f), 4, 5, 0, 0), c.training().orElseThrow());
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
