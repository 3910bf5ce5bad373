package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.AtomicFiles;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Checkpoint;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.DeviceDataset;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Task;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.TrainingDivergedException;
import io.github.backprop4j.core.TrainingListener;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code backprop4j train}: trains a classifier, a binary classifier or a regression, printing per-epoch
 * metrics and per-layer diagnostics.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron: a classifier (softmax + cross-entropy), a binary classifier "
                + "(sigmoid + binary cross-entropy) or a regression (identity + mean squared error).",
                "Data: Fashion-MNIST IDX files (default " + "/usr/share/datasets/fashion-mnist) or a CSV file.",
                "Writes a safetensors checkpoint after every epoch; --resume continues a run exactly."})
final class TrainCommand implements Callable<Integer> {

    static final String DEFAULT_CHECKPOINT = "backprop4j-checkpoint.safetensors";

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte (raw or .gz). Default: /usr/share/datasets/fashion-mnist")
    Path data;
    @Option(names = "--csv", paramLabel = "FILE", description = "CSV file instead of IDX: numeric feature columns and target columns.")
    Path csv;
    @Option(names = "--label-column", paramLabel = "N", description = "0-based label (target) column of the CSV; -1 = last (default).")
    Integer labelColumn;
    @Option(names = "--target-columns", paramLabel = "COLS", split = ",",
            description = "0-based target columns of the CSV, comma-separated (-1 = last); several make a regression.")
    List<Integer> targetColumns;
    @Option(names = "--task", description = "classify, binary or regress (default: inferred from the targets, and stated).")
    String task;
    @Option(names = "--test-fraction", paramLabel = "F", description = "CSV rows held out for testing, drawn with the "
            + "seed, each class in its share (default 0.2).")
    Double testFraction;
    @Option(names = "--validation-fraction", paramLabel = "F",
            description = "Training rows held out for validation, drawn with the seed, each class in its share (default: "
                    + "none); each epoch is validated on them, the test rows are evaluated once at the end.")
    Double validationFraction;
    @Option(names = "--early-stopping", paramLabel = "PATIENCE",
            description = "Stop once the validation loss has not improved for PATIENCE epochs; the checkpoint holds the "
                    + "best epoch's weights (needs --validation-fraction).")
    Integer earlyStopping;

    @Option(names = "--layers", paramLabel = "UNITS", description = "Hidden layer widths, comma-separated, or none (default: ${DEFAULT-VALUE}).",
            defaultValue = "256,128")
    String layers;
    @Option(names = "--activation", description = "Hidden activation: relu, leaky_relu, gelu (exact, erf), gelu-tanh "
            + "(tanh approximation), tanh, sigmoid (default: ${DEFAULT-VALUE}).", defaultValue = "relu")
    String activation;
    @Option(names = "--dropout", paramLabel = "P[,P...]",
            description = "Dropout probability of the hidden layers' outputs in training: one for every hidden layer, or "
                    + "one per hidden layer (default: none).")
    String dropout;

    @Option(names = "--backend", description = "cpu, opencl or cuda (default: the best available, or BACKPROP4J_BACKEND).")
    String backend;
    @Option(names = "--precision", description = "fp32 or tf32 (default: ${DEFAULT-VALUE}).", defaultValue = "fp32")
    String precision;

    @Option(names = "--epochs", description = "Epochs to run in this invocation, >= 1 (default: ${DEFAULT-VALUE}).", defaultValue = "15")
    int epochs;
    @Option(names = "--batch", description = "Mini-batch size (default: ${DEFAULT-VALUE}).", defaultValue = "128")
    int batch;
    @Option(names = "--optimizer", description = "sgd, momentum, nesterov, adam, adamw (default: ${DEFAULT-VALUE}).",
            defaultValue = "adam")
    String optimizer;
    @Option(names = "--lr", description = "Learning rate (default: 0.001 for adam/adamw, 0.05 otherwise).")
    Float lr;
    @Option(names = "--momentum", description = "Momentum for momentum/nesterov (default: ${DEFAULT-VALUE}).", defaultValue = "0.9")
    float momentum;
    @Option(names = "--weight-decay", description = "Decoupled weight decay for adamw (default: ${DEFAULT-VALUE}).", defaultValue = "0.01")
    float weightDecay;
    @Option(names = "--lr-schedule", paramLabel = "SCHEDULE",
            description = "Learning rate per step: constant, step:N[:GAMMA] (times GAMMA, default 0.1, every N steps) or "
                    + "cosine[:T[:MIN]] (half a cosine to MIN, default 0, over T steps, default the whole run; warm-up "
                    + "included) (default: constant).")
    String lrSchedule;
    @Option(names = "--warmup", paramLabel = "STEPS",
            description = "Linear learning-rate warm-up over the first STEPS steps (default: none).")
    Integer warmup;
    @Option(names = "--clip-norm", paramLabel = "C",
            description = "Clip each step's gradients to global L2 norm C (default: no clipping).")
    Float clipNorm;
    @Option(names = "--seed", description = "Seed for initialization, shuffling, dropout masks and the splits (default: ${DEFAULT-VALUE}).",
            defaultValue = "42")
    long seed;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint written after every epoch (default: the --resume file, else ./" + DEFAULT_CHECKPOINT + ").")
    Path checkpoint;
    @Option(names = "--resume", paramLabel = "FILE",
            description = "Continue from a checkpoint: network, task, optimizer state, schedule, dropout, clipping, early "
                    + "stopping, batch, seed and data source come from it "
                    + "(--lr overrides the learning rate; --csv/--data choose other data, normalized as recorded).")
    Path resume;
    @Option(names = "--charts", paramLabel = "DIR", description = "Write loss.png and accuracy.png (r2.png for regression) here.")
    Path charts;
    @Option(names = "--report", paramLabel = "FILE", description = "Write a JSON report here.")
    Path report;
    @Option(names = "--diagnostic-rows", paramLabel = "N", defaultValue = "1024",
            description = "Training rows forwarded after each epoch to count active ReLU units (default: ${DEFAULT-VALUE}).")
    int diagnosticRows;
    @Option(names = "--resident", description = "Keep the training set on the device: each epoch uploads only the "
            + "shuffled order and batches are gathered there (GPU backends; needs the data set to fit in device memory).")
    boolean resident;

    @Option(names = "--loss-check-interval", paramLabel = "STEPS", defaultValue = "50",
            description = "Read the running loss back every STEPS steps and stop if it is NaN or infinite; 1 pins a "
                    + "divergence to its exact step (default: ${DEFAULT-VALUE}).")
    int lossCheckInterval;

    @Option(names = "--no-progress", description = "No progress bar (it is shown only on a terminal anyway).")
    boolean noProgress;
    @Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        checkValues();
        SavedRun saved = resume == null ? null : SavedRun.forResume(resume);
        String optimizerName = saved != null ? saved.training().optimizer().name() : optimizerName(optimizer);
        OptionRules.check(spec.commandLine().getParseResult(), OptionRules.TRAIN, OptionRules.Run.train(
                saved == null ? OptionRules.Start.NEW : OptionRules.Start.RESUMED, Common.source(data, csv, saved),
                optimizerName));
        if (earlyStopping != null && validationFraction == null)   // a resumed run was refused --early-stopping above
            throw new CliException("--early-stopping watches the validation loss: give --validation-fraction too");
        if (saved != null && (long) saved.epochsDone() + epochs > Integer.MAX_VALUE)
            throw new CliException("--epochs " + epochs + " after the checkpoint's " + saved.epochsDone()
                    + " would count past 2^31-1 epochs");
        Trainer.EarlyStopping s = saved == null ? null : saved.training().earlyStopping();
        if (s != null && s.stopped())
            throw new CliException("--resume " + resume + ": that run stopped early after epoch " + saved.epochsDone()
                    + " (its validation loss had not improved for " + s.patience() + " epochs since epoch " + s.bestEpoch()
                    + "); its checkpoint holds epoch " + s.bestEpoch() + "'s weights and there is nothing to continue");
        Settings settings = saved != null
                ? new Settings(saved.training().seed(), saved.training().batchSize(),
                lr != null ? saved.training().optimizer().withLearningRate(lr) : saved.training().optimizer())
                : new Settings(seed, batch, optimizer(optimizerName));
        Path ckptFile = checkpoint != null ? checkpoint : resume != null ? resume : Path.of(DEFAULT_CHECKPOINT);
        // every file this run writes is checked before any work
        Outputs.checkFile(ckptFile, "--checkpoint");
        if (report != null) {
            Map<String, Path> others = new LinkedHashMap<>();
            others.put("checkpoint", ckptFile);
            others.put("--resume checkpoint", resume);
            others.put("--csv data", csv);
            Outputs.checkOutput(report, "--report", others);
        }
        if (csv != null) Outputs.checkDistinct(ckptFile, "--checkpoint", Map.of("--csv data", csv));
        if (charts != null) Outputs.checkDirectory(charts, "--charts " + charts);
        return train(out, saved, settings, ckptFile);
    }

    /** What a run trains with: a new run's options, or a resumed run's recorded ones (with --lr's override). */
    private record Settings(long seed, int batch, Optimizer optimizer) {
    }

    /** Option values that are wrong whatever the run: checked before anything is read or opened. */
    private void checkValues() {
        if (epochs < 1) throw new CliException("--epochs must be >= 1, got " + epochs);
        if (batch < 1) throw new CliException("--batch must be >= 1, got " + batch);
        if (lossCheckInterval < 1)
            throw new CliException("--loss-check-interval must be >= 1, got " + lossCheckInterval);
        if (diagnosticRows < 0) throw new CliException("--diagnostic-rows must be >= 0, got " + diagnosticRows);
        Common.checkCsvOptions(labelColumn, targetColumns, testFraction);
        if (validationFraction != null && !(validationFraction > 0 && validationFraction < 1))
            throw new CliException("--validation-fraction must be in (0, 1), got " + validationFraction);
        if (earlyStopping != null && earlyStopping < 1)
            throw new CliException("--early-stopping must be >= 1 epoch, got " + earlyStopping);
        if (lr != null && !(lr > 0 && Float.isFinite(lr)))
            throw new CliException("--lr must be finite and > 0, got " + lr);
        if (warmup != null && warmup < 0) throw new CliException("--warmup must be >= 0 steps, got " + warmup);
        if (clipNorm != null && !(clipNorm > 0 && Float.isFinite(clipNorm)))
            throw new CliException("--clip-norm must be finite and > 0, got " + clipNorm);
        taskOption();
        Activation.parse(activation);
        dropouts(hiddenWidths().size());
        ScheduleOption.parse(lrSchedule, 1);
    }

    /** --task as a {@link Task}, or null when not given. */
    private Task taskOption() {
        if (task == null) return null;
        for (Task t : Task.values()) if (t.id().equals(task.strip().toLowerCase(Locale.ROOT))) return t;
        throw new CliException("unknown task '" + task + "': expected classify, binary or regress");
    }

    private Integer train(PrintWriter out, SavedRun saved, Settings settings, Path ckptFile) throws IOException {
        List<Integer> columns = labelColumn != null ? List.of(labelColumn) : targetColumns;
        Data.Loaded d = Common.loadData(new Common.DataRequest(data, csv, columns, taskOption(), testFraction,
                validationFraction, Data.Use.TRAINING, settings.seed(), saved));
        if (d.train() == null) throw new CliException("no training rows in " + d.description());
        long stepsPerEpoch = stepsPerEpoch(d, settings);
        if (saved != null)
            ScheduleOption.checkCovers(saved.training().schedule(), saved.training().optimizerStep(), stepsPerEpoch, epochs,
                    "--resume " + resume);
        else
            ScheduleOption.checkCovers(newSchedule(stepsPerEpoch), 0, stepsPerEpoch, epochs, "--lr-schedule " + lrSchedule);
        Network net = saved != null ? saved.checkpoint().network() : network(d);
        Common.checkFits(net, d);
        Outputs.checkSpace(ckptFile, 4L * (settings.optimizer().slots() + 2) * net.parameterCount() + (1 << 20),
                "the checkpoint");
        HostMemory.require(4 * largestTensor(net), "saving the checkpoint (its largest tensor)");
        // the checkpoint is this run's until it exits: a second run on it fails here, before training
        try (Checkpoint.Lock lock = Checkpoint.lock(ckptFile)) {
            return train(out, saved, settings, ckptFile, d, net);
        }
    }

    /** Floats in the checkpoint's largest tensor: the host buffer a save needs. */
    private static long largestTensor(Network net) {
        long max = 0;
        for (int l = 0; l < net.depth(); l++) max = Math.max(max, (long) net.fanIn(l) * net.fanOut(l));
        return max;
    }

    private Integer train(PrintWriter out, SavedRun saved, Settings settings, Path ckptFile, Data.Loaded d, Network net)
            throws IOException {
        Progress progress = new Progress(saved != null && ckptFile.equals(resume) ? saved.epochsDone() : -1, ckptFile);
        Thread interrupted = new Thread(progress::interrupted, "backprop4j-interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try (Backend b = Common.openBackend(backend, precision);
             Model model = saved != null ? saved.checkpoint().model(b) : newModel(b, net, settings.seed(), d);
             Trainer trainer = saved != null ? Trainer.resume(model, saved.checkpoint(), settings.optimizer())
                     : newTrainer(model, settings, d);
             DeviceDataset onDevice = resident ? DeviceDataset.upload(model, d.train()) : null) {
            trainer.setLossCheckInterval(lossCheckInterval);
            Optimizer opt = trainer.optimizer();
            Task t = net.task();
            out.printf("backend   %s (%s, %s)%n", b.name(), b.device(), b.precision().name().toLowerCase(Locale.ROOT));
            out.printf("data      %s%s%n", d.description(), resident ? ", resident on the device" : "");
            out.printf("task      %s%s%n", t.id(), switch (t) {
                case CLASSIFY -> ", softmax with cross-entropy";
                case BINARY -> ", sigmoid with binary cross-entropy";
                case REGRESS -> ", identity with mean squared error on the standardized targets";
            } + (saved != null ? " (recorded)" : d.inferredBecause() != null ? " (inferred: " + d.inferredBecause()
                    + "; --task sets it)" : ""));
            out.printf("network   %s, %,d parameters%n", net.describe(), net.parameterCount());
            out.printf("optimizer %s, batch %d%s, seed %d%s%n", describe(opt), trainer.batchSize(),
                    trainer.batchSize() >= d.train().rows() ? " (every step takes all " + d.train().rows()
                            + " training rows)" : "", trainer.seed(), saved == null ? ""
                            : ", resumed from " + resume + " after epoch " + saved.epochsDone()
                            + (lr != null && lr != saved.training().optimizer().learningRate() ? " with --lr " + lr
                            + " instead of the recorded " + saved.training().optimizer().learningRate() : ""));
            String options = trainingOptions(trainer);
            if (!options.isEmpty()) out.printf("training  %s%n", options);
            out.flush();
            ArrayNode history = saved != null ? saved.history().deepCopy() : JSON.createArrayNode();
            Dataset watched = d.validation() != null ? d.validation() : d.test();
            Epochs epochsListener = new Epochs(out, d, history, ckptFile, progress, trainer.epochsDone() + epochs);
            List<Trainer.EpochResult> results;
            try {
                results = onDevice != null ? trainer.fit(onDevice, watched, epochs, epochsListener)
                        : trainer.fit(d.train(), watched, epochs, epochsListener);
            } catch (TrainingDivergedException diverged) {
                // the checkpoint is saved only after a finite epoch, so it still holds the last good state
                throw new CliException(diverged.getMessage() + "; " + progress.kept(), Main.DIVERGED, diverged);
            } catch (UncheckedIOException e) {
                throw e.getCause();   // a save in the listener failed: one line naming the file
            } finally {
                epochsListener.closeBar();
            }
            String stopping = earlyStoppingOutcome(trainer, results);
            if (!stopping.isEmpty()) out.println(stopping);
            // with a validation split the test rows are evaluated once, by the weights the checkpoint holds
            Model.Evaluation last = d.validation() != null ? model.evaluate(d.test()) : results.getLast().validation();
            checkFinite(last, "the test data", progress);
            out.printf(Locale.ROOT, "%s after %d epochs; checkpoint %s%n", Scores.describe("test", t, last),
                    trainer.epochsDone(), ckptFile);
            if (charts != null) {
                Charts.write(charts, history, t);
                out.println("charts    " + charts.resolve("loss.png") + ", " + charts.resolve(Charts.metricFile(t)));
            }
            if (report != null) {
                double trainSeconds = results.stream().mapToDouble(Trainer.EpochResult::seconds).sum();
                long samples = results.stream().mapToLong(Trainer.EpochResult::samples).sum();
                ObjectNode rep = JSON.createObjectNode();
                rep.put("backend", b.name()).put("device", b.device())
                        .put("precision", b.precision().name().toLowerCase(Locale.ROOT))
                        .put("task", t.id()).put("network", net.describe()).put("optimizer", describe(opt))
                        .put("training", options)
                        .put("data", d.description()).put("seed", trainer.seed())
                        .put("epochs", trainer.epochsDone()).put("epochs_this_run", epochs)
                        .put("batch", trainer.batchSize())
                        .put("train_seconds", trainSeconds)
                        .put("samples_per_second", trainSeconds > 0 ? samples / trainSeconds : 0)
                        .put("checkpoint", ckptFile.toAbsolutePath().toString());
                Scores.put(rep, "test", t, last);
                trainer.earlyStopping().ifPresent(s -> rep.putObject("early_stopping").put("patience", s.patience())
                        .put("best_epoch", s.bestEpoch()).put("best_validation_loss", s.bestLoss())
                        .put("stopped", s.stopped()));
                rep.set("history", history);
                AtomicFiles.write(report, JSON.writeValueAsBytes(rep));
                out.println("report    " + report);
            }
            out.flush();
            progress.finished = true;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running (or has run) and reports the interruption itself
            }
        }
        return 0;
    }

    /** Steps per epoch: the training rows in batches, the last one partial. */
    private static long stepsPerEpoch(Data.Loaded d, Settings settings) {
        return (d.train().rows() + (long) settings.batch() - 1) / settings.batch();
    }

    /** A new run's schedule: --lr-schedule over the run's steps (cosine's default T), with --warmup. */
    private LearningRateSchedule newSchedule(long stepsPerEpoch) {
        LearningRateSchedule schedule = ScheduleOption.parse(lrSchedule, stepsPerEpoch * epochs);
        return warmup != null ? ScheduleOption.withWarmup(schedule, warmup) : schedule;
    }

    /** A new trainer with this run's schedule, dropout seed, clipping and early stopping. */
    private Trainer newTrainer(Model model, Settings settings, Data.Loaded d) {
        Trainer trainer = new Trainer(model, settings.optimizer(), settings.batch(), settings.seed());
        try {
            LearningRateSchedule schedule = newSchedule(stepsPerEpoch(d, settings));
            ScheduleOption.checkBase(schedule, settings.optimizer().learningRate());
            trainer.setLearningRateSchedule(schedule);
            trainer.setDropoutSeed(settings.seed());
            if (clipNorm != null) trainer.setGradientClipping(clipNorm);
            if (earlyStopping != null) trainer.setEarlyStopping(earlyStopping);
            return trainer;
        } catch (RuntimeException e) {
            trainer.close();
            throw e;
        }
    }

    /** The training settings beyond the optimizer, for the header line and the report ("" when none is set). */
    private static String trainingOptions(Trainer trainer) {
        List<String> parts = new ArrayList<>();
        LearningRateSchedule schedule = trainer.learningRateSchedule();
        if (!schedule.equals(LearningRateSchedule.constant()))
            parts.add("learning rate " + ScheduleOption.describe(schedule));
        List<String> dropouts = new ArrayList<>();
        Network net = trainer.model().network();
        for (int l = 0; l < net.depth() - 1; l++) dropouts.add(Float.toString(net.layers().get(l).dropout()));
        if (net.hasDropout()) parts.add("dropout " + String.join(",", dropouts) + " (masks seeded " + trainer.dropoutSeed() + ")");
        if (trainer.gradientClipping() > 0) parts.add("gradients clipped to global norm " + trainer.gradientClipping());
        trainer.earlyStopping().ifPresent(s -> parts.add("early stopping after " + s.patience()
                + " epochs without a lower validation loss"));
        return String.join(", ", parts);
    }

    /**
     * What early stopping did, for the closing lines ("" without early stopping): fit ends with the model
     * holding the best epoch's weights, which the checkpoint holds too.
     */
    private String earlyStoppingOutcome(Trainer trainer, List<Trainer.EpochResult> results) {
        Trainer.EarlyStopping s = trainer.earlyStopping().orElse(null);
        if (s == null) return "";
        String best = String.format(Locale.ROOT, "epoch %d's weights (validation loss %.6f)", s.bestEpoch(), s.bestLoss());
        return s.stopped()
                ? "early stop: the validation loss has not improved for " + s.patience() + " epochs; stopped after epoch "
                + trainer.epochsDone() + " of " + (trainer.epochsDone() - results.size() + epochs)
                + ", the checkpoint holds the best, " + best
                : "early stopping: the epochs ran out first; the checkpoint holds the best, " + best;
    }

    /** A non-finite evaluation is divergence: exit 4, the checkpoint left as the last good epoch saved it. */
    private static void checkFinite(Model.Evaluation e, String data, Progress progress) {
        if (!Double.isFinite(e.loss()))
            throw new CliException("training diverged: the loss on " + data + " is " + e.loss() + " (the network's "
                    + "outputs overflow on it); lower the learning rate; " + progress.kept(), Main.DIVERGED, null);
    }

    /** A new model for the data: initialized from the seed, with the data's normalization and class names. */
    private static Model newModel(Backend b, Network net, long seed, Data.Loaded d) {
        Model model = Model.initialize(b, net, seed);
        try {
            model.setNormalization(d.normalization());
            model.setClassNames(d.classes());
            model.setTargetNormalization(d.targetNormalization());
            return model;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * What the run does as training goes, all through the trainer's listener: a progress bar per epoch
     * (on a terminal), then per epoch the metrics line, the per-layer diagnostics, the history entry
     * and the checkpoint.
     */
    private final class Epochs implements TrainingListener {
        private final PrintWriter out;
        private final Data.Loaded d;
        private final ArrayNode history;
        private final Path checkpoint;
        private final Progress progress;
        private final int lastEpoch;
        private ProgressBar bar;

        Epochs(PrintWriter out, Data.Loaded d, ArrayNode history, Path checkpoint, Progress progress, int lastEpoch) {
            this.out = out;
            this.d = d;
            this.history = history;
            this.checkpoint = checkpoint;
            this.progress = progress;
            this.lastEpoch = lastEpoch;
        }

        @Override
        public void onEpochStart(Trainer trainer, int epoch) {
            progress.epoch = epoch;
            bar = progressBar(epoch, lastEpoch, d.train().rows());
        }

        @Override
        public void onStep(Trainer trainer, Trainer.Step step) {
            if (bar != null) bar.stepBy(step.rows());
        }

        @Override
        public void onEpochEnd(Trainer trainer, Trainer.EpochResult r) {
            closeBar();
            Model.Evaluation held = r.validation();
            String set = d.validation() != null ? "validation" : "test";
            Task task = trainer.model().task();
            if (!Double.isFinite(held.loss()))
                throw new CliException("training diverged in epoch " + r.epoch() + ": its training loss was "
                        + r.loss() + " but the " + set + " loss is " + held.loss() + " (the network's outputs overflow "
                        + "on the " + set + " data); lower the learning rate; " + progress.kept(), Main.DIVERGED, null);
            ObjectNode h = JSON.createObjectNode().put("epoch", r.epoch()).put("train_loss", r.loss());
            Scores.put(h, set, task, held);
            h.put("samples_per_second", r.samplesPerSecond()).put("seconds", r.seconds());
            out.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f  %s  %,.0f samples/s  %.1f s%n",
                    r.epoch(), lastEpoch, r.loss(), Scores.epochColumns(set, task, held), r.samplesPerSecond(), r.seconds());
            Diagnostics.report(trainer, d.train(), diagnosticRows, out, h.putArray("layers"));
            history.add(h);
            try {
                trainer.save(checkpoint, SavedRun.metadata(d.source(), d.columns(), history));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            progress.saved = trainer.epochsDone();
            out.flush();
        }

        void closeBar() {
            if (bar != null) bar.close();
            bar = null;
        }
    }

    /**
     * Where the run stands, for the divergence message and for a TERM/INT: the shutdown hook only
     * reports (the checkpoint is written atomically, so an interrupted save leaves the previous one).
     */
    private static final class Progress {
        final Path checkpoint;
        volatile int saved;
        volatile int epoch;
        volatile boolean finished;

        Progress(int saved, Path checkpoint) {
            this.saved = saved;
            this.checkpoint = checkpoint;
        }

        String kept() {
            return saved >= 0 ? "the last good checkpoint, after epoch " + saved + ", is kept in " + checkpoint
                    : "no checkpoint was written by this run";
        }

        void interrupted() {
            if (finished) return;
            System.err.println("backprop4j: interrupted" + (epoch > 0 ? " in epoch " + epoch : "") + "; " + kept());
            System.err.flush();
        }
    }

    private ProgressBar progressBar(int epoch, int of, int rows) {
        if (noProgress || System.console() == null || !System.console().isTerminal()) return null;
        return new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + of).setInitialMax(rows)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).setUnit(" samples", 1)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).clearDisplayOnFinish().build();
    }

    /** A new run's network for the data: hidden layers as --layers, --activation and --dropout say, the task's output. */
    private Network network(Data.Loaded d) {
        Activation act = Activation.parse(activation);
        List<Integer> widths = hiddenWidths();
        float[] drop = dropouts(widths.size());
        Network.Builder nb = Network.input(d.featureCount());
        for (int l = 0; l < widths.size(); l++) {
            nb.dense(widths.get(l), act);
            if (drop[l] > 0) nb.dropout(drop[l]);
        }
        Network net = switch (d.task()) {
            case CLASSIFY -> nb.output(d.classes().size(), Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
            case BINARY -> nb.output(1, Activation.SIGMOID, Loss.BINARY_CROSS_ENTROPY);
            case REGRESS -> nb.output(d.test().targetCount(), Activation.IDENTITY, Loss.MSE);
        };
        for (int l = 0; l < net.depth(); l++)
            if ((long) net.fanIn(l) * net.fanOut(l) > Dataset.MAX_ARRAY_LENGTH)
                throw new CliException("--layers: layer " + (l + 1) + " would be a " + net.fanIn(l) + "×" + net.fanOut(l)
                        + " weight matrix, " + (long) net.fanIn(l) * net.fanOut(l) + " values, more than one matrix "
                        + "holds (2^31-1)");
        return net;
    }

    /**
     * --dropout per hidden layer: absent is none; one value applies to every hidden layer, a list gives one
     * per hidden layer; each in [0, 1).
     */
    private float[] dropouts(int hidden) {
        float[] out = new float[hidden];
        if (dropout == null) return out;
        String[] parts = dropout.split(",", -1);
        if (hidden == 0) throw new CliException("--dropout applies to hidden layers, and --layers " + layers + " has none");
        if (parts.length != 1 && parts.length != hidden)
            throw new CliException("--dropout: " + parts.length + " values for " + hidden + " hidden layers (give one for "
                    + "all, or one per hidden layer)");
        for (int l = 0; l < hidden; l++) {
            String text = parts[parts.length == 1 ? 0 : l].strip();
            float p;
            try {
                p = Float.parseFloat(text);
            } catch (NumberFormatException e) {
                throw new CliException("--dropout: '" + text + "' is not a number (expected a probability like 0.2)");
            }
            if (!(p >= 0 && p < 1)) throw new CliException("--dropout: probability " + text + " must be in [0, 1)");
            out[l] = p;
        }
        return out;
    }

    /** --layers as widths ("" or "none": no hidden layer); each must be a positive integer. */
    private List<Integer> hiddenWidths() {
        List<Integer> widths = new ArrayList<>();
        String text = layers.strip();
        if (text.isEmpty() || text.equalsIgnoreCase("none")) return widths;
        for (String s : text.split(",", -1)) {
            int units;
            try {
                units = Integer.parseInt(s.strip());
            } catch (NumberFormatException e) {
                throw new CliException("--layers: '" + s.strip() + "' is not a whole number (expected widths like 256,128, "
                        + "or none)");
            }
            if (units < 1) throw new CliException("--layers: width " + units + " must be >= 1");
            widths.add(units);
        }
        return widths;
    }

    private static final List<String> OPTIMIZERS = List.of("sgd", "momentum", "nesterov", "adam", "adamw");

    /** --optimizer as one of {@link #OPTIMIZERS}. */
    private static String optimizerName(String text) {
        String name = text.trim().toLowerCase(Locale.ROOT);
        if (!OPTIMIZERS.contains(name))
            throw new CliException("unknown optimizer '" + text + "': expected sgd, momentum, nesterov, adam or adamw");
        return name;
    }

    private Optimizer optimizer(String name) {
        float rate = lr != null ? lr : name.startsWith("adam") ? 1e-3f : 0.05f;
        return switch (name) {
            case "sgd" -> Optimizer.sgd(rate);
            case "momentum" -> Optimizer.momentum(rate, momentum);
            case "nesterov" -> Optimizer.nesterov(rate, momentum);
            case "adam" -> Optimizer.adam(rate);
            default -> Optimizer.adamW(rate, weightDecay);
        };
    }

    static String describe(Optimizer o) {
        String s = o.name() + " lr " + o.learningRate();
        return switch (o) {
            case Optimizer.Momentum m -> s + " momentum " + m.momentum();
            case Optimizer.Nesterov n -> s + " momentum " + n.momentum();
            case Optimizer.AdamW a -> s + " weight decay " + a.weightDecay();
            default -> s;
        };
    }
}
