package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.AtomicFiles;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Task;
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

/**
 * {@code backprop4j eval}: a checkpoint's metrics on test data: accuracy and the confusion matrix for
 * classifiers, with ROC AUC for binary ones, MSE/MAE/R² for regression.
 */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Evaluate a checkpoint: test loss and accuracy with the confusion matrix (classifiers; binary: "
                + "also ROC AUC) or MSE, MAE and R² (regression).",
                "Data: --data/--csv if given, else the data the checkpoint was trained on."})
final class EvalCommand implements Callable<Integer> {

    /** The CSV split's seed for a model saved without training state (train's default seed). */
    static final long DEFAULT_SEED = 42;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Checkpoint written by train.")
    Path checkpoint;
    @Option(names = "--data", paramLabel = "DIR", description = "IDX directory; its t10k files are evaluated.")
    Path data;
    @Option(names = "--csv", paramLabel = "FILE", description = "CSV file; by default its held-out test rows are evaluated.")
    Path csv;
    @Option(names = "--label-column", paramLabel = "N", description = "0-based label column (default: the checkpoint's).")
    Integer labelColumn;
    @Option(names = "--target-columns", paramLabel = "COLS", split = ",",
            description = "0-based target columns, comma-separated (default: the checkpoint's).")
    List<Integer> targetColumns;
    @Option(names = "--test-fraction", paramLabel = "F", description = "CSV test fraction (default: the checkpoint's).")
    Double testFraction;
    @Option(names = "--all-rows", description = "Evaluate every CSV row, not only the held-out split.")
    boolean allRows;
    @CommandLine.Mixin
    BackendChoice device;
    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON report here.")
    Path report;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Common.checkCsvOptions(labelColumn, targetColumns, testFraction);
        if (report != null) {
            Map<String, Path> others = new java.util.LinkedHashMap<>();
            others.put("checkpoint", checkpoint);
            others.put("--csv data", csv);
            Outputs.checkOutput(report, "--report", others);
        }
        SavedRun saved = SavedRun.forEvaluation(checkpoint);
        Network net = saved.checkpoint().network();
        OptionRules.check(spec.commandLine().getParseResult(), OptionRules.EVAL, OptionRules.Run.eval(
                Common.source(data, csv, saved), allRows ? OptionRules.Rows.ALL : OptionRules.Rows.HELD_OUT));
        Data.Loaded d = Common.loadData(new Common.DataRequest(data, csv, labelColumn != null ? List.of(labelColumn)
                : targetColumns, null, testFraction, null, allRows ? Data.Use.EVALUATION_OF_ALL_ROWS : Data.Use.EVALUATION,
                saved.seed(DEFAULT_SEED), saved));
        Common.checkFits(net, d);
        Task task = net.task();
        int outputs = net.outputs();
        try (Backend b = device.open();
             Model model = saved.checkpoint().model(b)) {
            int n = d.test().rows();
            float[] yHat = new float[n * outputs];   // n × outputs fits: the data set's targets are as large
            Model.Evaluation ev = model.evaluate(d.test(), yHat);
            if (!Double.isFinite(ev.loss()))
                throw new CliException("checkpoint " + checkpoint + " diverges on " + d.description() + ": the test loss "
                        + "is " + ev.loss() + " (the network's outputs overflow on this data)", Main.DIVERGED, null);
            long[][] confusion = task == Task.REGRESS ? null : confusion(yHat, d.testLabels(), task, d.classes().size());
            out.printf("checkpoint %s (%s, %s)%n", checkpoint, net.describe(), saved.checkpoint().training().isPresent()
                    ? saved.epochsDone() + " epochs" : "a model saved without training state");
            out.printf("backend    %s (%s)%n", b.name(), b.device());
            out.printf("data       %s%n", d.description());
            out.printf(Locale.ROOT, "%s  (%d samples)%n", Scores.describe("test", task, ev), n);
            if (confusion != null) printConfusion(out, confusion, d.classes());
            if (report != null) {
                ObjectNode rep = TrainCommand.JSON.createObjectNode();
                rep.put("checkpoint", checkpoint.toAbsolutePath().toString()).put("backend", b.name())
                        .put("device", b.device()).put("task", task.id()).put("network", net.describe())
                        .put("epochs", saved.epochsDone()).put("samples", n);
                Scores.put(rep, "test", task, ev);
                if (confusion != null) {
                    rep.set("classes", TrainCommand.JSON.valueToTree(d.classes()));
                    ArrayNode cm = rep.putArray("confusion_matrix");
                    for (long[] row : confusion) {
                        ArrayNode r = cm.addArray();
                        for (long v : row) r.add(v);
                    }
                }
                AtomicFiles.write(report, TrainCommand.JSON.writeValueAsBytes(rep));
                out.println("report     " + report);
            }
            out.flush();
        }
        return 0;
    }

    /** Rows: true class, columns: predicted class (argmax, or probability ≥ 0.5 for a binary network). */
    private static long[][] confusion(float[] yHat, int[] labels, Task task, int classes) {
        long[][] m = new long[classes][classes];
        for (int i = 0; i < labels.length; i++) m[labels[i]][Predictions.predictedClass(yHat, i, task, classes)]++;
        return m;
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
