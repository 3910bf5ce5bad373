package io.github.backprop4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.github.backprop4j.core.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The report's renderings: a plain-text table, bench.json, bench.md and bench.png (samples/s chart). */
public final class ReportFiles {

    public static final String JSON_FILE = "bench.json";
    public static final String MARKDOWN_FILE = "bench.md";
    public static final String CHART_FILE = "bench.png";
    /** Above this ratio between the largest and smallest bar the chart's y axis turns logarithmic. */
    static final double LOG_AXIS_SPREAD = 20;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private ReportFiles() {
    }

    /** Writes bench.json, bench.md and (when there are training rows) bench.png into {@code dir}, atomically each. */
    public static List<Path> write(Report report, Path dir) throws IOException {
        List<Path> written = new ArrayList<>();
        Path json = dir.resolve(JSON_FILE);
        AtomicFiles.write(json, JSON.writeValueAsBytes(report));
        written.add(json);
        Path md = dir.resolve(MARKDOWN_FILE);
        AtomicFiles.write(md, markdown(report).getBytes(StandardCharsets.UTF_8));
        written.add(md);
        CategoryChart chart = chart(report);
        if (chart != null) {
            Path png = dir.resolve(CHART_FILE);
            AtomicFiles.write(png, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
            written.add(png);
        }
        return written;
    }

    // ---- tables ----

    private record Column(String title, boolean rightAligned) {
    }

    private static final List<Column> GEMM_COLUMNS = List.of(new Column("backend", false), new Column("precision", false),
            new Column("n", true), new Column("ms (median)", true), new Column("min-max ms", true),
            new Column("reps x iters", true), new Column("GFLOP/s", true), new Column("vs anchor", false));
    private static final List<Column> TRAIN_COLUMNS = List.of(new Column("backend", false),
            new Column("precision", false), new Column("config", false), new Column("batch", true),
            new Column("ms/step (median)", true), new Column("min-max ms", true), new Column("reps x iters", true),
            new Column("samples/s", true), new Column("TFLOP/s", true), new Column("vs anchor", false));

    private static List<String> cells(Report.Row r) {
        List<String> c = new ArrayList<>();
        Report.Subject what = r.subject();
        Report.Timing t = r.timing();
        c.add(r.label());
        c.add(what.precision());
        c.add(what.config());
        boolean train = what.benchmark().equals(Report.TRAIN);
        if (train) c.add(Integer.toString(what.batch()));
        c.add(fixed(t.msMedian()));
        c.add(r.isAnchor() ? "" : fixed(t.msMin()) + "-" + fixed(t.msMax()));
        c.add(r.isAnchor() ? "anchor" : t.repetitions() + " x " + t.iterationsPerRepetition());
        if (train) {
            c.add(String.format(Locale.ROOT, "%.0f", r.rates().samplesPerSecond()));
            c.add(String.format(Locale.ROOT, "%.4f", r.rates().tflops()));
        } else {
            c.add(String.format(Locale.ROOT, "%.1f", r.rates().gflops()));
        }
        c.add(r.ratios().stream().map(x -> String.format(Locale.ROOT, "%.2fx %s", x.ratio(), x.anchor()))
                .collect(Collectors.joining(", ")));
        return c;
    }

    /** Three significant digits at least, without exponent: 0.0123, 1.23, 123. */
    static String fixed(double ms) {
        if (ms >= 100) return String.format(Locale.ROOT, "%.0f", ms);
        if (ms >= 10) return String.format(Locale.ROOT, "%.1f", ms);
        if (ms >= 1) return String.format(Locale.ROOT, "%.2f", ms);
        if (ms >= 0.1) return String.format(Locale.ROOT, "%.3f", ms);
        return String.format(Locale.ROOT, "%.4f", ms);
    }

    /** Our rows of one benchmark kind, then every anchor row of that kind (those we did not measure still inform). */
    private static List<Report.Row> rowsOf(Report report, String benchmark) {
        List<Report.Row> ours = report.rows().stream().filter(r -> r.subject().benchmark().equals(benchmark)).toList();
        List<Report.Row> anchors = report.anchors().stream().flatMap(a -> a.rows().stream())
                .filter(r -> r.subject().benchmark().equals(benchmark)).toList();
        return Stream.concat(ours.stream(), anchors.stream()).toList();
    }

    /** The report for a terminal: aligned columns, then skipped cells, devices and the environment. */
    public static String text(Report report) {
        StringBuilder sb = new StringBuilder();
        Report.Environment env = report.environment();
        sb.append("backprop4j bench, ").append(report.generated()).append(": java ").append(env.jvm()).append(", ")
                .append(env.os()).append(", ").append(env.cores()).append(" cores\n");
        for (String[] d : devices(report)) sb.append("  ").append(d[0]).append(": ").append(d[1]).append("; ").append(d[2]).append('\n');
        appendTable(sb, "SGEMM C = A·B (n × n, float32 storage)", GEMM_COLUMNS, rowsOf(report, Report.GEMM), false);
        appendTable(sb, "Training step (forward, loss, backward, momentum update; batch on the device)", TRAIN_COLUMNS,
                rowsOf(report, Report.TRAIN), false);
        if (!report.skipped().isEmpty()) {
            sb.append("\nNot measured:\n");
            for (Report.Skipped s : report.skipped())
                sb.append("  ").append(skippedCell(s)).append(": ").append(s.reason()).append('\n');
        }
        return sb.toString();
    }

    /** The report for an issue note: environment, the two tables, skipped cells, anchor notes. */
    public static String markdown(Report report) {
        StringBuilder sb = new StringBuilder("## backprop4j bench\n\n");
        Report.Environment env = report.environment();
        sb.append("- generated ").append(report.generated()).append("; java ").append(env.jvm()).append("; ")
                .append(env.os()).append("; ").append(env.cores()).append(" cores\n");
        for (String[] d : devices(report))
            sb.append("- `").append(d[0]).append("`: ").append(d[1]).append(d[2].isEmpty() ? "" : "; " + d[2]).append('\n');
        for (Report.AnchorSet a : report.anchors())
            sb.append("- anchor ").append(a.format()).append(": `").append(a.file()).append("`")
                    .append(a.format().equals(Anchors.NUMPY) ? " (train ms/step = seconds per epoch / "
                            + Anchors.NUMPY_STEPS_PER_EPOCH + ", host batch gathering included)" : "").append('\n');
        Report.Settings s = report.settings();
        sb.append(String.format(Locale.ROOT, "- timing: warm-up >= %d iterations and >= %.1f s, then %d repetitions of "
                        + "~%.2f s of iterations, each repetition ended by a device synchronization; ms = median and "
                        + "min-max per operation over the repetitions; budget %.0f s per cell\n", s.warmup(), s.warmupSeconds(), s.repetitions(),
                s.repetitionSeconds(), s.maxSecondsPerCell()));
        appendTable(sb, "SGEMM", GEMM_COLUMNS, rowsOf(report, Report.GEMM), true);
        appendTable(sb, "Training step", TRAIN_COLUMNS, rowsOf(report, Report.TRAIN), true);
        if (!report.skipped().isEmpty()) {
            sb.append("\n### Not measured\n\n| cell | reason |\n|---|---|\n");
            for (Report.Skipped k : report.skipped())
                sb.append("| ").append(skippedCell(k)).append(" | ").append(k.reason().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }

    private static String skippedCell(Report.Skipped s) {
        return s.backend() + " " + s.precision() + " " + s.benchmark() + " " + s.config();
    }

    /** backend (precision), device, runtime: one entry per distinct backend of our rows. */
    private static List<String[]> devices(Report report) {
        Map<String, String[]> seen = new LinkedHashMap<>();
        for (Report.Row r : report.rows()) {
            String key = r.subject().backend() + " " + r.subject().precision();
            seen.putIfAbsent(key, new String[] {key, r.platform().device(), r.platform().runtime()});
        }
        return new ArrayList<>(seen.values());
    }

    private static void appendTable(StringBuilder sb, String title, List<Column> columns, List<Report.Row> rows,
                                    boolean markdown) {
        if (rows.isEmpty()) return;
        List<List<String>> body = rows.stream().map(ReportFiles::cells).toList();
        if (markdown) {
            sb.append("\n### ").append(title).append("\n\n|");
            for (Column c : columns) sb.append(' ').append(c.title()).append(" |");
            sb.append("\n|");
            for (Column c : columns) sb.append(c.rightAligned() ? "---:|" : "---|");
            sb.append('\n');
            for (List<String> line : body) {
                sb.append('|');
                for (String cell : line) sb.append(' ').append(cell.replace("|", "\\|")).append(" |");
                sb.append('\n');
            }
            return;
        }
        int[] width = new int[columns.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = columns.get(i).title().length();
            for (List<String> line : body) width[i] = Math.max(width[i], line.get(i).length());
        }
        sb.append('\n').append(title).append('\n');
        List<String> header = columns.stream().map(Column::title).toList();
        appendAligned(sb, header, columns, width);
        for (List<String> line : body) appendAligned(sb, line, columns, width);
    }

    private static void appendAligned(StringBuilder sb, List<String> line, List<Column> columns, int[] width) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < line.size(); i++) {
            if (i > 0) l.append("  ");
            String cell = line.get(i);
            String pad = " ".repeat(width[i] - cell.length());
            l.append(columns.get(i).rightAligned() ? pad + cell : cell + (i == line.size() - 1 ? "" : pad));
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    // ---- chart ----

    /**
     * Samples/s per configuration (x) and backend/precision or anchor (series), or null when the
     * report has no training rows. Logarithmic y axis when the bars span more than {@link #LOG_AXIS_SPREAD}×.
     */
    static CategoryChart chart(Report report) {
        List<Report.Row> rows = rowsOf(report, Report.TRAIN);
        if (rows.isEmpty()) return null;
        Set<String> configs = new LinkedHashSet<>();
        for (StandardConfig c : StandardConfig.values())
            if (rows.stream().anyMatch(r -> r.subject().config().equals(c.id()))) configs.add(c.id());
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        for (Report.Row r : rows)
            series.computeIfAbsent(r.label() + " " + r.subject().precision(), k -> new LinkedHashMap<>())
                    .putIfAbsent(r.subject().config(), r.rates().samplesPerSecond());
        double max = rows.stream().mapToDouble(r -> r.rates().samplesPerSecond()).max().orElse(1);
        double min = rows.stream().mapToDouble(r -> r.rates().samplesPerSecond()).min().orElse(1);
        boolean log = max / min > LOG_AXIS_SPREAD;

        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(600)
                .title("Training step throughput (higher is better)").xAxisTitle("configuration")
                .yAxisTitle(log ? "samples/s (log scale)" : "samples/s").build();
        var st = chart.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setYAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisLogarithmic(log);
        // Bars grow from the axis minimum, which on a log axis must be positive: the decade below the smallest bar.
        if (log) st.setYAxisMin(Math.pow(10, Math.floor(Math.log10(min))));
        chart.getStyler().setLabelsVisible(false);
        chart.getStyler().setOverlapped(false);
        List<String> x = new ArrayList<>(configs);
        for (Map.Entry<String, Map<String, Double>> e : series.entrySet()) {
            // A configuration a series did not measure gets no bar: the value would otherwise read as zero.
            List<Double> y = x.stream().map(c -> e.getValue().get(c)).toList();
            chart.addSeries(e.getKey(), x, y);
        }
        return chart;
    }
}
