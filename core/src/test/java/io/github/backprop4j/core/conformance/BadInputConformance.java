package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input gets an exception whose message names the problem, before any device work. */
public abstract class BadInputConformance extends ConformanceBase {

    static void fails(Class<? extends Throwable> type, Executable call, String... fragments) {
        Throwable e = assertThrows(type, call);
        for (String f : fragments)
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
    }

    @Test
    void mismatchedShapesAtEverySpiCall() {
        Matrix a = backend.allocate(3, 4), b = backend.allocate(5, 6), c = backend.allocate(3, 6);
        fails(ShapeException.class, () -> backend.gemm(false, false, 1, a, b, 0, c), "3×4", "5×6", "inner");
        Matrix b2 = backend.allocate(4, 6), wrongC = backend.allocate(6, 3);
        fails(ShapeException.class, () -> backend.gemm(false, false, 1, a, b2, 0, wrongC), "6×3", "3×6");
        fails(ShapeException.class, () -> backend.activate(Activation.RELU, c, backend.allocate(1, 5), c), "1×5", "3×6");
        fails(ShapeException.class, () -> backend.activationBackward(Activation.RELU, c, c, a), "3×6", "3×4");
        fails(ShapeException.class, () -> backend.columnSum(c, 1, 0, backend.allocate(1, 5)), "1×5", "1×6");
        fails(ShapeException.class, () -> backend.lossGradient(Loss.MSE, c, c, c, backend.allocate(2, 1)), "1×1");
        fails(ShapeException.class, () -> backend.upload(new float[5], a), "5", "3×4");
        fails(ShapeException.class, () -> backend.download(a, new float[11]), "11", "3×4");
        fails(ShapeException.class, () -> backend.allocate(0, 3), "0×3");
        fails(IllegalArgumentException.class, () -> backend.activationBackward(Activation.SOFTMAX, c, c, c), "softmax");
    }

    @Test
    void badDataIsRejectedWithRowAndColumn() {
        fails(IllegalArgumentException.class, () -> Dataset.of(new float[][]{{1, 2}, {Float.NaN, 0}},
                new float[][]{{1}, {0}}), "NaN", "row 1", "column 0");
        fails(IllegalArgumentException.class, () -> Dataset.of(new float[][]{{1, 2}}, new float[][]{{Float.POSITIVE_INFINITY}}),
                "target", "Infinity");
        fails(IllegalArgumentException.class, () -> Dataset.classification(new float[][]{{1}, {2}}, new int[]{0, 3}, 2),
                "label 3", "row 1");
        fails(IllegalArgumentException.class, () -> new Dataset(new float[0], 3, new float[0], 1), "empty");
        fails(ShapeException.class, () -> Dataset.of(new float[][]{{1, 2}, {3}}, new float[][]{{1}, {0}}), "row 1");
    }

    @Test
    void trainerAndNetworkRejectBadConfiguration() {
        Network net = Network.input(2).dense(3, Activation.RELU).output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        try (Model model = Model.initialize(backend, net, 1)) {
            fails(IllegalArgumentException.class, () -> new Trainer(model, Optimizer.sgd(0.1f), 0), "batch size");
            try (Trainer t = new Trainer(model, Optimizer.sgd(0.1f), 4)) {
                fails(ShapeException.class, () -> t.fit(Dataset.of(new float[][]{{1, 2, 3}}, new float[][]{{1, 0}}), 1, 1),
                        "3 features", "takes 2");
            }
        }
        fails(IllegalArgumentException.class, () -> Network.input(2).output(2, Activation.SIGMOID,
                Loss.CATEGORICAL_CROSS_ENTROPY), "softmax");
        fails(IllegalArgumentException.class, () -> Network.input(2).dense(3, Activation.SOFTMAX)
                .output(1, Activation.IDENTITY, Loss.MSE), "output layer");
        fails(IllegalArgumentException.class, () -> Optimizer.sgd(Float.NaN), "learning rate");
    }

    @Test
    void unknownBackendNameIsAnError() {
        fails(BackendException.class, () -> Backends.open("no-such-backend"), "no-such-backend");
    }

    @Test
    void useAfterCloseAndForeignMatricesAreRejected() {
        Backend other = BackendFixture.open(backendName());
        Matrix foreign = other.allocate(2, 2);
        Matrix mine = backend.allocate(2, 2);
        fails(IllegalArgumentException.class, () -> backend.gemm(false, false, 1, mine, foreign, 0, backend.allocate(2, 2)),
                "belongs to");
        other.close();
        fails(IllegalStateException.class, () -> other.allocate(1, 1), "closed");
        fails(IllegalStateException.class, () -> other.download(foreign, new float[4]), "closed");
        mine.close();
        fails(IllegalStateException.class, () -> backend.download(mine, new float[4]), "closed");
    }
}
