package io.github.backprop4j.cli;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Child process of {@link CheckpointKillTest}: saves a ~22 MB checkpoint (784-1024-1024-10, Adam) to
 * the same file over and over through the path {@code train} saves with ({@link Trainer#save}), with
 * {@code train}'s metadata and the save's number under {@link #SAVE_KEY}, printing "saved N" after each,
 * until it is killed. It trains no step: what is under test is the save, not the training.
 */
public final class CheckpointSaveLoop {

    static final Network NET = Network.input(784).dense(1024, Activation.RELU).dense(1024, Activation.RELU)
            .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    /** The metadata entry holding the save's number, 1-based. */
    static final String SAVE_KEY = "kill_test.save";

    private CheckpointSaveLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, NET, 1);
             Trainer t = new Trainer(model, Optimizer.adam(0.001f), 64, 7)) {
            for (int i = 1; ; i++) {
                Map<String, String> metadata = new LinkedHashMap<>(SavedRun.metadata(
                        TrainCommand.JSON.createObjectNode().put("kind", "idx").put("dir", "/nowhere"),
                        TrainCommand.JSON.createArrayNode()));
                metadata.put(SAVE_KEY, Integer.toString(i));
                t.save(file, metadata);
                System.out.println("saved " + i);
                System.out.flush();
            }
        }
    }
}
