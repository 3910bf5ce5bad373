package io.github.backprop4j.bench;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * One whole training step (forward, loss, backward, momentum update) of a {@link StandardConfig} on
 * one backend, with the batch already resident on the device: what is timed is the device work only.
 * Throughput: TFLOP/s = {@link StandardConfig#flopsPerStep()} / t, samples/s = batch / t.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar TrainStepBenchmark -p backend=cpu -p config=fashion -p precision=fp32
 * java -jar bench/target/benchmarks.jar TrainStepBenchmark.step -p config=fashion -p precision=fp32 \
 *     -p options=none,dropout,clipping,schedule,all
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {BenchmarkSupport.ADD_VECTOR, BenchmarkSupport.NATIVE_ACCESS})
public class TrainStepBenchmark {

    /** Backend name as known to {@code Backends}: cpu, opencl, cuda. */
    @Param("cpu")
    public String backend;

    /** A {@link StandardConfig} id. */
    @Param({"fashion", "fashion-8k", "wide"})
    public String config;

    @Param({"fp32", "tf32"})
    public String precision;

    /** Batch size; 0 takes the configuration's own (e.g. 128 gives the CLI's default Fashion-MNIST step). */
    @Param("0")
    public int batch;

    /**
     * Which of a backend's fused paths stay on, to measure what each buys: {@code all},
     * {@code relu-epilogue} (all, plus ReLU inside cuBLASLt's epilogue), {@code no-graphs}
     * (every op launched separately), {@code no-epilogues} (bias and activation as their own kernels),
     * {@code none}. Backends without such paths ignore it.
     */
    @Param("all")
    public String fusion;

    /**
     * The training options the step runs with, to measure what each costs: {@code none}, {@code dropout}
     * (0.2 on every hidden layer), {@code clipping} (global norm 1), {@code schedule} (cosine with warm-up)
     * or {@code all} three.
     */
    @Param("none")
    public String options;

    private Backend device;
    private Model model;
    private Trainer trainer;
    private Trainer.Batch loaded;

    @Setup(Level.Trial)
    public void setUp() {
        StandardConfig cfg = StandardConfig.parse(config);
        BenchmarkSupport.selectFusion(fusion);
        device = BenchmarkSupport.open(backend, precision);
        model = Model.initialize(device, withOptions(cfg.network()), 42);
        int rows = batch > 0 ? batch : cfg.batch();
        trainer = new Trainer(model, Optimizer.momentum(0.05f, 0.9f), rows);
        applyOptions(trainer);
        loaded = trainer.load(cfg.randomData(rows, 7));
        device.synchronize();
        System.out.printf("%n# %s, batch %d, on %s (%s): %.3f GFLOP per step (TFLOP/s = that / 1000 / seconds per step)%n",
                cfg.describe(), rows, device.name(), device.device(), cfg.network().flopsPerStep(rows) / 1e9);
    }

    private boolean option(String name) {
        return options.equals(name) || options.equals("all");
    }

    private Network withOptions(Network net) {
        if (!option("dropout")) return net;
        return new Network(net.inputs(), net.layers().stream().map(l -> l == net.layers().getLast() ? l
                : new Network.Layer(l.units(), l.activation(), 0.2f)).toList(), net.loss());
    }

    private void applyOptions(Trainer t) {
        if (!java.util.List.of("none", "dropout", "clipping", "schedule", "all").contains(options))
            throw new IllegalArgumentException("options must be none, dropout, clipping, schedule or all, got " + options);
        if (option("clipping")) t.setGradientClipping(1f);
        if (option("schedule")) t.setLearningRateSchedule(LearningRateSchedule.cosine(1_000_000, 0f).withWarmup(100));
    }

    /** One step, then a synchronization: the latency of a single step. */
    @Benchmark
    public void step() {
        trainer.step(loaded);
        device.synchronize();
    }

    /**
     * Ten steps back to back and one synchronization, reported per step: the throughput a training
     * loop sees, and the way PyTorch's anchor (torch_anchor.py) times its steps between two events.
     * On the GPU the difference from {@link #step} is the per-step host wait; on the CPU there is none.
     */
    @Benchmark
    @OperationsPerInvocation(PIPELINED_STEPS)
    public void pipelined() {
        for (int i = 0; i < PIPELINED_STEPS; i++) trainer.step(loaded);
        device.synchronize();
    }

    static final int PIPELINED_STEPS = 10;

    @TearDown(Level.Trial)
    public void tearDown() {
        if (trainer != null) trainer.close();
        if (model != null) model.close();
        if (device != null) device.close();
        trainer = null;
        model = null;
        device = null;
    }
}
