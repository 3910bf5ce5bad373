package io.github.backprop4j.cli;

import io.github.backprop4j.core.AtomicFiles;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code backprop4j eval}: accuracy, loss and confusion matrix of a checkpoint on test data. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a checkpoint: test accuracy, loss and the confusion matrix.",
                "Data: --data/--csv if given, else the data the checkpoint was trained on."})
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Checkpoint written by train.")
    Path checkpoint;
    @Option(names = "--data", paramLabel = "DIR", description = "IDX directory; its t10k files are evaluated.")
    Path data;
    @Option(names = "--csv", paramLabel = "FILE", description = "CSV file; by default its held-out test rows are evaluated.")
    Path csv;
    @Option(names = "--label-column", paramLabel = "N", description = "0-based label column (default: the checkpoint's).")
    Integer labelColumn;
    @Option(names = "--test-fraction", paramLabel = "F", description = "CSV test fraction (default: the checkpoint's).")
    Double testFraction;
    @Option(names = "--all-rows", description = "Evaluate every CSV row, not only the held-out split.")
    boolean allRows;
    @Option(names = "--backend", description = "cpu, opencl or cuda (default: the best available).")
    String backend;
    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or tf32 (default: ${DEFAULT-VALUE}).")
    String precision;
    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON report here.")
    Path report;
    @Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (labelColumn != null && labelColumn < -1)
            throw new CliException("--label-column must be >= 0, or -1 for the last column, got " + labelColumn);
        if (testFraction != null && !(testFraction > 0 && testFraction < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + testFraction);
        if (report != null) {
            Outputs.checkFile(report, "--report");
            Map<String, Path> others = new java.util.LinkedHashMap<>();
            others.put("checkpoint", checkpoint);
            others.put("--csv data", csv);
            Outputs.checkDistinct(report, "--report", others);
        }
        Checkpoint.State state = Checkpoint.load(checkpoint, false);
        OptionRules.check(spec.commandLine().getParseResult(), OptionRules.EVAL, new OptionRules.Run(false, csv != null,
                Common.csvData(data, csv, state), state.optimizer().kind(), allRows));
        Data.Loaded d = Common.loadData(data, csv, labelColumn, testFraction, allRows, false, state.seed(), state);
        if (d.featureCount() != state.network().inputs())
            throw new CliException("the checkpoint's network takes " + state.network().inputs()
                    + " inputs but the data has " + d.featureCount() + " features");
        int classes = state.network().outputs();
        try (Backend b = Common.openBackend(backend, precision);
             Model model = state.model(b);
             Trainer trainer = new Trainer(model, Optimizer.sgd(0.01f), Math.max(state.batch(), 256))) {
            int n = d.test().rows();
            float[] yHat = new float[n * classes];   // n × classes fits: the data set's one-hot targets are as large
            Trainer.Evaluation ev = trainer.evaluate(d.test(), yHat);
            if (!Double.isFinite(ev.loss()) || !Double.isFinite(ev.accuracy()))
                throw new CliException("checkpoint " + checkpoint + " diverges on " + d.description() + ": the test loss "
                        + "is " + ev.loss() + " (the network's outputs overflow on this data)", Main.DIVERGED, null);
            long[][] confusion = new long[classes][classes];
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int j = 1; j < classes; j++) if (yHat[i * classes + j] > yHat[i * classes + best]) best = j;
                confusion[d.testLabels()[i]][best]++;
            }
            out.printf("checkpoint %s (%s, %d epochs)%n", checkpoint, state.network().describe(), state.epochsDone());
            out.printf("backend    %s (%s)%n", b.name(), b.device());
            out.printf("data       %s%n", d.description());
            out.printf(Locale.ROOT, "test accuracy %.4f  test loss %.4f  (%d samples)%n", ev.accuracy(), ev.loss(), n);
            printConfusion(out, confusion, state.classes());
            if (report != null) {
                ObjectNode rep = TrainCommand.JSON.createObjectNode();
                rep.put("checkpoint", checkpoint.toAbsolutePath().toString()).put("backend", b.name())
                        .put("device", b.device()).put("network", state.network().describe())
                        .put("epochs", state.epochsDone()).put("samples", n)
                        .put("test_loss", ev.loss()).put("test_accuracy", ev.accuracy());
                rep.set("classes", TrainCommand.JSON.valueToTree(state.classes()));
                ArrayNode cm = rep.putArray("confusion_matrix");
                for (long[] row : confusion) {
                    ArrayNode r = cm.addArray();
                    for (long v : row) r.add(v);
                }
                AtomicFiles.write(report, TrainCommand.JSON.writeValueAsBytes(rep));
                out.println("report     " + report);
            }
            out.flush();
        }
        return 0;
    }

    private static void printConfusion(PrintWriter out, long[][] m, List<String> names) {
        int k = m.length;
        out.println("confusion matrix (rows: true class, columns: predicted class)");
        int w = 6;
        for (long[] row : m) for (long v : row) w = Math.max(w, Long.toString(v).length() + 1);
        out.printf("%4s", "");
        for (int j = 0; j < k; j++) out.printf("%" + w + "d", j);
        out.printf("   %s%n", "recall");
        for (int i = 0; i < k; i++) {
            out.printf("%4d", i);
            long total = 0;
            for (int j = 0; j < k; j++) {
                out.printf("%" + w + "d", m[i][j]);
                total += m[i][j];
            }
            out.printf(Locale.ROOT, "   %.3f  %s%n", total == 0 ? 0.0 : (double) m[i][i] / total, names.get(i));
        }
    }
}
