package io.github.backprop4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.Task;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A checkpoint as the commands read it: core's {@link Checkpoint} plus the metadata entries {@code train}
 * adds: the data source ({@code data}: where the rows came from, to read them again), the CSV's column
 * layout ({@code columns}: how many columns, which are targets, their header names, so that predict
 * reads a CSV with or without the target columns) and the per-epoch history ({@code history}: for the
 * charts and the report of a resumed run). A checkpoint saved by the library has none of them; its
 * source and layout are then unknown and its history empty.
 */
record SavedRun(Checkpoint checkpoint, Optional<ObjectNode> source, Optional<ObjectNode> columns, ArrayNode history) {

    static final String SOURCE_KEY = "data";
    static final String COLUMNS_KEY = "columns";
    static final String HISTORY_KEY = "history";

    /** Reads everything, the optimizer state included: to resume. */
    static SavedRun forResume(Path file) throws IOException {
        SavedRun run = of(Checkpoint.read(file));
        if (run.checkpoint.training().isEmpty())
            throw new CliException("--resume " + file + " holds a model without training state (saved by Model.save); "
                    + "start a new run with its network instead");
        return run;
    }

    /** Reads the model and the run's metadata; the optimizer state is checked, not kept: to evaluate or predict. */
    static SavedRun forEvaluation(Path file) throws IOException {
        return of(Checkpoint.readWithoutOptimizerState(file));
    }

    private static SavedRun of(Checkpoint c) {
        String where = "checkpoint " + c.file() + ": ";
        return new SavedRun(c, object(c.metadata(), SOURCE_KEY, where), object(c.metadata(), COLUMNS_KEY, where),
                c.metadata().containsKey(HISTORY_KEY) ? array(c.metadata(), HISTORY_KEY, where)
                        : TrainCommand.JSON.createArrayNode());
    }

    private static Optional<ObjectNode> object(Map<String, String> meta, String key, String where) {
        if (!meta.containsKey(key)) return Optional.empty();
        if (!(json(meta.get(key), key, where) instanceof ObjectNode o))
            throw new CliException(where + "bad metadata: '" + key + "' is not a JSON object");
        return Optional.of(o);
    }

    private static ArrayNode array(Map<String, String> meta, String key, String where) {
        if (!(json(meta.get(key), key, where) instanceof ArrayNode a))
            throw new CliException(where + "bad metadata: '" + key + "' is not a JSON array");
        return a;
    }

    private static JsonNode json(String text, String key, String where) {
        try {
            return TrainCommand.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CliException(where + "metadata '" + key + "' is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The class names: recorded, or for a model saved without them "0".."k−1" (a classifier), "0", "1"
     * (a binary network; one recorded name, the positive class's, gets "not NAME" before it); none for
     * regression.
     */
    List<String> classNames() {
        List<String> names = checkpoint.classNames();
        Task task = checkpoint.network().task();
        if (task == Task.BINARY && names.size() == 1) return List.of("not " + names.getFirst(), names.getFirst());
        if (!names.isEmpty() || task == Task.REGRESS) return names;
        int k = task == Task.BINARY ? 2 : checkpoint.network().outputs();
        return IntStream.range(0, k).mapToObj(Integer::toString).toList();
    }

    /** The training part, which {@link #forResume} requires. */
    Checkpoint.Training training() {
        return checkpoint.training().orElseThrow();
    }

    /** Epochs the checkpoint's run completed, 0 for a model saved without training state. */
    int epochsDone() {
        return checkpoint.training().map(Checkpoint.Training::epochsDone).orElse(0);
    }

    /** The run's seed (its CSV split), or {@code fallback} for a model saved without training state. */
    long seed(long fallback) {
        return checkpoint.training().map(Checkpoint.Training::seed).orElse(fallback);
    }

    /** What the recorded source says about key, or null ({@code kind}, {@code file}, {@code dir}, ...). */
    JsonNode recorded(String key) {
        return source.map(s -> s.get(key)).orElse(null);
    }

    /** The metadata of a run without a column layout (IDX data): the source and the history so far. */
    static Map<String, String> metadata(ObjectNode source, ArrayNode history) {
        return metadata(source, null, history);
    }

    /** The metadata a save of this run writes: the source, the CSV's column layout (null for IDX) and the history so far. */
    static Map<String, String> metadata(ObjectNode source, ObjectNode columns, ArrayNode history) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SOURCE_KEY, source.toString());
        if (columns != null) meta.put(COLUMNS_KEY, columns.toString());
        meta.put(HISTORY_KEY, history.toString());
        return meta;
    }
}
