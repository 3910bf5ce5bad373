package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.TrainingListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input gets an exception whose message names the problem, before any device work. The SPI,
 * data set, network and trainer cases are one parameterized test each, so the surefire count of
 * {@code badInput} invocations is the number of bad inputs tried.
 */
public abstract class BadInputConformance extends ConformanceBase {

    static void fails(Class<? extends Throwable> type, Executable call, String... fragments) {
        Throwable e = assertThrows(type, call);
        for (String f : fragments)
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
    }

    /** One bad call on a backend; {@code spi} cases must also name the backend in their message. */
    record Case(String name, boolean spi, Class<? extends Throwable> type, Call call, String... fragments) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface Call {
        void run(Backend b);
    }

    private static Case spi(String name, Class<? extends Throwable> type, Call call, String... fragments) {
        return new Case(name, true, type, call, fragments);
    }

    private static Case api(String name, Class<? extends Throwable> type, Call call, String... fragments) {
        return new Case(name, false, type, call, fragments);
    }

    static final Network SMALL = Network.input(2).dense(3, Activation.RELU)
            .output(2, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);

    Stream<Case> badInputs() {
        List<Case> c = new ArrayList<>();
        Class<ShapeException> shape = ShapeException.class;
        Class<IllegalArgumentException> arg = IllegalArgumentException.class;
        Class<IllegalStateException> state = IllegalStateException.class;
        // allocate
        c.add(spi("allocate 0 rows", shape, b -> b.allocate(0, 3), "0×3"));
        c.add(spi("allocate 0 cols", shape, b -> b.allocate(3, 0), "3×0"));
        c.add(spi("allocate negative", shape, b -> b.allocate(-1, 2), "-1×2"));
        c.add(spi("allocate past 2^31 elements", shape, b -> b.allocate(100_000, 100_000), "100000×100000", "2^31"));
        // upload / download
        c.add(spi("upload too short", shape, b -> b.upload(new float[5], b.allocate(3, 4)), "5", "3×4"));
        c.add(spi("upload too long", shape, b -> b.upload(new float[13], b.allocate(3, 4)), "13", "3×4"));
        c.add(spi("upload null array", arg, b -> b.upload(null, b.allocate(3, 4)), "null"));
        c.add(spi("upload null matrix", arg, b -> b.upload(new float[1], null), "null"));
        c.add(spi("download too short", shape, b -> b.download(b.allocate(3, 4), new float[11]), "11", "3×4"));
        c.add(spi("download null array", arg, b -> b.download(b.allocate(3, 4), null), "null"));
        c.add(spi("download closed matrix", state, b -> {
            Matrix m = b.allocate(2, 2);
            m.close();
            b.download(m, new float[4]);
        }, "already closed"));
        // gemm
        c.add(spi("gemm inner mismatch", shape, b -> b.gemm(false, false, 1, b.allocate(3, 4), b.allocate(5, 6), 0,
                b.allocate(3, 6)), "3×4", "5×6", "inner"));
        c.add(spi("gemm Aᵀ inner mismatch", shape, b -> b.gemm(true, false, 1, b.allocate(3, 4), b.allocate(4, 6), 0,
                b.allocate(4, 6)), "inner"));
        c.add(spi("gemm Bᵀ inner mismatch", shape, b -> b.gemm(false, true, 1, b.allocate(3, 4), b.allocate(4, 6), 0,
                b.allocate(3, 4)), "inner"));
        c.add(spi("gemm wrong C", shape, b -> b.gemm(false, false, 1, b.allocate(3, 4), b.allocate(4, 6), 0,
                b.allocate(6, 3)), "6×3", "3×6"));
        c.add(spi("gemm C aliases A", arg, b -> {
            Matrix a = b.allocate(3, 3);
            b.gemm(false, false, 1, a, b.allocate(3, 3), 0, a);
        }, "alias"));
        c.add(spi("gemm NaN alpha", arg, b -> b.gemm(false, false, Float.NaN, b.allocate(2, 2), b.allocate(2, 2), 0,
                b.allocate(2, 2)), "alpha", "NaN"));
        c.add(spi("gemm infinite beta", arg, b -> b.gemm(false, false, 1, b.allocate(2, 2), b.allocate(2, 2),
                Float.POSITIVE_INFINITY, b.allocate(2, 2)), "beta", "Infinity"));
        c.add(spi("gemm null B", arg, b -> b.gemm(false, false, 1, b.allocate(2, 2), null, 0, b.allocate(2, 2)),
                "B is null"));
        // activationForward / activationBackward
        c.add(spi("activationForward bias too narrow", shape, b -> {
            Matrix z = b.allocate(3, 6);
            b.activationForward(Activation.RELU, z, b.allocate(1, 5), z);
        }, "1×5", "3×6"));
        c.add(spi("activationForward bias with 2 rows", shape, b -> {
            Matrix z = b.allocate(3, 6);
            b.activationForward(Activation.RELU, z, b.allocate(2, 6), z);
        }, "2×6"));
        c.add(spi("activationForward out shape", shape, b -> b.activationForward(Activation.TANH, b.allocate(3, 6), b.allocate(1, 6),
                b.allocate(6, 3)), "6×3"));
        c.add(spi("activationForward null function", arg, b -> {
            Matrix z = b.allocate(1, 1);
            b.activationForward(null, z, b.allocate(1, 1), z);
        }, "activation is null"));
        c.add(spi("activationBackward delta shape", shape, b -> {
            Matrix z = b.allocate(3, 6);
            b.activationBackward(Activation.RELU, z, z, b.allocate(3, 4));
        }, "3×6", "3×4"));
        c.add(spi("activationBackward out shape", shape, b -> {
            Matrix z = b.allocate(3, 6);
            b.activationBackward(Activation.SIGMOID, z, b.allocate(6, 3), z);
        }, "6×3"));
        c.add(spi("activationBackward softmax", arg, b -> {
            Matrix z = b.allocate(3, 6);
            b.activationBackward(Activation.SOFTMAX, z, z, z);
        }, "softmax"));
        // columnSum
        c.add(spi("columnSum out too narrow", shape, b -> b.columnSum(b.allocate(3, 6), 1, 0, b.allocate(1, 5)),
                "1×5", "1×6"));
        c.add(spi("columnSum out with 3 rows", shape, b -> b.columnSum(b.allocate(3, 6), 1, 0, b.allocate(3, 6)),
                "1×6"));
        c.add(spi("columnSum NaN beta", arg, b -> b.columnSum(b.allocate(3, 6), 1, Float.NaN, b.allocate(1, 6)),
                "beta"));
        // lossGradient
        c.add(spi("lossGradient lossSum 2×1", shape, b -> {
            Matrix y = b.allocate(3, 6);
            b.lossGradient(Loss.MSE, y, y, b.allocate(3, 6), b.allocate(2, 1));
        }, "1×1"));
        c.add(spi("lossGradient target shape", shape, b -> b.lossGradient(Loss.MSE, b.allocate(3, 6), b.allocate(3, 5),
                b.allocate(3, 6), b.allocate(1, 1)), "3×5"));
        c.add(spi("lossGradient delta shape", shape, b -> {
            Matrix y = b.allocate(3, 6);
            b.lossGradient(Loss.CATEGORICAL_CROSS_ENTROPY, y, y, b.allocate(6, 3), b.allocate(1, 1));
        }, "6×3"));
        c.add(spi("lossGradient null loss", arg, b -> {
            Matrix y = b.allocate(3, 6);
            b.lossGradient(null, y, y, y, b.allocate(1, 1));
        }, "loss is null"));
        // optimizerUpdate
        c.add(spi("optimizerUpdate grad shape", shape, b -> b.optimizerUpdate(Optimizer.sgd(0.1f).newState(b, 3, 4, true),
                b.allocate(3, 4), b.allocate(4, 3)), "4×3"));
        c.add(spi("optimizerUpdate optimizer slot shape", shape, b -> b.optimizerUpdate(Optimizer.adam(0.1f).newState(b, 2, 2, true),
                b.allocate(3, 4), b.allocate(3, 4)), "optimizer slot 0"));
        c.add(spi("optimizerUpdate null state", arg, b -> b.optimizerUpdate(null, b.allocate(1, 1), b.allocate(1, 1)), "state is null"));
        // clipping: sumOfSquares and the clipped update
        c.add(spi("sumOfSquares out 1×2", shape, b -> b.sumOfSquares(b.allocate(3, 4), false, b.allocate(1, 2)),
                "1×2", "1×1"));
        c.add(spi("sumOfSquares out aliases m", arg, b -> {
            Matrix m = b.allocate(1, 1);
            b.sumOfSquares(m, false, m);
        }, "alias"));
        c.add(spi("clipped update norm 2×1", shape, b -> b.optimizerUpdate(Optimizer.sgd(0.1f).newState(b, 3, 4, true),
                b.allocate(3, 4), b.allocate(3, 4), b.allocate(2, 1), 1f), "sumOfSquares", "2×1"));
        c.add(spi("clipped update max norm 0", arg, b -> b.optimizerUpdate(Optimizer.sgd(0.1f).newState(b, 3, 4, true),
                b.allocate(3, 4), b.allocate(3, 4), b.allocate(1, 1), 0f), "maxNorm", "0.0"));
        c.add(spi("clipped update max norm NaN", arg, b -> b.optimizerUpdate(Optimizer.sgd(0.1f).newState(b, 3, 4, true),
                b.allocate(3, 4), b.allocate(3, 4), b.allocate(1, 1), Float.NaN), "maxNorm", "NaN"));
        c.add(spi("clipped update null norm", arg, b -> b.optimizerUpdate(Optimizer.sgd(0.1f).newState(b, 3, 4, true),
                b.allocate(3, 4), b.allocate(3, 4), null, 1f), "sumOfSquares is null"));
        // dropoutForward / dropoutBackward
        c.add(spi("dropout probability 1", arg, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3), b.allocate(2, 3),
                1f, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "drop probability", "[0, 1)", "1.0"));
        c.add(spi("dropout probability negative", arg, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3),
                b.allocate(2, 3), -0.5f, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "drop probability", "-0.5"));
        c.add(spi("dropout probability NaN", arg, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3),
                b.allocate(2, 3), Float.NaN, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "drop probability", "NaN"));
        c.add(spi("dropout negative layer", arg, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3),
                b.allocate(2, 3), 0.5f, 1, -1, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "layer", "-1"));
        c.add(spi("dropout mask shape", shape, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3),
                b.allocate(3, 2), 0.5f, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "mask", "3×2"));
        c.add(spi("dropout output shape", shape, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 4),
                b.allocate(2, 3), 0.5f, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true)), "output", "2×4"));
        c.add(spi("dropout mask aliases input", arg, b -> {
            Matrix x = b.allocate(2, 3);
            b.dropoutForward(x, b.allocate(2, 3), x, 0.5f, 1, 0, Optimizer.sgd(0.1f).newState(b, 1, 1, true));
        }, "mask must not alias"));
        c.add(spi("dropout null counter", arg, b -> b.dropoutForward(b.allocate(2, 3), b.allocate(2, 3), b.allocate(2, 3),
                0.5f, 1, 0, null), "counter is null"));
        c.add(spi("dropoutBackward mask shape", shape, b -> b.dropoutBackward(b.allocate(2, 3), b.allocate(3, 2)),
                "2×3", "3×2"));
        // a replayed body enqueues the same device work every time: no host transfers, memory or waits
        Object key = new Object();
        c.add(spi("upload inside replay", BackendException.class, b -> {
            Matrix m = b.allocate(1, 2);
            b.replay(key, () -> b.upload(new float[2], m));
        }, "upload inside a replay body"));
        c.add(spi("download inside replay", BackendException.class, b -> {
            Matrix m = b.allocate(1, 2);
            b.replay(key, () -> b.download(m, new float[2]));
        }, "download inside a replay body"));
        c.add(spi("allocate inside replay", BackendException.class, b -> b.replay(key, () -> b.allocate(1, 1)),
                "allocate inside a replay body"));
        c.add(spi("synchronize inside replay", BackendException.class, b -> b.replay(key, b::synchronize),
                "synchronize inside a replay body"));
        c.add(spi("nested replay", BackendException.class, b -> b.replay(key, () -> b.replay(new Object(), () -> {
        })), "replay inside a replay body"));
        c.add(spi("matrix close inside replay", BackendException.class, b -> {
            Matrix m = b.allocate(2, 3);
            b.replay(key, m::close);
        }, "close of a 2×3 matrix inside a replay body"));
        c.add(spi("backend close inside replay", BackendException.class, b -> b.replay(key, b::close),
                "close inside a replay body"));
        // ownership and use after close
        c.add(spi("matrix of another backend", arg, b -> {
            try (Backend other = open()) {
                b.gemm(false, false, 1, b.allocate(2, 2), other.allocate(2, 2), 0, b.allocate(2, 2));
            }
        }, "belongs to"));
        for (String op : List.of("allocate", "upload", "download", "gemm", "activationForward", "columnSum",
                "lossGradient", "optimizerUpdate", "synchronize"))
            c.add(spi(op + " after close", state, b -> {
                Backend closed = open();
                Matrix m = closed.allocate(2, 2), row = closed.allocate(1, 2), one = closed.allocate(1, 1);
                Optimizer.State s = Optimizer.sgd(0.1f).newState(closed, 2, 2, true);
                closed.close();
                switch (op) {
                    case "allocate" -> closed.allocate(1, 1);
                    case "upload" -> closed.upload(new float[4], m);
                    case "download" -> closed.download(m, new float[4]);
                    case "gemm" -> closed.gemm(false, false, 1, m, m, 0, closed.allocate(2, 2));
                    case "activationForward" -> closed.activationForward(Activation.RELU, m, row, m);
                    case "columnSum" -> closed.columnSum(m, 1, 0, row);
                    case "lossGradient" -> closed.lossGradient(Loss.MSE, m, m, m, one);
                    case "optimizerUpdate" -> closed.optimizerUpdate(s, m, m);
                    default -> closed.synchronize();
                }
            }, "after the backend was closed"));
        // data sets
        c.add(api("NaN feature", arg, b -> Dataset.of(new float[][]{{1, 2}, {Float.NaN, 0}}, new float[][]{{1}, {0}}),
                "NaN", "row 1", "column 0"));
        c.add(api("infinite feature", arg, b -> Dataset.of(new float[][]{{1, Float.NEGATIVE_INFINITY}},
                new float[][]{{1}}), "-Infinity", "row 0", "column 1"));
        c.add(api("infinite target", arg, b -> Dataset.of(new float[][]{{1, 2}}, new float[][]{{Float.POSITIVE_INFINITY}}),
                "target", "Infinity"));
        c.add(api("NaN target", arg, b -> new Dataset(new float[]{1, 2, 3, 4}, 2, new float[]{0, Float.NaN}, 1),
                "target", "NaN", "row 1"));
        c.add(api("label above range", arg, b -> Dataset.classification(new float[][]{{1}, {2}}, new int[]{0, 3}, 2),
                "label 3", "row 1"));
        c.add(api("negative label", arg, b -> Dataset.classification(new float[][]{{1}, {2}}, new int[]{-1, 0}, 2),
                "label -1", "row 0"));
        c.add(api("one class", arg, b -> Dataset.classification(new float[][]{{1}}, new int[]{0}, 1), ">= 2 classes"));
        c.add(api("empty data set", arg, b -> new Dataset(new float[0], 3, new float[0], 1), "empty"));
        c.add(api("empty row arrays", arg, b -> Dataset.of(new float[0][], new float[0][]), "empty"));
        c.add(api("ragged rows", shape, b -> Dataset.of(new float[][]{{1, 2}, {3}}, new float[][]{{1}, {0}}), "row 1"));
        c.add(api("features not whole rows", shape, b -> new Dataset(new float[5], 2, new float[3], 1), "5 floats"));
        c.add(api("targets for other rows", shape, b -> new Dataset(new float[4], 2, new float[3], 1), "3 floats"));
        c.add(api("labels count", shape, b -> Dataset.classification(new float[][]{{1}, {2}}, new int[]{0}, 2),
                "2 rows", "1 labels"));
        // network build
        c.add(api("network input 0", arg, b -> Network.input(0).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY), "input width"));
        c.add(api("layer of 0 units", arg, b -> Network.input(2).dense(0, Activation.RELU).output(2, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY), "layer 1", ">= 1 units"));
        c.add(api("cross-entropy on sigmoid", arg, b -> Network.input(2).output(2, Activation.SIGMOID,
                Loss.CATEGORICAL_CROSS_ENTROPY), "softmax"));
        c.add(api("hidden softmax", arg, b -> Network.input(2).dense(3, Activation.SOFTMAX)
                .output(1, Activation.IDENTITY, Loss.MSE), "output layer"));
        c.add(api("cross-entropy with one output", arg, b -> Network.input(2).output(1, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY), ">= 2 output units"));
        c.add(api("dropout 1", arg, b -> Network.input(2).dense(3, Activation.RELU).dropout(1).output(1,
                Activation.IDENTITY, Loss.MSE), "layer 1", "dropout", "1.0"));
        c.add(api("dropout NaN", arg, b -> Network.input(2).dense(3, Activation.RELU).dropout(Double.NaN).output(1,
                Activation.IDENTITY, Loss.MSE), "layer 1", "dropout", "NaN"));
        c.add(api("dropout on the output layer", arg, b -> new Network(2, List.of(new Network.Layer(3, Activation.RELU,
                0.5f)), Loss.MSE), "output layer"));
        c.add(api("dropout before any layer", state, b -> Network.input(2).dropout(0.5), "add one first"));
        c.add(api("NaN learning rate", arg, b -> Optimizer.sgd(Float.NaN), "learning rate"));
        c.add(api("momentum 1", arg, b -> Optimizer.momentum(0.1f, 1f), "momentum"));
        // model and trainer
        c.add(api("model with too few layers", shape, b -> Model.of(b, SMALL, new float[1][], new float[1][]),
                "2 layers"));
        c.add(api("model weights of the wrong size", shape, b -> Model.of(b, SMALL,
                new float[][]{new float[5], new float[6]}, new float[][]{new float[3], new float[2]}), "5", "2×3"));
        c.add(api("batch size 0", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                new Trainer(m, Optimizer.sgd(0.1f), 0).close();
            }
        }, "batch size"));
        c.add(api("data wider than the network", shape, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.fit(Dataset.of(new float[][]{{1, 2, 3}}, new float[][]{{1, 0}}), 1);
            }
        }, "3 features", "takes 2"));
        c.add(api("targets wider than the output", shape, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.evaluate(Dataset.classification(new float[][]{{1, 2}}, new int[]{2}, 3));
            }
        }, "3 targets", "outputs 2"));
        c.add(api("negative epochs", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.fit(Dataset.classification(new float[][]{{1, 2}}, new int[]{1}, 2), -1);
            }
        }, "epochs"));
        c.add(api("predict on a partial row", shape, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.predict(new float[5], 3);
            }
        }, "predict", "5 floats"));
        c.add(api("loss check interval 0", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.setLossCheckInterval(0);
            }
        }, "interval"));
        c.add(api("negative clipping norm", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.setGradientClipping(-1);
            }
        }, "clipping", "-1.0"));
        c.add(api("cosine minimum above the rate", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.setLearningRateSchedule(LearningRateSchedule.cosine(100, 0.5f));
            }
        }, "minimum", "0.5", "0.1"));
        c.add(api("dropout seed after the first step", state, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4, 1)) {
                t.fit(Dataset.classification(new float[][]{{1, 2}}, new int[]{1}, 2), 1);
                t.setDropoutSeed(3);
            }
        }, "setDropoutSeed", "before the first step"));
        c.add(api("unknown backend name", BackendException.class, b -> Backends.open("no-such-backend"),
                "no-such-backend"));
        // library edges: non-finite parameters, nulls named, closed models and trainers
        Class<NullPointerException> npe = NullPointerException.class;
        c.add(api("model with a NaN weight", arg, b -> Model.of(b, SMALL, new float[][]{{1, 2, Float.NaN, 4, 5, 6},
                new float[6]}, new float[][]{new float[3], new float[2]}), "layer 1 weights", "NaN", "[0, 2]"));
        c.add(api("model with an infinite bias", arg, b -> Model.of(b, SMALL, new float[][]{new float[6], new float[6]},
                new float[][]{new float[3], {0, Float.NEGATIVE_INFINITY}}), "layer 2 bias", "-Infinity"));
        c.add(api("model with null weights", npe, b -> Model.of(b, SMALL, null, new float[2][]), "weights"));
        c.add(api("model with a null layer array", npe, b -> Model.of(b, SMALL, new float[][]{new float[6], new float[6]},
                new float[][]{new float[3], null}), "layer 2 bias"));
        c.add(api("model with a null network", npe, b -> Model.initialize(b, null, 1), "network"));
        c.add(api("model on a null backend", npe, b -> Model.initialize(null, SMALL, 1), "backend"));
        c.add(api("data set with null features", npe, b -> new Dataset(null, 2, new float[1], 1), "features"));
        c.add(api("data set with a null row", npe, b -> Dataset.of(new float[][]{{1, 2}, null}, new float[][]{{1}, {0}}),
                "row 1"));
        c.add(api("classification with null labels", npe, b -> Dataset.classification(new float[4], 2, null, 2),
                "labels"));
        c.add(api("one-hot targets beyond one array", arg, b -> Dataset.classification(new float[1_000_000], 1,
                new int[1_000_000], 5_000), "one-hot targets"));
        c.add(api("trainer with a null model", npe, b -> new Trainer(null, Optimizer.sgd(0.1f), 4), "model"));
        c.add(api("trainer with a null optimizer", npe, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                new Trainer(m, null, 4);
            }
        }, "optimizer"));
        c.add(api("trainer on a closed model", state, b -> {
            Model m = Model.initialize(b, SMALL, 1);
            m.close();
            new Trainer(m, Optimizer.sgd(0.1f), 4);
        }, "new Trainer", "closed"));
        c.add(api("trainer whose model was closed", state, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                m.close();
                t.fit(Dataset.classification(new float[][]{{1, 2}}, new int[]{1}, 2), 1);
            }
        }, "fit", "model", "closed"));
        c.add(api("trainer used after close", state, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4);
                t.close();
                t.fit(Dataset.classification(new float[][]{{1, 2}}, new int[]{1}, 2), 1);
            }
        }, "fit", "trainer was closed"));
        c.add(api("weights of a closed model", state, b -> {
            Model m = Model.initialize(b, SMALL, 1);
            m.close();
            m.downloadWeights(0);
        }, "downloadWeights", "closed"));
        c.add(api("fit on null data", npe, b -> {
            try (Model m = Model.initialize(b, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.fit((Dataset) null, 1);
            }
        }, "data"));
        c.add(api("device data set for a null model", npe, b -> io.github.backprop4j.core.DeviceDataset.upload(null,
                Dataset.classification(new float[][]{{1, 2}}, new int[]{1}, 2)), "model"));
        c.add(api("resume from a null checkpoint", npe, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                Trainer.resume(m, null);
            }
        }, "checkpoint"));
        c.add(api("predict on null", npe, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.predict(null, 1);
            }
        }, "x"));
        c.add(api("predict a row of another width", shape, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.predict(new float[][]{{1, 2}, {1, 2, 3}});
            }
        }, "row 1", "3 features"));
        c.add(api("predict a NaN feature", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.predict(new float[]{1, 2, 3, Float.NaN}, 2);
            }
        }, "NaN", "row 1", "column 1", "not finite"));
        c.add(api("normalization of another width", shape, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.setNormalization(io.github.backprop4j.core.Normalization.standardize(new float[3], new float[]{1, 1, 1}));
            }
        }, "3 features", "takes 2"));
        c.add(api("class names of another count", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.setClassNames(List.of("a", "b", "c"));
            }
        }, "3 class names", "2 outputs"));
        c.add(api("features beyond the float range once normalized", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.setNormalization(io.github.backprop4j.core.Normalization.standardize(new float[2], new float[]{1e-30f, 1}));
                m.evaluate(Dataset.classification(new float[][]{{1e30f, 2}}, new int[]{1}, 2));
            }
        }, "evaluate", "row 0, column 0", "float range"));
        // regression targets, validation and early stopping
        Network regress = Network.input(2).dense(3, Activation.TANH).output(1, Activation.IDENTITY, Loss.MSE);
        Dataset line = new Dataset(new float[]{1, 2, 3, 4}, 2, new float[]{5, 6}, 1);
        c.add(api("target normalization on a classifier", arg, b -> {
            try (Model m = Model.initialize(b, SMALL, 1)) {
                m.setTargetNormalization(io.github.backprop4j.core.Normalization.standardize(new float[2], new float[]{1, 1}));
            }
        }, "regression networks", "classify"));
        c.add(api("target normalization of another width", shape, b -> {
            try (Model m = Model.initialize(b, regress, 1)) {
                m.setTargetNormalization(io.github.backprop4j.core.Normalization.standardize(new float[2], new float[]{1, 1}));
            }
        }, "target normalization", "1 outputs"));
        c.add(api("targets beyond the float range once normalized", arg, b -> {
            try (Model m = Model.initialize(b, regress, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                m.setTargetNormalization(io.github.backprop4j.core.Normalization.standardize(new float[1], new float[]{1e-30f}));
                t.fit(new Dataset(new float[]{1, 2}, 2, new float[]{1e30f}, 1), 1);
            }
        }, "fit", "target value", "row 0, column 0", "float range"));
        c.add(api("device data set uploaded before the target normalization", arg, b -> {
            try (Model m = Model.initialize(b, regress, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4);
                 io.github.backprop4j.core.DeviceDataset d = io.github.backprop4j.core.DeviceDataset.upload(m, line)) {
                m.setTargetNormalization(io.github.backprop4j.core.Normalization.standardizeTargets(line));
                t.fit(d, null, 1);
            }
        }, "targets were normalized", "upload it for this model"));
        c.add(api("early stopping without validation data", arg, b -> {
            try (Model m = Model.initialize(b, regress, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.setEarlyStopping(3);
                t.fit(line, 1);
            }
        }, "early stopping", "validation data"));
        c.add(api("negative early stopping patience", arg, b -> {
            try (Model m = Model.initialize(b, regress, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 4)) {
                t.setEarlyStopping(-1);
            }
        }, "patience", "-1"));
        c.add(api("validation fraction of 1", arg, b -> line.split(1, 0), "validation fraction", "(0, 1)"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInput(Case c) {
        Throwable e = assertThrows(c.type(), () -> c.call().run(backend), c.name());
        assertTrue(e.getMessage() != null, c.name() + ": exception without a message");
        for (String f : c.fragments())
            assertTrue(e.getMessage().contains(f), c.name() + ": message '" + e.getMessage() + "' should mention '" + f + "'");
        if (c.spi())
            assertTrue(e.getMessage().startsWith(backend.name() + ": "), c.name() + ": message '" + e.getMessage()
                    + "' should start with the backend's name");
        // the backend stays usable after rejecting the call
        Matrix m = backend.allocate(1, 2);
        backend.upload(new float[]{3, 4}, m);
        float[] back = new float[2];
        backend.download(m, back);
        assertEquals(4f, back[1]);
        m.close();
    }

    /** The data set validated its values once; changing the caller's arrays afterwards must not reach training. */
    @Test
    void dataSetKeepsItsOwnCopyOfTheCallersArrays() {
        float[] x = {1, 2, 3, 4};
        int[] labels = {0, 1};
        Dataset d = Dataset.classification(x, 2, labels, 2);
        x[1] = Float.NaN;
        labels[0] = 7;
        float[] gx = new float[4], gy = new float[4];
        d.gather(new int[]{0, 1}, 0, 2, gx, gy);
        assertEquals(2f, gx[1]);
        assertEquals(1f, gy[0]);
        try (Model m = Model.initialize(backend, SMALL, 1); Trainer t = new Trainer(m, Optimizer.sgd(0.1f), 2)) {
            assertTrue(Double.isFinite(t.fit(d, 1).getFirst().loss()));
        }
    }

    /**
     * Buffers are sized by the rows a batch really has: a batch size of 2^31−1 on 5 rows trains and
     * evaluates on 5-row buffers (no int overflow, no 2^31-row allocation).
     */
    @Test
    void batchLargerThanTheDataUsesBuffersSizedByItsRows() {
        Dataset d = Dataset.classification(new float[][]{{1, 2}, {2, 1}, {0, 1}, {1, 0}, {3, 3}}, new int[]{0, 1, 0, 1, 0}, 2);
        long before = backend.memoryInUse();
        try (Model m = Model.initialize(backend, SMALL, 1);
             Trainer t = new Trainer(m, Optimizer.sgd(0.1f), Integer.MAX_VALUE)) {
            assertEquals(2, t.fit(d, 2).size(), "two epochs ran");
            Model.Evaluation e = m.evaluate(d, new float[10]);
            assertEquals(5, e.samples());
            assertTrue(backend.memoryInUse() - before < 64 * 1024, "buffers for 5 rows, not 2^31");
        }
    }

    /**
     * The running loss is read before the last update of an epoch; an update that turns the parameters
     * infinite must still stop the epoch (the trainer checks them at its end).
     */
    @Test
    void parametersMadeInfiniteByTheLastUpdateAreDivergence() {
        Dataset d = Dataset.classification(new float[][]{{1000, -1000}, {-1000, 1000}}, new int[]{0, 1}, 2);
        try (Model m = Model.initialize(backend, SMALL, 1);
             Trainer t = new Trainer(m, Optimizer.sgd(Float.MAX_VALUE), 2)) {
            io.github.backprop4j.core.TrainingDivergedException e = assertThrows(
                    io.github.backprop4j.core.TrainingDivergedException.class, () -> t.fit(d, 1));
            assertTrue(e.getMessage().contains("loss stayed finite") && e.layer() > 0, e.getMessage());
            assertEquals(0, t.epochsDone(), "the diverged epoch is not counted");
        }
    }

    @Test
    void useAfterCloseAndForeignMatricesAreRejected() {
        Backend other = open();
        Matrix foreign = other.allocate(2, 2);
        Matrix mine = backend.allocate(2, 2);
        fails(IllegalArgumentException.class, () -> backend.gemm(false, false, 1, mine, foreign, 0, backend.allocate(2, 2)),
                "belongs to");
        other.close();
        fails(IllegalStateException.class, () -> other.allocate(1, 1), "closed");
        fails(IllegalStateException.class, () -> other.download(foreign, new float[4]), "closed");
        mine.close();
        fails(IllegalStateException.class, () -> backend.download(mine, new float[4]), "closed");
        other.close();   // idempotent
    }

    // ---- threading contract: one thread at a time, hand-off allowed, overlapping calls rejected ----

    @Test
    void overlappingCallsFromTwoThreadsAreRejectedAndNeverCorruptResults() throws Exception {
        int n = 96;
        AtomicInteger rejected = new AtomicInteger(), completed = new AtomicInteger();
        AtomicReference<Throwable> wrong = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            float value = t + 1;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    Matrix a = null, bm = null, c = null;
                    float[] out = new float[n * n];
                    long deadline = System.nanoTime() + 10_000_000_000L;
                    while (!stop.get() && System.nanoTime() < deadline) {
                        try {
                            if (a == null) a = backend.allocate(n, n);
                            if (bm == null) bm = backend.allocate(n, n);
                            if (c == null) c = backend.allocate(n, n);
                            float[] fill = new float[n * n];
                            java.util.Arrays.fill(fill, value);
                            backend.upload(fill, a);
                            backend.upload(fill, bm);
                            backend.gemm(false, false, 1, a, bm, 0, c);
                            backend.download(c, out);
                            // every entry of (v·1)(v·1) is n·v²: anything else is a corrupted result
                            for (float v : out)
                                if (v != n * value * value) throw new AssertionError("thread " + value + " read " + v
                                        + " instead of " + n * value * value);
                            if (completed.incrementAndGet() > 50 && rejected.get() > 0) stop.set(true);
                        } catch (BackendException e) {
                            if (!e.getMessage().contains("thread")) throw e;
                            rejected.incrementAndGet();
                        }
                    }
                } catch (Throwable e) {
                    wrong.compareAndSet(null, e);
                    stop.set(true);
                }
            }, "hammer-" + t);
            threads.add(th);
            th.start();
        }
        start.countDown();
        for (Thread th : threads) th.join();
        if (wrong.get() != null) throw new AssertionError("concurrent use went wrong", wrong.get());
        assertTrue(rejected.get() > 0, "two threads hammering one backend for up to 10 s never overlapped ("
                + completed.get() + " rounds)");
        assertTrue(completed.get() > 0, "no round completed");
        System.out.printf("%s: concurrent use: %d overlapping calls rejected, %d rounds completed correctly%n",
                backendName(), rejected.get(), completed.get());
    }

    @Test
    void handOffBetweenThreadsWorks() throws Exception {
        Matrix m = backend.allocate(2, 2);
        for (int i = 0; i < 4; i++) {
            float v = i;
            Thread t = new Thread(() -> backend.upload(new float[]{v, v, v, v}, m), "hand-off-" + i);
            t.start();
            t.join();   // join: the hand-off's happens-before
            float[] back = new float[4];
            backend.download(m, back);
            assertEquals(v, back[3]);
        }
        m.close();
    }

    /**
     * Freeing a matrix (which discards any recording that uses it) is confined like every other call: from
     * another thread while the owner is inside a replay body, it is refused naming both threads.
     */
    @Test
    void freeingDuringAnotherThreadsReplayIsRefused() throws Exception {
        CountDownLatch inside = new CountDownLatch(1), release = new CountDownLatch(1);
        Object key = new Object();
        Matrix m = backend.allocate(2, 2);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread owner = new Thread(() -> {
            try {
                backend.replay(key, () -> {
                    inside.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            } catch (Throwable t) {
                failed.set(t);
            }
        }, "replaying-thread");
        owner.start();
        inside.await();
        try {
            fails(BackendException.class, m::close, "close of a 2×2 matrix called from thread", "'replaying-thread'");
        } finally {
            release.countDown();
            owner.join();
        }
        if (failed.get() != null) throw new AssertionError("the replay failed", failed.get());
        assertTrue(!m.isReleased());
        m.close();   // from this side, between calls: fine
        assertTrue(m.isReleased());
    }

    @Test
    void rejectedCallNamesBothThreadsAndTheOp() throws Exception {
        // A worker keeps the backend busy with GEMMs while this thread calls synchronize() until the
        // calls overlap; whichever side is rejected, the message must name the op and both threads. The
        // GEMMs are small: on a backend that queues them, the synchronize() that finally overlaps runs
        // every GEMM queued since the last one (with 256 × 256 the CUDA stand-in once took 19 s).
        AtomicReference<String> message = new AtomicReference<>();
        Matrix big = backend.allocate(32, 32), product = backend.allocate(32, 32);
        Thread worker = new Thread(() -> {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (message.get() == null && System.nanoTime() < deadline)
                try {
                    backend.gemm(false, false, 1, big, big, 0, product);
                } catch (BackendException e) {
                    message.compareAndSet(null, e.getMessage());
                }
        }, "worker-thread");
        worker.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (message.get() == null && System.nanoTime() < deadline)
            try {
                backend.synchronize();
            } catch (BackendException e) {
                message.compareAndSet(null, e.getMessage());
            }
        worker.join();
        String m = message.get();
        assertTrue(m != null, "no overlap in 10 s");
        assertTrue(m.startsWith(backend.name() + ": "), m);
        assertTrue(m.contains("'worker-thread'") && m.contains("'" + Thread.currentThread().getName() + "'"), m);
        assertTrue(m.contains("synchronize called") || m.contains("gemm called"), m);
        big.close();
        product.close();
    }

    /**
     * Closing a model, a trainer, one of its matrices or the backend from another thread while the owner
     * trains: the close is a BackendException naming both threads while an epoch runs; when it lands
     * between epochs, the trainer's next call fails cleanly (closed). Never a native crash, never an NPE.
     */
    @ParameterizedTest(name = "close the {0} from another thread while training")
    @ValueSource(strings = {"model", "trainer", "matrix", "backend"})
    void closeFromAnotherThreadDuringTraining(String what) throws Exception {
        Backend b = what.equals("backend") ? open() : backend;
        Network net = Network.input(8).dense(16, Activation.RELU).output(3, Activation.SOFTMAX,
                Loss.CATEGORICAL_CROSS_ENTROPY);
        Dataset data = Check.classification(new SplittableRandom(2), 256, 8, 3);
        Model model = Model.initialize(b, net, 1);
        Trainer trainer = new Trainer(model, Optimizer.adam(0.01f), 32);
        AutoCloseable target = switch (what) {
            case "model" -> model;
            case "trainer" -> trainer;
            case "matrix" -> model.weights(0);
            default -> b;
        };
        CountDownLatch inStep = new CountDownLatch(1), attempted = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> trainerFailure = new AtomicReference<>();
        Thread training = new Thread(() -> {
            try {
                TrainingListener holdFirstStep = new TrainingListener() {
                    @Override
                    public void onStep(Trainer t, Trainer.Step step) {
                        if (inStep.getCount() > 0) {   // first step: hold still inside the epoch for one attempt
                            inStep.countDown();
                            try {
                                attempted.await(10, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    }
                };
                while (!stop.get()) {
                    trainer.fit(data, 1, holdFirstStep);
                    Thread.sleep(1);   // a window between epochs where a close may land
                }
            } catch (Throwable e) {
                trainerFailure.set(e);
            }
        }, "trainer-thread");
        training.start();
        int rejected = 0;
        boolean closed = false;
        try {
            assertTrue(inStep.await(10, TimeUnit.SECONDS), "training did not start");
            try {
                closed = tryClose(target);
            } finally {
                attempted.countDown();
            }
            assertTrue(!closed, "closing the " + what + " while the owner is inside an epoch must be refused");
            rejected++;
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!closed && training.isAlive() && System.nanoTime() < deadline)
                if (!(closed = tryClose(target))) rejected++;
            if (closed) training.join(10_000);   // the next epoch must fail on what was closed
        } finally {
            stop.set(true);
            training.join(30_000);
        }
        assertTrue(!training.isAlive(), "the training thread did not stop");
        Throwable t = trainerFailure.get();
        boolean clean = t instanceof IllegalStateException && t.getMessage().contains("closed")
                || t instanceof BackendException && t.getMessage().contains("'trainer-thread'"); // overlapped the close
        if (closed ? !clean : t != null)
            throw new AssertionError((closed ? "after the " + what + " was closed from another thread, training "
                    + "must fail cleanly (closed, or refused while the close ran); it ended with " : "nothing "
                    + "was closed, yet training failed with ") + t, t);
        System.out.printf("%s: closing the %s from another thread: %d attempts refused, %s; training then %s%n",
                backendName(), what, rejected, closed ? "one got through between epochs" : "none got through",
                t == null ? "stopped normally" : "failed with: " + t.getMessage());
        if (what.equals("backend")) b.close();
        else {
            trainer.close();
            model.close();
        }
    }

    /** True when the close went through; false when it was refused with a message naming both threads. */
    private static boolean tryClose(AutoCloseable target) throws Exception {
        try {
            target.close();
            return true;
        } catch (BackendException e) {
            String m = e.getMessage();
            assertTrue(m.contains("'trainer-thread'") && m.contains("'" + Thread.currentThread().getName() + "'"), m);
            return false;
        }
    }
}
