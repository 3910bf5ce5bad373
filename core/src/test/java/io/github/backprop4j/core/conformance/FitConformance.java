package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.CheckpointFiles;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.DeviceDataset;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fitting as a user runs it: the three tasks and their metrics, validation with early stopping, and
 * exact resume: k epochs, a checkpoint, {@link Trainer#resume} and n − k more epochs give, bit for bit,
 * the parameters, optimizer state, early-stopping state and checkpoint file of n epochs straight — with a
 * learning-rate schedule, dropout, gradient clipping and early stopping, from host and device data.
 */
public abstract class FitConformance extends ConformanceBase {

    @TempDir
    Path dir;

    // ---- data ----

    /** Three classes, each pushed along one of four features. */
    static Dataset blobs(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] x = new float[n][];
        int[] label = new int[n];
        for (int i = 0; i < n; i++) {
            label[i] = i % 3;
            x[i] = Check.random(rng, 4, -1, 1);
            x[i][label[i]] += 2;
        }
        return Dataset.classification(x, label, 3);
    }

    /** Two smooth targets far from 0 and 1 in scale: 1000 + 300·(sin x0 + x1·x2/2) and −5 + x2/10. */
    static Dataset regression(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = Check.random(rng, 3 * n, -2, 2), y = new float[2 * n];
        for (int i = 0; i < n; i++) {
            y[2 * i] = (float) (1000 + 300 * (Math.sin(x[3 * i]) + 0.5 * x[3 * i + 1] * x[3 * i + 2]));
            y[2 * i + 1] = -5 + x[3 * i + 2] / 10;
        }
        return new Dataset(x, 3, y, 2);
    }

    /** y = slope·x0 (x1 is noise): training on slope 3 and validating on slope 1.5 makes a best epoch mid-run. */
    static Dataset line(int n, long seed, float slope) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = Check.random(rng, 2 * n, -1, 1), y = new float[n];
        for (int i = 0; i < n; i++) y[i] = slope * x[2 * i];
        return new Dataset(x, 2, y, 1);
    }

    /** x0 + x1 &gt; 0, with every seventh label flipped (so the AUC is high but below 1). */
    static Dataset binary(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = Check.random(rng, 2 * n, -2, 2), y = new float[n];
        for (int i = 0; i < n; i++) y[i] = (x[2 * i] + x[2 * i + 1] > 0) != (i % 7 == 0) ? 1 : 0;
        return new Dataset(x, 2, y, 1);
    }

    static final Network DROPOUT = Network.input(4).dense(16, Activation.RELU).dropout(0.3)
            .dense(16, Activation.GELU).dropout(0.1).output(3, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
    static final Network REGRESS = Network.input(3).dense(16, Activation.TANH).dropout(0.1)
            .output(2, Activation.IDENTITY, Loss.MSE);
    static final Network LINE = Network.input(2).dense(8, Activation.TANH).output(1, Activation.IDENTITY, Loss.MSE);

    // ---- the tasks and their metrics ----

    @Test
    void regressionFitsInTheTargetsUnitsAndReportsMseMaeAndR2() {
        Dataset train = regression(400, 1), test = regression(200, 2);
        try (Model model = Model.initialize(backend, REGRESS, 3); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 32, 4)) {
            model.setNormalization(Normalization.standardize(train));
            model.setTargetNormalization(Normalization.standardizeTargets(train));
            t.fit(train, 60);
            float[] out = new float[test.rows() * 2];
            Model.Evaluation e = model.evaluate(test, out);
            // by hand, from the outputs evaluate gave (which are predict's)
            float[] x = features(test);
            assertArrayEquals(model.predict(x, test.rows()), out, "evaluate's outputs are predict's");
            double[] sse = new double[2], mean = new double[2], sst = new double[2];
            double sae = 0;
            for (int i = 0; i < test.rows(); i++)
                for (int j = 0; j < 2; j++) mean[j] += test.target(i, j) / (double) test.rows();
            for (int i = 0; i < test.rows(); i++)
                for (int j = 0; j < 2; j++) {
                    double d = (double) out[2 * i + j] - test.target(i, j), c = test.target(i, j) - mean[j];
                    sse[j] += d * d;
                    sae += Math.abs(d);
                    sst[j] += c * c;
                }
            int values = 2 * test.rows();
            assertEquals((sse[0] + sse[1]) / values, e.mse(), 1e-9 * e.mse(), "MSE in the targets' units");
            assertEquals(sae / values, e.mae(), 1e-9 * e.mae(), "MAE");
            assertEquals((1 - sse[0] / sst[0] + 1 - sse[1] / sst[1]) / 2, e.r2(), 1e-9, "R², averaged over the outputs");
            assertTrue(e.r2() > 0.9, "the fit explains the targets: R² " + e.r2() + ", MAE " + e.mae());
            assertTrue(e.mae() < 100, "the errors are in the targets' units (hundreds), MAE " + e.mae());
            assertTrue(Double.isNaN(e.accuracy()) && Double.isNaN(e.auc()), "no classes in regression");
            // the loss is training's: on the normalized targets, where the same errors are hundreds of times smaller
            assertTrue(e.loss() < 0.5 && e.loss() > 0, "loss " + e.loss());
        }
    }

    @Test
    void binaryNetworksReportAccuracyAndAucClassifiersAccuracy() {
        Dataset train = binary(400, 5), test = binary(300, 6);
        Network net = Network.input(2).dense(8, Activation.TANH).output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
        try (Model model = Model.initialize(backend, net, 3); Trainer t = new Trainer(model, Optimizer.adam(0.02f), 32, 4)) {
            t.fit(train, 30);
            float[] p = model.predict(features(test), test.rows());
            Model.Evaluation e = model.evaluate(test);
            int correct = 0;
            double won = 0, pairs = 0;
            for (int i = 0; i < test.rows(); i++) {
                boolean positive = test.target(i, 0) == 1;
                if ((p[i] >= 0.5f) == positive) correct++;
                if (positive)
                    for (int j = 0; j < test.rows(); j++)
                        if (test.target(j, 0) == 0) {
                            pairs++;
                            won += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
                        }
            }
            assertEquals((double) correct / test.rows(), e.accuracy(), "accuracy by hand");
            assertEquals(won / pairs, e.auc(), 1e-12, "AUC by counting pairs");
            assertTrue(e.auc() > 0.8 && e.auc() < 1, "AUC " + e.auc() + " (one label in seven is flipped)");
            assertTrue(Double.isNaN(e.mse()) && Double.isNaN(e.mae()) && Double.isNaN(e.r2()), "no regression metrics");
        }
        try (Model model = Model.initialize(backend, DROPOUT, 3); Trainer t = new Trainer(model, Optimizer.adam(0.01f), 32, 4)) {
            Dataset blobs = blobs(150, 7);
            t.fit(blobs, 10);
            Model.Evaluation e = model.evaluate(blobs);
            assertTrue(e.accuracy() > 0.9, "classifier accuracy " + e.accuracy());
            assertTrue(Double.isNaN(e.auc()) && Double.isNaN(e.r2()), "a classifier has accuracy only");
        }
    }

    private static float[] features(Dataset d) {
        float[] x = new float[d.rows() * d.featureCount()];
        d.gather(java.util.stream.IntStream.range(0, d.rows()).toArray(), 0, d.rows(), x, new float[d.rows() * d.targetCount()]);
        return x;
    }

    // ---- early stopping ----

    /** Training on slope 3 passes validation's slope 1.5 on its way: the validation loss falls, then rises. */
    private Trainer lineTrainer(Model model) {
        Trainer t = new Trainer(model, Optimizer.sgd(0.05f), 16, 2);
        model.setTargetNormalization(Normalization.standardizeTargets(line(64, 11, 3)));
        t.setEarlyStopping(2);
        return t;
    }

    @Test
    void earlyStoppingStopsAfterThePatienceAndKeepsTheBestEpoch() {
        Dataset train = line(64, 11, 3), validation = line(64, 12, 1.5f);
        List<float[][]> afterEpoch = new ArrayList<>();
        List<Trainer.EarlyStopping> kept = new ArrayList<>();
        try (Model model = Model.initialize(backend, LINE, 5); Trainer t = lineTrainer(model)) {
            List<Trainer.EpochResult> history = t.fit(train, validation, 100, new TrainingListener() {
                @Override
                public void onEpochEnd(Trainer trainer, Trainer.EpochResult r) {
                    afterEpoch.add(new float[][]{model.downloadWeights(0), model.downloadBias(0), model.downloadWeights(1),
                            model.downloadBias(1)});
                }

                @Override
                public void onBestEpochKept(Trainer trainer, Trainer.EarlyStopping state) {
                    kept.add(state);
                }
            });
            Trainer.EarlyStopping s = t.earlyStopping().orElseThrow();
            assertTrue(s.stopped() && s.bestEpoch() > 1, "a best epoch after the first, then stopped: " + s);
            assertEquals(s.bestEpoch() + 2, history.size(), "two epochs of patience after the best");
            assertEquals(List.of(s), kept, "said once, at the end");
            double best = Double.POSITIVE_INFINITY;
            for (Trainer.EpochResult r : history) best = Math.min(best, r.validation().loss());
            assertEquals(best, s.bestLoss());
            assertEquals(best, history.get(s.bestEpoch() - 1).validation().loss());
            float[][] expected = afterEpoch.get(s.bestEpoch() - 1);
            float[][] now = {model.downloadWeights(0), model.downloadBias(0), model.downloadWeights(1), model.downloadBias(1)};
            for (int i = 0; i < 4; i++) assertArrayEquals(expected[i], now[i], "the model holds the best epoch's parameters");
            assertEquals(s.bestLoss(), model.evaluate(validation).loss(), "and evaluates to its validation loss");
            System.out.println(backendName() + ": early stopping kept epoch " + s.bestEpoch() + " of " + history.size()
                    + " (validation loss " + s.bestLoss() + ")");

            assertTrue(t.fit(train, validation, 10).isEmpty(), "a run whose patience ran out trains no further");
            IllegalArgumentException noValidation = assertThrows(IllegalArgumentException.class, () -> t.fit(train, 1));
            assertTrue(noValidation.getMessage().contains("validation"), noValidation.getMessage());
            t.setEarlyStopping(0);   // off: the model goes back to the last epoch's parameters, where training stands
            float[][] last = afterEpoch.getLast();
            assertArrayEquals(last[0], model.downloadWeights(0), "the last epoch's parameters are back");
            assertArrayEquals(last[3], model.downloadBias(1));
            assertEquals(1, t.fit(train, 1).size(), "and training goes on without validation data");
        }
    }

    // ---- resume ----

    /**
     * One run's recipe: the model, the trainer's settings, the data and where the run is cut.
     *
     * @param resident train from a {@link DeviceDataset}
     */
    record Recipe(String name, Network net, Consumer<Model> modelSettings, Optimizer optimizer, int batch,
                  Consumer<Trainer> settings, Dataset train, Dataset validation, boolean resident, int epochs, int cut) {
    }

    private Recipe dropoutScheduleClipping() {
        return new Recipe("dropout, AdamW, cosine schedule with warm-up, clipping", DROPOUT, m -> { },
                Optimizer.adamW(0.02f, 0.05f), 16, t -> {
                    t.setDropoutSeed(-123456789L);
                    t.setGradientClipping(0.5f);
                    t.setLearningRateSchedule(LearningRateSchedule.cosine(40, 1e-4f).withWarmup(5));
                }, blobs(90, 1), null, false, 5, 2);
    }

    private Recipe regressionOnTheDevice() {
        Dataset train = regression(100, 3);
        return new Recipe("regression with target normalization from device data, momentum, step schedule, dropout, "
                + "clipping, early stopping with patience to spare", REGRESS, m -> {
                    m.setNormalization(Normalization.standardize(train));
                    m.setTargetNormalization(Normalization.standardizeTargets(train));
                }, Optimizer.momentum(0.02f, 0.9f), 32, t -> {
                    t.setDropoutSeed(4);
                    t.setGradientClipping(2f);
                    t.setLearningRateSchedule(LearningRateSchedule.step(7, 0.5f).withWarmup(3));
                    t.setEarlyStopping(50);
                }, train, regression(40, 4), true, 5, 3);
    }

    private Recipe earlyStopping(int cut) {
        return new Recipe("early stopping, cut at epoch " + cut, LINE,
                m -> m.setTargetNormalization(Normalization.standardizeTargets(line(64, 11, 3))), Optimizer.sgd(0.05f), 16,
                t -> t.setEarlyStopping(2), line(64, 11, 3), line(64, 12, 1.5f), false, 60, cut);
    }

    private List<Trainer.EpochResult> fit(Recipe r, Trainer t, int epochs) {
        if (!r.resident()) return t.fit(r.train(), r.validation(), epochs);
        try (DeviceDataset d = DeviceDataset.upload(t.model(), r.train())) {
            return t.fit(d, r.validation(), epochs);
        }
    }

    private Trainer trainer(Recipe r, Model m) {
        r.modelSettings().accept(m);
        Trainer t = new Trainer(m, r.optimizer(), r.batch(), 77);
        r.settings().accept(t);
        return t;
    }

    /** A finished run: its checkpoint, its epochs, the model's parameters at the end. */
    record Run(CheckpointFiles.Contents file, List<Trainer.EpochResult> history, float[][] parameters) {
    }

    private Run finish(Recipe r, Model m, Trainer t, List<Trainer.EpochResult> history, String name) throws IOException {
        Path file = dir.resolve(name + ".safetensors");
        t.save(file);
        float[][] p = new float[2 * r.net().depth()][];
        for (int l = 0; l < r.net().depth(); l++) {
            p[2 * l] = m.downloadWeights(l);
            p[2 * l + 1] = m.downloadBias(l);
        }
        return new Run(CheckpointFiles.read(file), history, p);
    }

    private Run straight(Recipe r) throws IOException {
        try (Model m = Model.initialize(backend, r.net(), 9); Trainer t = trainer(r, m)) {
            return finish(r, m, t, fit(r, t, r.epochs()), "straight");
        }
    }

    /** The cut in one process: fit(cut), then fit(epochs − cut) on the same trainer. */
    private Run twoFits(Recipe r) throws IOException {
        try (Model m = Model.initialize(backend, r.net(), 9); Trainer t = trainer(r, m)) {
            List<Trainer.EpochResult> history = new ArrayList<>(fit(r, t, r.cut()));
            history.addAll(fit(r, t, r.epochs() - r.cut()));
            return finish(r, m, t, history, "two-fits");
        }
    }

    /** The cut through a checkpoint: fit(cut), save, a new model and trainer from the file, fit(epochs − cut). */
    private Run resumed(Recipe r) throws IOException {
        Path cut = dir.resolve("cut.safetensors");
        List<Trainer.EpochResult> history;
        try (Model m = Model.initialize(backend, r.net(), 9); Trainer t = trainer(r, m)) {
            history = new ArrayList<>(fit(r, t, r.cut()));
            t.save(cut);
        }
        Checkpoint saved = Checkpoint.read(cut);
        try (Model m = saved.model(backend); Trainer t = Trainer.resume(m, saved)) {
            history.addAll(fit(r, t, r.epochs() - r.cut()));
            return finish(r, m, t, history, "resumed");
        }
    }

    private static void assertSameRun(String what, Run expected, Run got) {
        assertEquals(expected.file().metadata(), got.file().metadata(), what + ": checkpoint metadata");
        assertEquals(expected.file().tensors().keySet(), got.file().tensors().keySet(), what + ": checkpoint tensors");
        for (Map.Entry<String, float[]> e : expected.file().tensors().entrySet())
            assertArrayEquals(e.getValue(), got.file().tensors().get(e.getKey()), what + ": tensor " + e.getKey());
        assertTrue(CheckpointFiles.same(expected.file(), got.file()), what + ": the checkpoint files");
        for (int i = 0; i < expected.parameters().length; i++)
            assertArrayEquals(expected.parameters()[i], got.parameters()[i], what + ": the model's parameter " + i);
        assertEquals(expected.history().size(), got.history().size(), what + ": epochs run");
        for (int i = 0; i < expected.history().size(); i++) {
            Trainer.EpochResult a = expected.history().get(i), b = got.history().get(i);
            assertEquals(a.epoch(), b.epoch(), what + ": epoch numbers");
            assertEquals(a.loss(), b.loss(), what + ": epoch " + a.epoch() + "'s training loss");
            if (a.validation() != null)
                assertEquals(a.validation().loss(), b.validation().loss(), what + ": epoch " + a.epoch() + "'s validation loss");
        }
    }

    private void assertResumeIsExact(Recipe r) throws IOException {
        Run straight = straight(r);
        assertSameRun(r.name() + ", resumed from a checkpoint", straight, resumed(r));
        assertSameRun(r.name() + ", two fits on one trainer", straight, twoFits(r));
    }

    @Test
    void resumeWithDropoutScheduleAndClippingIsTheUninterruptedRun() throws IOException {
        assertResumeIsExact(dropoutScheduleClipping());
    }

    @Test
    void resumeOfARegressionFromDeviceDataIsTheUninterruptedRun() throws IOException {
        assertResumeIsExact(regressionOnTheDevice());
    }

    /** Cut before the best epoch, between it and the stop, and after the stop (the resumed fit then runs nothing). */
    @Test
    void resumeAroundEarlyStoppingIsTheUninterruptedRun() throws IOException {
        Run straight = straight(earlyStopping(1));
        int stoppedAt = straight.history().size();
        Checkpoint saved = Checkpoint.read(dir.resolve("straight.safetensors"));
        Trainer.EarlyStopping state = saved.training().orElseThrow().earlyStopping();
        assertTrue(state.stopped() && state.bestEpoch() > 2 && stoppedAt == state.bestEpoch() + 2 && stoppedAt < 60,
                "the run stops after a best epoch past the second: " + state + " after " + stoppedAt + " epochs");
        assertTrue(straight.file().tensors().containsKey("layer0.weight.last"), "the last epoch's parameters are saved");
        for (int cut : new int[]{2, state.bestEpoch() + 1, stoppedAt, stoppedAt + 3}) {
            assertSameRun("early stopping, cut at epoch " + cut + " (best " + state.bestEpoch() + ", stopped at "
                    + stoppedAt + "), resumed", straight, resumed(earlyStopping(cut)));
            assertSameRun("early stopping, cut at epoch " + cut + ", two fits", straight, twoFits(earlyStopping(cut)));
        }
    }
}
