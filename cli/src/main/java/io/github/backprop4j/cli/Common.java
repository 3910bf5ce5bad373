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

    /** Whether the run reads CSV: --csv given, or no --data and the checkpoint was trained on a CSV file. */
    static boolean csvData(Path dataDir, Path csv, Checkpoint.State ckpt) {
        if (csv != null) return true;
        return dataDir == null && ckpt != null && ckpt.source().path("kind").asText().equals("csv");
    }

    /**
     * The data the user named (--csv or --data), else the checkpoint's recorded source, else the
     * default Fashion-MNIST directory. With a checkpoint ({@code ckpt} non-null) its classes and its
     * normalization apply, whatever the format of the data.
     */
    static Data.Loaded loadData(Path dataDir, Path csv, Integer labelColumn, Double testFraction, boolean allRowsAreTest,
                                boolean withTrain, long seed, Checkpoint.State ckpt) {
        var classes = ckpt == null ? null : ckpt.classes();
        Data.Normalization norm = ckpt == null ? null : ckpt.normalization();
        JsonNode recorded = ckpt == null ? null : ckpt.source();
        boolean recordedCsv = recorded != null && recorded.path("kind").asText().equals("csv");
        if (csvData(dataDir, csv, ckpt)) {
            Path file = csv != null ? csv : Path.of(recorded.path("file").asText());
            int label = labelColumn != null ? labelColumn
                    : recordedCsv && recorded.has("label_column") ? recorded.get("label_column").asInt() : -1;
            double fraction = testFraction != null ? testFraction
                    : recordedCsv && recorded.has("test_fraction") ? recorded.get("test_fraction").asDouble() : 0.2;
            return Data.csv(file, label, fraction, seed, classes, norm, allRowsAreTest);
        }
        Path dir = dataDir != null ? dataDir
                : recorded != null && recorded.path("kind").asText().equals("idx") ? Path.of(recorded.path("dir").asText())
                : Data.DEFAULT_IDX_DIR;
        return Data.idx(dir, withTrain, classes, norm);
    }
}
