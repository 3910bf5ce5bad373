package io.github.backprop4j.cli;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;

import java.nio.file.Path;

/**
 * Child process of {@link CheckpointKillTest}: saves a ~22 MB checkpoint (784-1024-1024-10, Adam) to
 * the same file over and over through the path {@code train} saves with ({@link Trainer#save}),
 * after one epoch of one row each time (epochs_done = save number), printing "saved N" after each,
 * until it is killed.
 */
public final class CheckpointSaveLoop {

    static final Network NET = Network.input(784).dense(1024, Activation.RELU).dense(1024, Activation.RELU)
            .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    private CheckpointSaveLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        Dataset oneRow = Dataset.classification(new float[784], 784, new int[]{3}, 10);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, NET, 1);
             Trainer t = new Trainer(model, Optimizer.adam(0.001f), 64, 7)) {
            for (int i = 1; ; i++) {
                t.fit(oneRow, 1);
                t.save(file, SavedRun.metadata(TrainCommand.JSON.createObjectNode().put("kind", "idx").put("dir", "/nowhere"),
                        TrainCommand.JSON.createArrayNode()));
                System.out.println("saved " + i);
                System.out.flush();
            }
        }
    }
}
