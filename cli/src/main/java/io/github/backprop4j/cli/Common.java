package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.Task;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Backend and data choices shared by the commands. */
final class Common {

    private Common() {
    }

    /** The named backend, or {@link Backends#best} (which honours backprop4j.backend / BACKPROP4J_BACKEND). */
    static Backend openBackend(String name, String precision) {
        BackendOptions options = BackendOptions.defaults().withPrecision(Precision.parse(precision));
        return name == null || name.isBlank() ? Backends.best(options) : Backends.open(name, options);
    }

    /** Where a command's rows come from. */
    enum DataSource {
        /** IDX files: --data, or the checkpoint's recorded directory, or the default Fashion-MNIST one. */
        IDX,
        /** The --csv file the user named. */
        CSV_GIVEN,
        /** The CSV file the checkpoint was trained on (no --csv and no --data given). */
        CSV_RECORDED;

        boolean csv() {
            return this != IDX;
        }
    }

    /** The source a run reads: --csv, else --data, else what the checkpoint recorded (null: a new run). */
    static DataSource source(Path dataDir, Path csv, SavedRun saved) {
        if (csv != null) return DataSource.CSV_GIVEN;
        if (dataDir == null && saved != null && saved.recorded("kind") != null
                && saved.recorded("kind").asText().equals("csv")) return DataSource.CSV_RECORDED;
        return DataSource.IDX;
    }

    /**
     * What a command asked for: --data, --csv, the target columns (--label-column or --target-columns),
     * --task, --test-fraction and --validation-fraction as given (null when not), which rows it needs,
     * the seed of the splits, and the checkpoint it runs on (null for a new run), whose recorded source,
     * task, classes and normalizations apply.
     */
    record DataRequest(Path dataDir, Path csv, List<Integer> targetColumns, Task task, Double testFraction,
                       Double validationFraction, Data.Use use, long seed, SavedRun saved) {
    }

    /**
     * The data the user named (--csv or --data), else the checkpoint's recorded source, else the
     * default Fashion-MNIST directory. With a checkpoint its task, classes and normalizations apply,
     * whatever the format of the data, and options not given default to what it recorded.
     */
    static Data.Loaded loadData(DataRequest r) {
        SavedRun saved = r.saved();
        Data.Recorded recorded = saved == null ? Data.Recorded.NONE
                : new Data.Recorded(saved.checkpoint().network().task(), saved.classNames(),
                saved.checkpoint().normalization(), saved.checkpoint().targetNormalization(),
                saved.recorded(Data.SPLIT_KEY) != null && Data.STRATIFIED.equals(saved.recorded(Data.SPLIT_KEY).asText()));
        String kind = saved != null && saved.recorded("kind") != null ? saved.recorded("kind").asText() : null;
        double validation = r.validationFraction() != null ? r.validationFraction()
                : recordedNumber(saved, "validation_fraction", 0);
        if (source(r.dataDir(), r.csv(), saved).csv()) {
            Path file = r.csv() != null ? r.csv() : Path.of(saved.recorded("file").asText());
            boolean recordedCsv = "csv".equals(kind);
            List<Integer> columns = r.targetColumns() != null ? r.targetColumns()
                    : recordedCsv ? recordedTargetColumns(saved) : List.of(-1);
            double test = r.testFraction() != null ? r.testFraction()
                    : recordedCsv ? recordedNumber(saved, "test_fraction", 0.2) : 0.2;
            return Data.csv(new Data.CsvRequest(file, columns, r.task(), test, validation, r.seed(), r.use()), recorded);
        }
        JsonNode recordedDir = "idx".equals(kind) ? saved.recorded("dir") : null;
        Path dir = r.dataDir() != null ? r.dataDir() : recordedDir != null ? Path.of(recordedDir.asText())
                : Data.DEFAULT_IDX_DIR;
        return Data.idx(dir, r.use(), validation, r.seed(), recorded);
    }

    /** The CSV column and split options train and eval share: valid values, and one way of naming the targets. */
    static void checkCsvOptions(Integer labelColumn, java.util.List<Integer> targetColumns, Double testFraction) {
        if (labelColumn != null && labelColumn < -1)
            throw new CliException("--label-column must be >= 0, or -1 for the last column, got " + labelColumn);
        if (labelColumn != null && targetColumns != null)
            throw new CliException("--label-column and --target-columns both name the target columns: give one");
        if (testFraction != null && !(testFraction > 0 && testFraction < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + testFraction);
    }

    /** Refuses data the checkpoint's (or new) network does not take: another feature width or target count. */
    static void checkFits(Network net, Data.Loaded d) {
        if (net.inputs() != d.featureCount())
            throw new CliException("the checkpoint's network takes " + net.inputs() + " inputs but the data has "
                    + d.featureCount() + " features");
        if (net.task() == Task.REGRESS && net.outputs() != d.test().targetCount())
            throw new CliException("the checkpoint's network predicts " + net.outputs() + " targets but the data has "
                    + d.test().targetCount() + " target columns");
    }

    /** The recorded target columns: {@code target_columns}, or an older run's {@code label_column}. */
    private static List<Integer> recordedTargetColumns(SavedRun saved) {
        JsonNode columns = saved.recorded("target_columns");
        if (columns != null && columns.isArray() && !columns.isEmpty()) {
            List<Integer> out = new ArrayList<>();
            for (JsonNode c : columns) out.add(c.asInt());
            return out;
        }
        JsonNode label = saved.recorded("label_column");
        return List.of(label != null ? label.asInt() : -1);
    }

    private static double recordedNumber(SavedRun saved, String key, double fallback) {
        JsonNode v = saved == null ? null : saved.recorded(key);
        return v != null && v.isNumber() ? v.asDouble() : fallback;
    }
}
