package io.github.backprop4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report end to end on the cpu backend with a tiny budget: files, JSON contents, skipped cells. */
class BenchCommandTest {

    @TempDir
    static Path dir;
    static Path numpyAnchor;

    record Result(int code, String out, String err) {
    }

    @BeforeAll
    static void anchor() throws IOException {
        numpyAnchor = dir.resolve("numpy.json");
        Files.writeString(numpyAnchor, """
                {"gemm": 64, "gflops": 50.0}
                {"epochs": 2, "seconds_per_epoch": 0.468, "train_seconds": 0.936, "test_accuracy": 0.85}
                """);
    }

    /** A quick cell: one warm-up iteration, one repetition of one iteration. */
    static Result run(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("--warmup", "1", "--warmup-seconds", "0", "--repetitions", "1",
                "--repetition-seconds", "0", "--out", out.toString()));
        args.addAll(List.of(extra));
        StringWriter stdout = new StringWriter(), stderr = new StringWriter();
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setOut(new PrintWriter(stdout, true));
        cl.setErr(new PrintWriter(stderr, true));
        int code = cl.execute(args.toArray(String[]::new));
        return new Result(code, stdout.toString(), stderr.toString());
    }

    /**
     * The budget holds for a backend's very first cell: with no cell measured yet, a proxy SGEMM predicts
     * it, and a 4096 GEMM (137 GFLOP: about a second on two cores, run twice: warm-up and timing) is skipped
     * under a 0.5 s budget without being set up or run, as is the wide training step.
     */
    @Test
    void firstCellOverBudgetIsSkippedBeforeItRuns() throws IOException {
        Path out = dir.resolve("first-cell");
        Result r = run(out, "--backends", "cpu", "--gemm-sizes", "4096", "--configs", "wide", "--precisions", "fp32",
                "--max-seconds-per-cell", "0.5");
        assertEquals(1, r.code(), "nothing measured: " + r.err() + r.out());
        JsonNode skipped = new ObjectMapper().readTree(out.resolve("bench.json").toFile()).get("skipped");
        assertEquals(2, skipped.size(), skipped.toString());
        for (JsonNode s : skipped) {
            String reason = s.get("reason").asText();
            assertTrue(reason.startsWith("estimated ") && reason.contains("proxy SGEMM"), reason);
            assertTrue(s.get("estimated_seconds").asDouble() > 0.5, s.toString());
        }
        assertFalse(r.err().contains("bench: cpu     fp32  gemm"), "the 4096 cell must not have been timed: " + r.err());
    }

    /**
     * A first cell too cheap to overrun the budget even at {@link BenchReport#FLOOR_GFLOPS} starts without
     * the proxy SGEMM (its first operation is checked anyway); the next cell is predicted from its rate.
     */
    @Test
    void cheapFirstCellNeedsNoProxy() throws IOException {
        Path out = dir.resolve("cheap-first");
        Result r = run(out, "--backends", "cpu", "--gemm-sizes", "64,4096", "--configs", "none", "--precisions", "fp32",
                "--max-seconds-per-cell", "0.5");
        assertEquals(0, r.code(), r.err() + r.out());
        JsonNode report = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals(1, report.get("rows").size(), report.toString());
        JsonNode skipped = report.get("skipped");
        assertEquals(1, skipped.size(), skipped.toString());
        String reason = skipped.get(0).get("reason").asText();
        assertTrue(reason.startsWith("estimated ") && reason.contains("predicted from SGEMM n=64"), reason);
    }

    @Test
    void cpuReportWritesTableJsonMarkdownAndChart() throws IOException {
        Path out = dir.resolve("cpu");
        Result r = run(out, "--backends", "cpu", "--gemm-sizes", "64", "--configs", "fashion", "--precisions", "fp32,tf32",
                "--anchor", numpyAnchor.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of(ReportFiles.JSON_FILE, ReportFiles.MARKDOWN_FILE, ReportFiles.CHART_FILE))
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        assertTrue(r.out().contains("SGEMM") && r.out().contains("Training step"), r.out());

        JsonNode json = new ObjectMapper().readTree(out.resolve(ReportFiles.JSON_FILE).toFile());
        JsonNode rows = json.get("rows");
        assertEquals(2, rows.size(), rows.toString());
        for (JsonNode row : rows) {
            assertEquals("cpu", row.get("backend").asText());
            assertEquals("fp32", row.get("precision").asText());
            assertTrue(row.get("ms_median").asDouble() > 0, row.toString());
            assertTrue(row.get("ms_min").asDouble() <= row.get("ms_max").asDouble(), row.toString());
            for (String field : List.of("device", "runtime", "jvm", "os"))
                assertFalse(row.get(field).asText().isBlank(), field + " in " + row);
            assertTrue(row.get("cores").asInt() >= 1);
            assertEquals(Runtime.version().toString(), row.get("jvm").asText().split(" ")[0]);
            // Both cells have a matching numpy line, so each carries its ratio to it.
            assertEquals("numpy", row.get("ratios").get(0).get("anchor").asText(), row.toString());
            assertTrue(row.get("ratios").get(0).get("ratio").asDouble() > 0);
        }
        JsonNode train = rows.get(1);
        assertEquals("train", train.get("benchmark").asText());
        assertEquals(256, train.get("batch").asInt());
        assertEquals(256 * 1000 / train.get("ms_median").asDouble(), train.get("samples_per_second").asDouble(), 1e-6);
        assertEquals(StandardConfig.FASHION.flopsPerStep() / train.get("ms_median").asDouble() / 1e9,
                train.get("tflops").asDouble(), 1e-9);

        assertEquals("numpy", json.get("anchors").get(0).get("format").asText());
        assertEquals(2, json.get("anchors").get(0).get("rows").size());
        // The cpu backend refuses tf32: listed, with the backend's reason, not dropped.
        JsonNode skipped = json.get("skipped");
        assertEquals(1, skipped.size(), skipped.toString());
        assertEquals("tf32", skipped.get(0).get("precision").asText());
        assertTrue(skipped.get(0).get("reason").asText().contains("fp32 only"), skipped.toString());
        for (String field : List.of("jvm", "os", "cores")) assertTrue(json.get("environment").has(field), field);

        String md = Files.readString(out.resolve(ReportFiles.MARKDOWN_FILE));
        assertTrue(md.contains("| cpu | fp32 | fashion | 256 |"), md);
        assertTrue(md.contains("x numpy"), md);
        assertTrue(md.contains("| numpy | fp32 | fashion | 256 |"), md);
        assertTrue(md.contains("cpu tf32"), md);
    }

    @Test
    void unknownAndUnavailableBackendsAreListedWithTheirReasons() throws IOException {
        Path out = dir.resolve("absent");
        Result r = run(out, "--backends", "nosuch," + UnavailableTestProvider.NAME, "--gemm-sizes", "64",
                "--configs", "none");
        assertNotEquals(0, r.code(), "nothing was measured");
        JsonNode json = new ObjectMapper().readTree(out.resolve(ReportFiles.JSON_FILE).toFile());
        assertEquals(0, json.get("rows").size());
        JsonNode skipped = json.get("skipped");
        assertEquals(2, skipped.size(), skipped.toString());
        assertEquals("nosuch", skipped.get(0).get("backend").asText());
        assertTrue(skipped.get(0).get("reason").asText().contains("unknown backend 'nosuch'"), skipped.toString());
        assertEquals(UnavailableTestProvider.NAME, skipped.get(1).get("backend").asText());
        assertTrue(skipped.get(1).get("reason").asText().contains(UnavailableTestProvider.REASON), skipped.toString());
        assertTrue(r.out().contains(UnavailableTestProvider.REASON), r.out());
        assertFalse(Files.exists(out.resolve(ReportFiles.CHART_FILE)), "no training rows, no chart");
    }

    @Test
    void everyBackendOnTheClassPathIsConsideredByDefault() throws IOException {
        Path out = dir.resolve("all");
        // A budget no cell can meet: every available backend appears as skipped over budget, none silently.
        Result r = run(out, "--gemm-sizes", "64", "--configs", "none", "--precisions", "fp32",
                "--max-seconds-per-cell", "0.000001");
        JsonNode skipped = new ObjectMapper().readTree(out.resolve(ReportFiles.JSON_FILE).toFile()).get("skipped");
        assertNotEquals(0, r.code());
        List<String> seen = new ArrayList<>();
        for (JsonNode s : skipped) seen.add(s.get("backend").asText());
        for (var provider : io.github.backprop4j.core.Backends.providers())
            assertTrue(seen.contains(provider.name()), provider.name() + " missing from " + skipped);
        JsonNode cpu = null;
        for (JsonNode s : skipped) if (s.get("backend").asText().equals("cpu")) cpu = s;
        assertTrue(cpu != null && cpu.get("reason").asText().contains("budget"), skipped.toString());
        assertTrue(cpu.get("estimated_seconds").asDouble() > 0.000001, cpu.toString());
    }

    @Test
    void namedBackendsAreLookedUpWithoutRankingEveryProvider() {
        // Ranking asks every backend for its priority, which for OpenCL means enumerating its devices.
        int asked = UnavailableTestProvider.PRIORITY_ASKED.get();
        Result r = run(dir.resolve("named"), "--backends", "cpu", "--gemm-sizes", "64", "--configs", "none",
                "--precisions", "fp32");
        assertEquals(0, r.code(), r.err());
        assertEquals(asked, UnavailableTestProvider.PRIORITY_ASKED.get(), "a provider was ranked");
    }

    @Test
    void badOptionsAreRejectedWithTheValue() {
        Result r = run(dir.resolve("bad"), "--configs", "fashion,tiny");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown configuration 'tiny'"), r.err());
        r = run(dir.resolve("bad"), "--gemm-sizes", "10x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'10x'"), r.err());
        r = run(dir.resolve("bad"), "--precisions", "fp16");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("fp16"), r.err());
    }
}
