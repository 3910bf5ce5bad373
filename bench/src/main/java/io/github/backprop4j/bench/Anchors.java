package io.github.backprop4j.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * External reference timings shown beside ours, read from files whose format is told by content:
 * <ul>
 *   <li>torch: one JSON object with {@code gemm} rows {gemm, precision, ms, tflops} and {@code steps}
 *       rows {config, mode, precision, ms_per_step, samples_per_s, tflops}, as
 *       {@code shared/device/torch_anchor.py} writes torch_anchor.json;</li>
 *   <li>numpy: JSON lines as {@code shared/anchors/numpy_mlp.py} prints them: {"gemm": n, "gflops": g}
 *       and one training line {"epochs", "seconds_per_epoch", ...} for the fashion configuration
 *       (batch 256, {@value #NUMPY_STEPS_PER_EPOCH} full steps per 60000-sample epoch). NumPy has
 *       one precision, fp32.</li>
 * </ul>
 */
public final class Anchors {

    public static final String TORCH = "torch";
    public static final String NUMPY = "numpy";
    /** numpy_mlp.py trains Fashion-MNIST's 60000 samples in full batches of 256 and drops the remainder. */
    static final int NUMPY_STEPS_PER_EPOCH = 60000 / 256;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Anchors() {
    }

    /** Reads one anchor file; the error names the file and, for line formats, the line. */
    /** Anchor files are a few kilobytes; anything near this is not one. */
    static final long MAX_ANCHOR_BYTES = 16L << 20;

    public static Report.AnchorSet read(Path file) throws IOException {
        if (Files.exists(file) && !Files.isRegularFile(file))
            throw new IllegalArgumentException(file + ": an anchor must be a regular file (a device or a pipe is not)");
        if (Files.isRegularFile(file) && Files.size(file) > MAX_ANCHOR_BYTES)
            throw new IllegalArgumentException(file + ": " + Files.size(file) + " bytes is far too large for an anchor file");
        String text;
        try {
            text = Files.readString(file);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text, so not an anchor file");
        }
        String trimmed = text.strip();
        if (trimmed.isEmpty()) throw new IllegalArgumentException(file + ": anchor file is empty");
        JsonNode whole = null;
        try {
            whole = JSON.readTree(trimmed);
        } catch (JsonProcessingException ignored) {
            // several JSON lines do not parse as one document: the numpy format, below
        }
        if (whole != null && whole.isObject() && (whole.has("steps") || whole.get("gemm") instanceof JsonNode g && g.isArray()))
            return new Report.AnchorSet(file.toString(), TORCH, torch(file, whole));
        return new Report.AnchorSet(file.toString(), NUMPY, numpy(file, text));
    }

    private static List<Report.Row> torch(Path file, JsonNode root) {
        String device = root.path("device").asText("");
        String runtime = root.has("torch") ? "torch " + root.get("torch").asText() : "";
        List<Report.Row> rows = new ArrayList<>();
        int i = 0;
        for (JsonNode g : root.path("gemm")) {
            String where = file + ": gemm[" + i++ + "]";
            int n = positiveInt(g, "gemm", where);
            double ms = positive(g, "ms", where);
            rows.add(anchorRow(TORCH, "", Report.GEMM, Integer.toString(n), text(g, "precision", where), 0, ms,
                    GemmBenchmark.flops(n), device, runtime));
        }
        i = 0;
        for (JsonNode s : root.path("steps")) {
            String where = file + ": steps[" + i++ + "]";
            StandardConfig config = config(s, where);
            double ms = positive(s, "ms_per_step", where);
            rows.add(anchorRow(TORCH, text(s, "mode", where), Report.TRAIN, config.id(), text(s, "precision", where),
                    config.batch(), ms, config.flopsPerStep(), device, runtime));
        }
        return rows;
    }

    private static List<Report.Row> numpy(Path file, String text) {
        List<Report.Row> rows = new ArrayList<>();
        List<String> lines = text.lines().toList();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            String where = file + ":" + (i + 1);
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where + ": not a JSON line of numpy_mlp.py nor a torch_anchor.json "
                        + "object: " + e.getOriginalMessage());
            }
            if (node.has("gemm") && node.has("gflops")) {
                int n = positiveInt(node, "gemm", where);
                double gflops = positive(node, "gflops", where);
                double flops = GemmBenchmark.flops(n);
                rows.add(anchorRow(NUMPY, "", Report.GEMM, Integer.toString(n), "fp32", 0, flops / gflops / 1e6, flops,
                        "", ""));
            } else if (node.has("seconds_per_epoch")) {
                double msPerStep = positive(node, "seconds_per_epoch", where) * 1000 / NUMPY_STEPS_PER_EPOCH;
                StandardConfig fashion = StandardConfig.FASHION;
                rows.add(anchorRow(NUMPY, "", Report.TRAIN, fashion.id(), "fp32", fashion.batch(), msPerStep,
                        fashion.flopsPerStep(), "", ""));
            } else {
                throw new IllegalArgumentException(where + ": a numpy_mlp.py line has {\"gemm\", \"gflops\"} or "
                        + "\"seconds_per_epoch\"; this one has neither");
            }
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no anchor lines found");
        return rows;
    }

    private static Report.Row anchorRow(String name, String mode, String benchmark, String config, String precision,
                                        int batch, double ms, double flops, String device, String runtime) {
        return new Report.Row(new Report.Subject(name, mode, name, benchmark, config, precision, batch),
                new Report.Timing(ms, ms, ms, 0, 0), Report.Rates.of(flops, batch, ms),
                Report.Platform.anchor(device, runtime), List.of());
    }

    /**
     * Our row's throughput over that of every anchor row with the same benchmark, configuration and
     * precision (torch gives two: eager and graph).
     */
    public static List<Report.Ratio> ratios(Report.Row ours, List<Report.AnchorSet> anchors) {
        List<Report.Ratio> out = new ArrayList<>();
        for (Report.AnchorSet set : anchors)
            for (Report.Row a : set.rows())
                if (a.subject().sameCell(ours.subject()))
                    out.add(new Report.Ratio(a.label(), ours.throughput() / a.throughput()));
        return out;
    }

    private static StandardConfig config(JsonNode node, String where) {
        try {
            return StandardConfig.parse(text(node, "config", where));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.isTextual()) throw new IllegalArgumentException(where + ": missing text field '" + key + "'");
        return v.asText();
    }

    private static double positive(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble()))
            throw new IllegalArgumentException(where + ": field '" + key + "' must be a positive number, got " + v);
        return v.asDouble();
    }

    private static int positiveInt(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1)
            throw new IllegalArgumentException(where + ": field '" + key + "' must be a positive integer, got " + v);
        return v.asInt();
    }
}
