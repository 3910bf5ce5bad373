package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Precision;

import java.nio.file.Path;

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
     * What a command asked for: --data, --csv, --label-column and --test-fraction as given (null when
     * not), which rows it needs, the seed of the CSV split, and the checkpoint it runs on (null for a new
     * run), whose recorded source, classes and normalization apply.
     */
    record DataRequest(Path dataDir, Path csv, Integer labelColumn, Double testFraction, Data.Use use, long seed,
                       SavedRun saved) {
    }

    /**
     * The data the user named (--csv or --data), else the checkpoint's recorded source, else the
     * default Fashion-MNIST directory. With a checkpoint its classes and its normalization apply,
     * whatever the format of the data.
     */
    static Data.Loaded loadData(DataRequest r) {
        SavedRun saved = r.saved();
        Data.Recorded recorded = saved == null ? Data.Recorded.NONE
                : new Data.Recorded(saved.classNames(), saved.checkpoint().normalization());
        boolean recordedCsv = saved != null && saved.recorded("kind") != null
                && saved.recorded("kind").asText().equals("csv");
        if (source(r.dataDir(), r.csv(), saved).csv()) {
            Path file = r.csv() != null ? r.csv() : Path.of(saved.recorded("file").asText());
            JsonNode label = recordedCsv ? saved.recorded("label_column") : null;
            JsonNode fraction = recordedCsv ? saved.recorded("test_fraction") : null;
            return Data.csv(file, r.labelColumn() != null ? r.labelColumn() : label != null ? label.asInt() : -1,
                    r.testFraction() != null ? r.testFraction() : fraction != null ? fraction.asDouble() : 0.2, r.seed(),
                    r.use(), recorded);
        }
        JsonNode recordedDir = saved != null && saved.recorded("kind") != null
                && saved.recorded("kind").asText().equals("idx") ? saved.recorded("dir") : null;
        Path dir = r.dataDir() != null ? r.dataDir() : recordedDir != null ? Path.of(recordedDir.asText())
                : Data.DEFAULT_IDX_DIR;
        return Data.idx(dir, r.use(), recorded);
    }
}
