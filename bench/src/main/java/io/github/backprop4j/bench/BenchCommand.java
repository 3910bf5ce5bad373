package io.github.backprop4j.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bench}: the backend comparison report. The same command serves {@code backprop4j bench}
 * (the cli registers it as a subcommand) and {@code java -cp … io.github.backprop4j.bench.BenchMain}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time SGEMM and the training step of the standard configurations on every backend and "
                + "precision, beside optional anchors; writes a table to stdout and bench.json, bench.md and "
                + "bench.png to --out.",
                "Cells whose estimated cost exceeds --max-seconds-per-cell are listed as skipped, with the estimate."})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--backends", paramLabel = "LIST",
            description = "Comma-separated backends (default: every backend on the class path).")
    String backends;

    @Option(names = "--precisions", paramLabel = "LIST", defaultValue = "fp32,tf32",
            description = "Comma-separated precisions; a backend that refuses one is listed as skipped (default: ${DEFAULT-VALUE}).")
    String precisions;

    @Option(names = "--gemm-sizes", paramLabel = "LIST", defaultValue = "1024,2048,4096",
            description = "Comma-separated SGEMM sizes n, or 'none' (default: ${DEFAULT-VALUE}).")
    String gemmSizes;

    @Option(names = "--configs", paramLabel = "LIST", defaultValue = "fashion,fashion-8k,wide",
            description = "Comma-separated training configurations, or 'none' (default: ${DEFAULT-VALUE}).")
    String configs;

    @Option(names = "--repetitions", defaultValue = "5", description = "Timed repetitions per cell (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--warmup", defaultValue = "3",
            description = "Warm-up iterations per cell, at least (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-seconds", defaultValue = "2",
            description = "Warm-up seconds per cell, at least (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--repetition-seconds", defaultValue = "0.5",
            description = "Each repetition times enough iterations to last about this long (default: ${DEFAULT-VALUE}).")
    double repetitionSeconds;

    @Option(names = "--max-seconds-per-cell", defaultValue = "60",
            description = "Skip (and report) a cell estimated to take longer (default: ${DEFAULT-VALUE}).")
    double maxSecondsPerCell;

    @Option(names = "--anchor", paramLabel = "FILE",
            description = "Reference timings to show beside ours: torch_anchor.json or numpy_mlp.py's JSON lines. Repeatable.")
    List<Path> anchors = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
            description = "Directory for bench.json, bench.md and bench.png (default: the current directory).")
    Path out;

    @Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Report.Settings settings = settings();
        checkWritable(out);   // before minutes of measuring, not after
        List<Report.AnchorSet> anchorSets = new ArrayList<>();
        for (Path file : anchors) anchorSets.add(Anchors.read(file));
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Report report = new BenchReport(settings, stderr).run(anchorSets);
        stdout.print(ReportFiles.text(report));
        stdout.flush(); // the table is out even if a file cannot be written
        List<Path> written = ReportFiles.write(report, out);
        stdout.println();
        for (Path p : written) stdout.println("wrote " + p);
        stdout.flush();
        if (report.rows().isEmpty()) {
            stderr.println("bench: nothing was measured (see 'Not measured' above)");
            stderr.flush();
            return 1;
        }
        return 0;
    }

    /** {@code dir} exists or can be made, and files can be created in it. */
    static void checkWritable(Path dir) throws IOException {
        try {
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.delete(java.nio.file.Files.createTempFile(dir, ".bench-probe-", ".tmp"));
        } catch (IOException e) {
            String reason = e instanceof java.nio.file.FileAlreadyExistsException ? "a file that is not a directory is in the way"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                    : BenchReport.reason(e);
            throw new IOException("--out " + dir + ": cannot write there: " + reason, e);
        }
    }

    Report.Settings settings() {
        try {
            List<String> precisionList = BenchReport.split(precisions);
            precisionList.forEach(io.github.backprop4j.core.Precision::parse);
            List<String> configList = none(configs) ? List.of() : BenchReport.split(configs).stream()
                    .map(c -> StandardConfig.parse(c).id()).toList();
            List<Integer> sizes = none(gemmSizes) ? List.of() : BenchReport.split(gemmSizes).stream()
                    .map(BenchCommand::size).toList();
            return new Report.Settings(BenchReport.split(backends), precisionList, sizes, configList, repetitions,
                    warmup, warmupSeconds, repetitionSeconds, maxSecondsPerCell);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    private static boolean none(String list) {
        return list.isBlank() || list.trim().equalsIgnoreCase("none");
    }

    private static int size(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("gemm size '" + text + "' is not an integer (expected e.g. "
                    + Arrays.asList(1024, 2048, 4096) + ")");
        }
    }
}
