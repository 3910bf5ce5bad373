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
 * A checkpoint as the commands read it: core's {@link Checkpoint} plus the two metadata entries
 * {@code train} adds, the data source ({@code data}: where the rows came from, to read them again) and
 * the per-epoch history ({@code history}: for the charts and the report of a resumed run). A checkpoint
 * saved by the library has neither; its source is then unknown and its history empty.
 */
record SavedRun(Checkpoint checkpoint, Optional<ObjectNode> source, ArrayNode history) {

    static final String SOURCE_KEY = "data";
    static final String HISTORY_KEY = "history";

    /** Reads everything, the optimizer state included: to resume. */
    static SavedRun forResume(Path file) throws IOException {
        SavedRun run = of(Checkpoint.read(file));
        if (run.checkpoint.training().isEmpty())
            throw new CliException("--resume " + file + " holds a model without training state (saved by Model.save); "
                    + "start a new run with its network instead");
        return run;
    }

    /** Reads the model and the run's metadata; the optimizer state is checked, not kept: to evaluate. */
    static SavedRun forEvaluation(Path file) throws IOException {
        return of(Checkpoint.readWithoutOptimizerState(file));
    }

    private static SavedRun of(Checkpoint c) {
        String where = "checkpoint " + c.file() + ": ";
        if (c.network().task() != Task.CLASSIFY)
            throw new CliException(where + "its network (" + c.network().describe() + ") is a " + c.network().task().id()
                    + " network; train, eval and resume handle classifiers (softmax with cross-entropy) only");
        Map<String, String> meta = c.metadata();
        JsonNode source = meta.containsKey(SOURCE_KEY) ? json(meta.get(SOURCE_KEY), SOURCE_KEY, where) : null;
        if (source != null && !(source instanceof ObjectNode))
            throw new CliException(where + "bad metadata: '" + SOURCE_KEY + "' is not a JSON object");
        JsonNode history = meta.containsKey(HISTORY_KEY) ? json(meta.get(HISTORY_KEY), HISTORY_KEY, where)
                : TrainCommand.JSON.createArrayNode();
        if (!(history instanceof ArrayNode h))
            throw new CliException(where + "bad metadata: '" + HISTORY_KEY + "' is not a JSON array");
        return new SavedRun(c, Optional.ofNullable((ObjectNode) source), h);
    }

    private static JsonNode json(String text, String key, String where) {
        try {
            return TrainCommand.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new CliException(where + "metadata '" + key + "' is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The class names, or "0".."k−1" for a model saved without them. */
    List<String> classNames() {
        List<String> names = checkpoint.classNames();
        if (!names.isEmpty()) return names;
        return IntStream.range(0, checkpoint.network().outputs()).mapToObj(Integer::toString).toList();
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

    /** The metadata a save of this run writes: the source and the history so far. */
    static Map<String, String> metadata(ObjectNode source, ArrayNode history) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SOURCE_KEY, source.toString());
        meta.put(HISTORY_KEY, history.toString());
        return meta;
    }
}
