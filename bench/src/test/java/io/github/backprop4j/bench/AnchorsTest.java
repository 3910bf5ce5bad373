package io.github.backprop4j.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both anchor formats, told apart by content, and the ratios of our rows to them. */
class AnchorsTest {

    @TempDir
    Path dir;

    private static final String TORCH = """
            {
             "gemm": [
              {"gemm": 1024, "precision": "fp32", "ms": 0.05, "tflops": 42.9},
              {"gemm": 1024, "precision": "tf32", "ms": 0.02, "tflops": 107.4}
             ],
             "steps": [
              {"config": "fashion", "mode": "eager", "precision": "fp32", "ms_per_step": 0.5, "samples_per_s": 512000, "tflops": 0.72},
              {"config": "fashion", "mode": "graph", "precision": "fp32", "ms_per_step": 0.1, "samples_per_s": 2560000, "tflops": 3.6},
              {"config": "wide", "mode": "graph", "precision": "tf32", "ms_per_step": 20.0, "samples_per_s": 204800, "tflops": 51.5}
             ]
            }
            """;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void readsTorchAnchor() throws IOException {
        Report.AnchorSet set = Anchors.read(write("torch_anchor.json", TORCH));
        assertEquals(Anchors.TORCH, set.format());
        assertEquals(5, set.rows().size());
        Report.Row gemm = set.rows().get(1);
        assertEquals(List.of("gemm", "1024", "tf32"), List.of(gemm.subject().benchmark(), gemm.subject().config(), gemm.subject().precision()));
        assertEquals(0.02, gemm.timing().msMedian());
        assertEquals(2.0 * 1024 * 1024 * 1024 / 0.02e-3 / 1e9, gemm.rates().gflops(), 1e-6);
        Report.Row graph = set.rows().get(3);
        assertEquals("torch graph", graph.label());
        assertEquals(256, graph.subject().batch());
        assertEquals(2_560_000, graph.rates().samplesPerSecond(), 1e-6);
        assertEquals(StandardConfig.FASHION.flopsPerStep() / 0.1e-3 / 1e12, graph.rates().tflops(), 1e-9);
        assertTrue(graph.isAnchor());
    }

    @Test
    void readsNumpyLines() throws IOException {
        Report.AnchorSet set = Anchors.read(write("numpy.json", """
                {"gemm": 1024, "gflops": 200.0}

                {"gemm": 2048, "gflops": 250.0}
                {"epochs": 2, "seconds_per_epoch": 0.468, "train_seconds": 0.936, "test_accuracy": 0.85}
                """));
        assertEquals(Anchors.NUMPY, set.format());
        assertEquals(3, set.rows().size());
        Report.Row g = set.rows().get(0);
        assertEquals("1024", g.subject().config());
        assertEquals("fp32", g.subject().precision());
        assertEquals(2.0 * 1024 * 1024 * 1024 / 200e9 * 1e3, g.timing().msMedian(), 1e-9);
        assertEquals(200.0, g.rates().gflops(), 1e-9);
        Report.Row train = set.rows().get(2);
        assertEquals("fashion", train.subject().config());
        assertEquals(468.0 / 234, train.timing().msMedian(), 1e-9); // 60000 / 256 = 234 full steps per epoch
        assertEquals(256 / (468.0 / 234) * 1000, train.rates().samplesPerSecond(), 1e-6);
    }

    @Test
    void singleNumpyLineIsNotMistakenForTorch() throws IOException {
        Report.AnchorSet set = Anchors.read(write("one.json", "{\"gemm\": 4096, \"gflops\": 300.0}\n"));
        assertEquals(Anchors.NUMPY, set.format());
        assertEquals("4096", set.rows().getFirst().subject().config());
    }

    @Test
    void malformedAnchorsNameTheFileAndLine() throws IOException {
        Path garbage = write("bad.json", "{\"gemm\": 1024, \"gflops\": 1.0}\nnot json\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Anchors.read(garbage));
        assertTrue(e.getMessage().contains(garbage + ":2"), e.getMessage());
        Path unknown = write("unknown.json", "{\"hello\": 1}\n");
        e = assertThrows(IllegalArgumentException.class, () -> Anchors.read(unknown));
        assertTrue(e.getMessage().contains(unknown + ":1") && e.getMessage().contains("neither"), e.getMessage());
        Path badStep = write("badstep.json", TORCH.replace("\"ms_per_step\": 0.5", "\"ms_per_step\": -1"));
        e = assertThrows(IllegalArgumentException.class, () -> Anchors.read(badStep));
        assertTrue(e.getMessage().contains("steps[0]") && e.getMessage().contains("ms_per_step"), e.getMessage());
        Path empty = write("empty.json", "\n");
        e = assertThrows(IllegalArgumentException.class, () -> Anchors.read(empty));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }

    private static Report.Row ours(String benchmark, String config, String precision, double ms) {
        return new Report.Row(new Report.Subject(BenchReport.SOURCE, "", "cuda", benchmark, config, precision, 0),
                new Report.Timing(ms, ms, ms, 5, 10), new Report.Rates(0, 0, 0),
                new Report.Platform("dev", "rt", "jvm", "os", 1), List.of());
    }

    @Test
    void ratiosMatchBenchmarkConfigAndPrecision() throws IOException {
        List<Report.AnchorSet> anchors = List.of(Anchors.read(write("t.json", TORCH)));
        // Ours takes 0.2 ms per fashion step: half as fast as torch graph (0.1), 2.5x torch eager (0.5).
        List<Report.Ratio> r = Anchors.ratios(ours("train", "fashion", "fp32", 0.2), anchors);
        assertEquals(2, r.size());
        assertEquals("torch eager", r.get(0).anchor());
        assertEquals(2.5, r.get(0).ratio(), 1e-12);
        assertEquals("torch graph", r.get(1).anchor());
        assertEquals(0.5, r.get(1).ratio(), 1e-12);
        // Same size, other precision: only the tf32 row counts.
        r = Anchors.ratios(ours("gemm", "1024", "tf32", 0.04), anchors);
        assertEquals(1, r.size());
        assertEquals(0.5, r.getFirst().ratio(), 1e-12);
        assertTrue(Anchors.ratios(ours("gemm", "2048", "fp32", 1), anchors).isEmpty());
        assertTrue(Anchors.ratios(ours("train", "wide", "fp32", 1), anchors).isEmpty());
    }
}
