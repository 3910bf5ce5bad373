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
import java.util.List;

/**
 * Child process of {@link CheckpointKillTest}: saves a ~22 MB checkpoint (784-1024-1024-10, Adam) to
 * the same file over and over through the real {@link Checkpoint#save} path, epochs_done = save number,
 * printing "saved N" after each, until it is killed.
 */
public final class CheckpointSaveLoop {

    static final Network NET = Network.input(784).dense(1024, Activation.RELU).dense(1024, Activation.RELU)
            .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    private CheckpointSaveLoop() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        try (Backend b = Backends.open("cpu"); Model model = Model.initialize(b, NET, 1);
             Trainer t = new Trainer(model, Optimizer.adam(0.001f), 64)) {
            for (int i = 1; ; i++) {
                t.setEpochsDone(i);
                Checkpoint.save(file, t, 7, Data.Normalization.PIXELS,
                        TrainCommand.JSON.createObjectNode().put("kind", "idx").put("dir", "/nowhere"),
                        List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), TrainCommand.JSON.createArrayNode());
                System.out.println("saved " + i);
                System.out.flush();
            }
        }
    }
}
