package io.github.backprop4j.cli;

import io.github.backprop4j.core.AtomicFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.DeviceDataset;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.TrainingDivergedException;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/** {@code backprop4j train}: trains a classifier, printing per-epoch metrics and per-layer diagnostics. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron classifier (softmax + cross-entropy output).",
                "Data: Fashion-MNIST IDX files (default " + "/usr/share/datasets/fashion-mnist) or a CSV file.",
                "Writes a safetensors checkpoint after every epoch; --resume continues a run exactly."})
final class TrainCommand implements Callable<Integer> {

    static final String DEFAULT_CHECKPOINT = "backprop4j-checkpoint.safetensors";

    @Option(names = "--data", paramLabel = "DIR",
            description = "Directory with train-/t10k-images-idx3-ubyte and -labels-idx1-ubyte (raw or .gz). Default: /usr/share/datasets/fashion-mnist")
    Path data;
    @Option(names = "--csv", paramLabel = "FILE", description = "CSV file instead of IDX: numeric feature columns and one label column.")
    Path csv;
    @Option(names = "--label-column", paramLabel = "N", description = "0-based label column of the CSV; -1 = last (default).")
    Integer labelColumn;
    @Option(names = "--test-fraction", paramLabel = "F", description = "CSV rows held out for testing, shuffled with the seed (default 0.2).")
    Double testFraction;

    @Option(names = "--layers", paramLabel = "UNITS", description = "Hidden layer widths, comma-separated, or none (default: ${DEFAULT-VALUE}).",
            defaultValue = "256,128")
    String layers;
    @Option(names = "--activation", description = "Hidden activation: relu, leaky_relu, gelu, tanh, sigmoid (default: ${DEFAULT-VALUE}).",
            defaultValue = "relu")
    String activation;

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
    @Option(names = "--seed", description = "Seed for initialization, shuffling and the CSV split (default: ${DEFAULT-VALUE}).",
            defaultValue = "42")
    long seed;

    @Option(names = "--checkpoint", paramLabel = "FILE",
            description = "Checkpoint written after every epoch (default: the --resume file, else ./" + DEFAULT_CHECKPOINT + ").")
    Path checkpoint;
    @Option(names = "--resume", paramLabel = "FILE",
            description = "Continue from a checkpoint: network, optimizer state, batch, seed and data source come from it "
                    + "(--lr overrides the learning rate; --csv/--data choose other data, normalized as recorded).")
    Path resume;
    @Option(names = "--charts", paramLabel = "DIR", description = "Write loss.png and accuracy.png here.")
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
        Checkpoint.State state = resume == null ? null : Checkpoint.load(resume);
        Optimizer.Kind kind = Optimizer.parseKind(optimizer);
        OptionRules.check(spec.commandLine().getParseResult(), OptionRules.TRAIN,
                new OptionRules.Run(state != null, csv != null, Common.csvData(data, csv, state), kind, false));
        if (state != null && (long) state.epochsDone() + epochs > Integer.MAX_VALUE)
            throw new CliException("--epochs " + epochs + " after the checkpoint's " + state.epochsDone()
                    + " would count past 2^31-1 epochs");
        long runSeed = state != null ? state.seed() : seed;
        int batchSize = state != null ? state.batch() : batch;
        Optimizer opt = state != null ? (lr != null ? state.optimizer().withLearningRate(lr) : state.optimizer())
                : optimizer(kind);
        Path ckptFile = checkpoint != null ? checkpoint : resume != null ? resume : Path.of(DEFAULT_CHECKPOINT);
        // every file this run writes is checked before any work
        Outputs.checkFile(ckptFile, "--checkpoint");
        if (report != null) {
            Outputs.checkFile(report, "--report");
            Map<String, Path> others = new LinkedHashMap<>();
            others.put("checkpoint", ckptFile);
            others.put("--resume checkpoint", resume);
            others.put("--csv data", csv);
            Outputs.checkDistinct(report, "--report", others);
        }
        if (csv != null) Outputs.checkDistinct(ckptFile, "--checkpoint", Map.of("--csv data", csv));
        if (charts != null) Outputs.checkDirectory(charts, "--charts " + charts);
        return train(out, state, runSeed, batchSize, opt, ckptFile);
    }

    /** Option values that are wrong whatever the run: checked before anything is read or opened. */
    private void checkValues() {
        if (epochs < 1) throw new CliException("--epochs must be >= 1, got " + epochs);
        if (batch < 1) throw new CliException("--batch must be >= 1, got " + batch);
        if (lossCheckInterval < 1)
            throw new CliException("--loss-check-interval must be >= 1, got " + lossCheckInterval);
        if (diagnosticRows < 0) throw new CliException("--diagnostic-rows must be >= 0, got " + diagnosticRows);
        if (labelColumn != null && labelColumn < -1)
            throw new CliException("--label-column must be >= 0, or -1 for the last column, got " + labelColumn);
        if (testFraction != null && !(testFraction > 0 && testFraction < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + testFraction);
        if (lr != null && !(lr > 0 && Float.isFinite(lr)))
            throw new CliException("--lr must be finite and > 0, got " + lr);
        Activation.parse(activation);
        hiddenWidths();
    }

    private Integer train(PrintWriter out, Checkpoint.State state, long runSeed, int batchSize, Optimizer opt,
                          Path ckptFile) throws IOException {
        Data.Loaded d = Common.loadData(data, csv, labelColumn, testFraction, false, true, runSeed, state);
        if (d.train() == null) throw new CliException("no training rows in " + d.description());
        Network net = state != null ? state.network() : network(d.featureCount(), d.classes().size());
        if (net.inputs() != d.featureCount())
            throw new CliException("the checkpoint's network takes " + net.inputs() + " inputs but the data has "
                    + d.featureCount() + " features");
        Outputs.checkSpace(ckptFile, Checkpoint.tensorBytes(net, opt) + (1 << 20), "the checkpoint");
        HostMemory.require(4 * Checkpoint.largestTensor(net), "saving the checkpoint (its largest tensor)");
        // the checkpoint is this run's until it exits: a second run on it fails here, before training
        try (CheckpointLock lock = CheckpointLock.acquire(ckptFile)) {
            return train(out, state, runSeed, batchSize, opt, ckptFile, d, net);
        }
    }

    private Integer train(PrintWriter out, Checkpoint.State state, long runSeed, int batchSize, Optimizer opt,
                          Path ckptFile, Data.Loaded d, Network net) throws IOException {
        ArrayNode history = state != null ? state.history().deepCopy() : JSON.createArrayNode();
        Progress progress = new Progress(state != null && ckptFile.equals(resume) ? state.epochsDone() : -1, ckptFile);
        Thread interrupted = new Thread(progress::interrupted, "backprop4j-interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try (Backend b = Common.openBackend(backend, precision);
             Model model = state != null ? state.model(b) : Model.initialize(b, net, runSeed);
             Trainer trainer = new Trainer(model, opt, batchSize);
             DeviceDataset onDevice = resident ? DeviceDataset.upload(b, d.train()) : null) {
            if (state != null) state.restore(trainer);
            trainer.setLossCheckInterval(lossCheckInterval);
            out.printf("backend   %s (%s, %s)%n", b.name(), b.device(), b.precision().name().toLowerCase(Locale.ROOT));
            out.printf("data      %s%s%n", d.description(), resident ? ", resident on the device" : "");
            out.printf("network   %s, %,d parameters%n", net.describe(), net.parameterCount());
            out.printf("optimizer %s, batch %d%s, seed %d%s%n", describe(opt), batchSize,
                    batchSize >= d.train().rows() ? " (every step takes all " + d.train().rows() + " training rows)" : "",
                    runSeed, state == null ? "" : ", resumed from " + resume + " after epoch " + state.epochsDone()
                            + (lr != null && lr != state.optimizer().learningRate()
                            ? " with --lr " + lr + " instead of the recorded " + state.optimizer().learningRate() : ""));
            out.flush();
            double trainSeconds = 0;
            long samples = 0;
            Trainer.Evaluation last = null;
            int target = trainer.epochsDone() + epochs;
            for (int e = 0; e < epochs; e++) {
                int index = trainer.epochsDone();   // 0-based index of the epoch about to run
                progress.epoch = index + 1;
                Random rng = new Random(runSeed * 1_000_003L + index);
                Trainer.EpochResult r;
                try (ProgressBar bar = progressBar(index + 1, target, d.train().rows())) {
                    java.util.function.IntConsumer step = bar == null ? null : bar::stepBy;
                    r = onDevice != null ? trainer.fitEpoch(onDevice, rng, step) : trainer.fitEpoch(d.train(), rng, step);
                    last = trainer.evaluate(d.test());
                } catch (TrainingDivergedException diverged) {
                    // the checkpoint is saved only after a finite epoch, so it still holds the last good state
                    throw new CliException(diverged.getMessage() + "; " + progress.kept(), Main.DIVERGED, diverged);
                }
                if (!Double.isFinite(last.loss()) || !Double.isFinite(last.accuracy()))
                    throw new CliException("training diverged in epoch " + r.epoch() + ": its training loss was "
                            + r.loss() + " but the test loss is " + last.loss() + " (the network's outputs overflow "
                            + "on the test data); lower the learning rate; " + progress.kept(), Main.DIVERGED, null);
                trainSeconds += r.seconds();
                samples += r.samples();
                ObjectNode h = JSON.createObjectNode().put("epoch", r.epoch()).put("train_loss", r.loss())
                        .put("test_loss", last.loss()).put("test_accuracy", last.accuracy())
                        .put("samples_per_second", r.samplesPerSecond()).put("seconds", r.seconds());
                out.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f  test loss %.4f  test acc %.4f  %,.0f samples/s  %.1f s%n",
                        r.epoch(), target, r.loss(), last.loss(), last.accuracy(), r.samplesPerSecond(), r.seconds());
                Diagnostics.report(trainer, d, diagnosticRows, out, h.putArray("layers"));
                history.add(h);
                Checkpoint.save(ckptFile, trainer, runSeed, d.normalization(), d.source(), d.classes(), history);
                progress.saved = trainer.epochsDone();
                out.flush();
            }
            out.printf(Locale.ROOT, "test accuracy %.4f, test loss %.4f after %d epochs; checkpoint %s%n",
                    last.accuracy(), last.loss(), trainer.epochsDone(), ckptFile);
            if (charts != null) {
                Charts.write(charts, history);
                out.println("charts    " + charts.resolve("loss.png") + ", " + charts.resolve("accuracy.png"));
            }
            if (report != null) {
                ObjectNode rep = JSON.createObjectNode();
                rep.put("backend", b.name()).put("device", b.device())
                        .put("precision", b.precision().name().toLowerCase(Locale.ROOT))
                        .put("network", net.describe()).put("optimizer", describe(opt))
                        .put("data", d.description()).put("seed", runSeed)
                        .put("epochs", trainer.epochsDone()).put("epochs_this_run", epochs).put("batch", batchSize)
                        .put("train_seconds", trainSeconds)
                        .put("samples_per_second", trainSeconds > 0 ? samples / trainSeconds : 0)
                        .put("test_loss", last.loss()).put("test_accuracy", last.accuracy())
                        .put("checkpoint", ckptFile.toAbsolutePath().toString());
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

    private Network network(int inputs, int classes) {
        Activation act = Activation.parse(activation);
        Network.Builder nb = Network.input(inputs);
        for (int units : hiddenWidths()) nb.dense(units, act);
        Network net = nb.output(classes, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        for (int l = 0; l < net.depth(); l++)
            if ((long) net.fanIn(l) * net.fanOut(l) > io.github.backprop4j.core.Dataset.MAX_ARRAY_LENGTH)
                throw new CliException("--layers: layer " + (l + 1) + " would be a " + net.fanIn(l) + "×" + net.fanOut(l)
                        + " weight matrix, " + (long) net.fanIn(l) * net.fanOut(l) + " values, more than one matrix "
                        + "holds (2^31-1)");
        return net;
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

    private Optimizer optimizer(Optimizer.Kind kind) {
        boolean adam = kind == Optimizer.Kind.ADAM || kind == Optimizer.Kind.ADAMW;
        float rate = lr != null ? lr : adam ? 1e-3f : 0.05f;
        return switch (kind) {
            case SGD -> Optimizer.sgd(rate);
            case MOMENTUM -> Optimizer.momentum(rate, momentum);
            case NESTEROV -> Optimizer.nesterov(rate, momentum);
            case ADAM -> Optimizer.adam(rate);
            case ADAMW -> Optimizer.adamW(rate, weightDecay);
        };
    }

    static String describe(Optimizer o) {
        String s = o.kind().name().toLowerCase(Locale.ROOT) + " lr " + o.learningRate();
        return switch (o.kind()) {
            case MOMENTUM, NESTEROV -> s + " momentum " + o.momentum();
            case ADAMW -> s + " weight decay " + o.decoupledDecay();
            default -> s;
        };
    }

    static List<String> names(ArrayNode a) {
        List<String> l = new ArrayList<>();
        a.forEach(n -> l.add(n.asText()));
        return l;
    }
}
