package io.github.backprop4j.cli;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint integrity: the checksum, files from before it, and contents that do not fit the network. */
class CheckpointTest {

    @TempDir
    Path dir;
    Path good;
    Safetensors.Contents contents;

    @BeforeEach
    void save() throws IOException {
        good = dir.resolve("good.safetensors");
        Network net = Network.input(3).dense(4, Activation.TANH).output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, net, 1);
             Trainer t = new Trainer(model, Optimizer.momentum(0.1f, 0.9f), 4)) {
            Checkpoint.save(good, t, 5, new Data.Normalization("standardize", new float[]{0, 0, 0}, new float[]{1, 2, 3}),
                    TrainCommand.JSON.createObjectNode().put("kind", "csv"), List.of("x", "y"),
                    TrainCommand.JSON.createArrayNode());
        }
        contents = Safetensors.read(good);
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
        CliException e = assertThrows(CliException.class, () -> Checkpoint.load(f));
        assertTrue(e.getMessage().startsWith("checkpoint " + f + ": "), e.getMessage());
        return e.getMessage();
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
    void currentFormatWithoutChecksumIsRejectedOldFormatIsAccepted() throws IOException {
        byte[] b = Files.readAllBytes(good);
        String text = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
        Path stripped = dir.resolve("stripped.safetensors");
        // rename the checksum key in place (same length): the file is intact but unverifiable
        Files.write(stripped, text.replace("\"sha256\"", "\"sha257\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(reject(stripped).contains("checksum is missing"));

        Path old = rewrite("old.safetensors", m -> m.put("format", Checkpoint.FORMAT_UNCHECKED), t -> { });
        String oldText = new String(Files.readAllBytes(old), java.nio.charset.StandardCharsets.ISO_8859_1);
        Path unchecked = dir.resolve("unchecked.safetensors");
        Files.write(unchecked, oldText.replace("\"sha256\"", "\"sha257\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Checkpoint.State s = Checkpoint.load(unchecked);   // a /1 file from before checksums still loads
        assertEquals(2, s.network().depth());
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
    }

    @Test
    void inconsistentMetadataIsRejected() throws IOException {
        Path norm = rewrite("norm.safetensors", m -> m.put("normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0,0],\"std\":[1,2]}"), t -> { });
        assertTrue(reject(norm).contains("normalization"));
        Path zeroStd = rewrite("zero.safetensors", m -> m.put("normalization",
                "{\"kind\":\"standardize\",\"mean\":[0,0,0],\"std\":[1,0,3]}"), t -> { });
        assertTrue(reject(zeroStd).contains("std > 0"));
        Path classes = rewrite("classes.safetensors", m -> m.put("classes", "[\"x\"]"), t -> { });
        assertTrue(reject(classes).contains("1 class names for 2 outputs"));
        Path units = rewrite("units.safetensors", m -> m.put("network", m.get("network").replace("\"units\":4", "\"units\":0")),
                t -> { });
        assertTrue(reject(units).contains(">= 1 units"));
    }
}
