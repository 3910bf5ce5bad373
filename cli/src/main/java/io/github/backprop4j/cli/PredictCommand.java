package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;

/**
 * {@code backprop4j predict}: a checkpoint applied to new rows, written as CSV. The rows are read with the
 * checkpoint's column layout (a CSV with or without its target columns) and normalized as training did.
 */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Apply a checkpoint to new rows and write the predictions as CSV: the predicted class and every "
                + "class's probability (classifiers), the predicted class and the positive class's probability (binary), "
                + "or the predicted values in the targets' units (regression).",
                "A CSV is read with the checkpoint's column layout: with its target columns (skipped) or without them."})
final class PredictCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "Checkpoint written by train.")
    Path checkpoint;
    @Option(names = "--csv", paramLabel = "FILE", description = "CSV rows to predict: the feature columns, with or without "
            + "the target columns, as in training.")
    Path csv;
    @Option(names = "--data", paramLabel = "IDX", description = "IDX images to predict: an images file (raw or .gz), or a "
            + "directory whose t10k images are taken.")
    Path data;
    @Option(names = "--output", required = true, paramLabel = "FILE", description = "CSV file to write (atomically).")
    Path output;
    @CommandLine.Mixin
    BackendChoice device;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Rows predicted and written at a time. */
    static final int CHUNK_ROWS = 8192;

    /** Rows to predict: raw features, each row's id for the output, how to name row i in an error. */
    private record Rows(float[] features, int width, long[] ids, IntFunction<String> where) {
    }

    /**
     * Where the rows come from, a chunk at a time: what they are, the ids' column name, the next chunk
     * (null after the last) and what closing releases.
     */
    private record RowSource(String description, String idName, java.util.function.Supplier<Rows> chunks,
                             Runnable closer) implements AutoCloseable {
        Rows next() {
            return chunks.get();
        }

        @Override
        public void close() {
            closer.run();
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        OptionRules.check(spec.commandLine().getParseResult(), OptionRules.PREDICT, OptionRules.Run.eval(
                csv != null ? Common.DataSource.CSV_GIVEN : Common.DataSource.IDX, OptionRules.Rows.ALL));
        if (csv == null && data == null)
            throw new CliException("predict needs the rows to predict: --csv FILE or --data IDX");
        Map<String, Path> inputs = new LinkedHashMap<>();
        inputs.put("checkpoint", checkpoint);
        inputs.put("--csv data", csv);
        inputs.put("--data images", data);
        Outputs.checkOutput(output, "--output", inputs);
        SavedRun saved = SavedRun.forEvaluation(checkpoint);
        Network net = saved.checkpoint().network();
        Task task = net.task();
        int outputs = net.outputs();
        List<String> targetNames = task == Task.REGRESS ? targetNames(saved, outputs) : List.of();
        List<String> classes = saved.classNames();
        long n = 0;
        try (RowSource source = csv != null ? csvRows(saved, net) : idxRows()) {
            // the first chunk (a CSV's header and layout, its first rows) is checked before any device call
            Rows first = checked(source.next(), source.description(), saved, net);
            try (Backend b = device.open();
                 Model model = saved.checkpoint().model(b)) {
                out.printf("checkpoint %s (%s, task %s)%n", checkpoint, net.describe(), task.id());
                out.printf("backend    %s (%s)%n", b.name(), b.device());
                // Read, predicted and written a chunk at a time: neither the input nor the output is held
                // whole, and a row that cannot be read or whose prediction overflows leaves the output file
                // as it was (the temp file is dropped).
                long[] written = {0};
                AtomicFiles.writeStreaming(output, stream -> {
                    try {
                        Predictions.Writer csvOut = new Predictions.Writer(stream, source.idName(), outputs, task, classes,
                                targetNames);
                        for (Rows rows = first; rows != null; rows = checked(source.next(), source.description(), saved, net)) {
                            predict(model, rows, csvOut);
                            written[0] += rows.ids().length;
                        }
                        csvOut.flush();
                    } catch (java.io.UncheckedIOException e) {
                        throw e.getCause();   // a full disk: reported, with the target's name, as any write error
                    }
                });
                n = written[0];
            }
            out.printf("data       %s, %d rows%n", source.description(), n);
            List<String> columns = new ArrayList<>(List.of(source.idName()));
            columns.addAll(Predictions.header(task, classes, targetNames));
            out.printf("output     %s: %s%n", output, String.join(",", columns));
        }
        out.flush();
        return 0;
    }

    /** {@code rows} (null passes) after the checks every chunk gets: the network's width, and features it can normalize. */
    private static Rows checked(Rows rows, String description, SavedRun saved, Network net) {
        if (rows == null) return null;
        if (rows.width() != net.inputs())
            throw new CliException(description + ": " + rows.width() + " features per row, but the checkpoint's "
                    + "network takes " + net.inputs());
        Data.check(saved.checkpoint().normalization(), rows.features(), rows.width(), rows.where());
        return rows;
    }

    /** Predicts {@code rows} CHUNK_ROWS at a time and writes them; a non-finite prediction names its row. */
    private static void predict(Model model, Rows rows, Predictions.Writer out) {
        int n = rows.ids().length, width = rows.width(), outputs = model.network().outputs();
        for (int from = 0; from < n; from += CHUNK_ROWS) {
            int count = Math.min(CHUNK_ROWS, n - from);
            float[] x = Arrays.copyOfRange(rows.features(), from * width, (from + count) * width);
            float[] predicted = model.predict(x, count);
            for (int i = 0; i < predicted.length; i++)
                if (!Float.isFinite(predicted[i]))
                    throw new CliException(rows.where().apply(from + i / outputs) + ": the prediction is " + predicted[i]
                            + " (the network's outputs overflow on this row)", Main.DIVERGED, null);
            out.rows(rows.ids(), from, count, predicted);
        }
    }

    /**
     * The CSV's rows, CHUNK_ROWS at a time, read with the checkpoint's column layout; a header must name the
     * columns as training's did.
     */
    private RowSource csvRows(SavedRun saved, Network net) {
        ObjectNode columns = saved.columns().orElse(null);
        int count = columns == null ? -1 : columns.path("count").asInt(-1);
        int[] targets = columns == null ? new int[0] : ints(columns.path("targets"));
        Csv.Layout layout = new Csv.Layout() {
            @Override
            public int[] targets(int width, String where) {
                if (columns == null) {
                    if (width == net.inputs()) return new int[0];
                    throw new CliException(where + ": row has " + width + " columns, but the checkpoint's network takes "
                            + net.inputs() + " features and the checkpoint records no column layout: give exactly the "
                            + "feature columns");
                }
                if (width == count) return targets;
                if (width == count - targets.length) return new int[0];
                throw new CliException(where + ": row has " + width + " columns, but the model was trained on " + count
                        + " (" + (count - targets.length) + " features and the targets in column"
                        + (targets.length == 1 ? " " : "s ") + joined(targets) + "): give all " + count
                        + " columns, or the " + (count - targets.length) + " feature columns alone");
            }

            @Override
            public boolean readTargets() {
                return false;
            }
        };
        Csv.Chunks chunks = Csv.chunks(csv, layout, CHUNK_ROWS);
        return new RowSource(csv.toString(), "line", () -> {
            Csv.Table t = chunks.next();
            if (t == null) return null;
            if (t.header() != null && columns != null && columns.has("names"))   // every chunk carries the header
                checkHeader(t, columns.get("names"), targets);
            return new Rows(t.features(), t.featureCount(), t.lines(), i -> csv + ":" + t.lines()[i]);
        }, chunks::close);
    }

    /** Each header cell equals training's name for its column (the features and, when present, the targets). */
    private void checkHeader(Csv.Table t, JsonNode names, int[] targets) {
        boolean withTargets = t.width() == names.size();
        List<String> expected = new ArrayList<>();
        for (int c = 0; c < names.size(); c++) {
            int column = c;
            if (withTargets || Arrays.stream(targets).noneMatch(x -> x == column)) expected.add(names.get(c).asText());
        }
        for (int c = 0; c < t.width(); c++)
            if (!t.header()[c].equals(expected.get(c)))
                throw new CliException(csv + ": header column " + c + " is '" + t.header()[c] + "' but the model was "
                        + "trained with '" + expected.get(c) + "' there (the columns must be in training's order)");
    }

    /** IDX images: a file, or a directory's t10k images, as one chunk; each row's id is its index. */
    private RowSource idxRows() {
        Path images = Files.isDirectory(data) ? Idx.find(data, "t10k-images-idx3-ubyte") : data;
        if (!Files.isDirectory(data) && !Files.exists(data))
            throw new CliException("--data " + data + " does not exist (an IDX images file or a directory)");
        Idx.Array a = Idx.read(images, 3);
        if (a.count() == 0) throw new CliException(images + ": holds no images");
        if (a.itemSize() == 0) throw new CliException(images + ": images of 0 pixels");
        float[] x = new float[a.data().length];
        for (int i = 0; i < x.length; i++) x[i] = a.data()[i] & 0xff;
        long[] ids = new long[a.count()];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        java.util.Iterator<Rows> once = List.of(new Rows(x, a.itemSize(), ids, i -> images + ": image " + i)).iterator();
        return new RowSource(images.toString(), "image", () -> once.hasNext() ? once.next() : null, () -> { });
    }

    /** The regression targets' names: training's header names of the target columns, else target_COLUMN. */
    private static List<String> targetNames(SavedRun saved, int outputs) {
        ObjectNode columns = saved.columns().orElse(null);
        List<String> names = new ArrayList<>();
        int[] targets = columns == null ? new int[0] : ints(columns.path("targets"));
        for (int j = 0; j < outputs; j++) {
            boolean named = columns != null && columns.has("names") && targets.length == outputs;
            names.add(named ? columns.get("names").get(targets[j]).asText()
                    : "target_" + (targets.length == outputs ? targets[j] : j));
        }
        return names;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    private static String joined(int[] values) {
        return String.join(", ", Arrays.stream(values).mapToObj(Integer::toString).toList());
    }
}
