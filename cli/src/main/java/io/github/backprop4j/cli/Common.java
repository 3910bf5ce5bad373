package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Precision;

import java.nio.file.Path;
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

    /**
     * The data the user named (--csv or --data), else the checkpoint's recorded source, else the
     * default Fashion-MNIST directory. {@code ckpt} may be null.
     */
    static Data.Loaded loadData(Path dataDir, Path csv, Integer labelColumn, Double testFraction, boolean allRowsAreTest,
                                boolean withTrain, long seed, Checkpoint.State ckpt) {
        List<String> classes = ckpt == null ? null : ckpt.classes();
        Data.Normalization norm = ckpt == null ? null : ckpt.normalization();
        JsonNode recorded = ckpt == null ? null : ckpt.source();
        if (csv != null || (dataDir == null && recorded != null && recorded.path("kind").asText().equals("csv"))) {
            Path file = csv != null ? csv : Path.of(recorded.path("file").asText());
            int label = labelColumn != null ? labelColumn
                    : recorded != null && recorded.has("label_column") ? recorded.get("label_column").asInt() : -1;
            double fraction = testFraction != null ? testFraction
                    : recorded != null && recorded.has("test_fraction") ? recorded.get("test_fraction").asDouble() : 0.2;
            if (norm != null && norm.mean() == null) norm = null;
            return Data.csv(file, label, fraction, seed, classes, norm, allRowsAreTest);
        }
        Path dir = dataDir != null ? dataDir
                : recorded != null && recorded.path("kind").asText().equals("idx") ? Path.of(recorded.path("dir").asText())
                : Data.DEFAULT_IDX_DIR;
        Data.Loaded d = Data.idx(dir, withTrain);
        if (classes != null && classes.size() != d.classes().size())
            throw new CliException("the checkpoint has " + classes.size() + " classes but " + dir + " has "
                    + d.classes().size());
        return d;
    }
}
