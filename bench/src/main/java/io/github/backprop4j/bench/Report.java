package io.github.backprop4j.bench;

import com.fasterxml.jackson.annotation.JsonUnwrapped;

import java.util.List;

/**
 * What one {@code bench} run measured, in the shape bench.json has (snake_case keys): the machine,
 * the settings, one row per measured cell, the anchors read from files and every cell that was not
 * measured with the reason why.
 */
public record Report(String generated, Environment environment, Settings settings, List<Row> rows,
                     List<AnchorSet> anchors, List<Skipped> skipped) {

    /** The benchmark kinds a row can have. */
    public static final String GEMM = "gemm";
    public static final String TRAIN = "train";

    /** Where the numbers were taken. */
    public record Environment(String jvm, String os, int cores) {

        public static Environment current() {
            return new Environment(jvmDescription(), System.getProperty("os.name") + " " + System.getProperty("os.version")
                    + " (" + System.getProperty("os.arch") + ")", Runtime.getRuntime().availableProcessors());
        }

        static String jvmDescription() {
            return Runtime.version() + " (" + System.getProperty("java.vendor") + ")";
        }
    }

    /**
     * How the run was set up. Empty {@code backends} means every provider on the class path.
     *
     * @param warmup               warm-up runs at least this many iterations per cell ...
     * @param warmupSeconds        ... and for at least this long
     * @param repetitionSeconds    each timed repetition runs enough iterations to last about this long
     * @param maxSecondsPerCell    a cell whose estimated cost exceeds this is skipped, with the estimate
     */
    public record Settings(List<String> backends, List<String> precisions, List<Integer> gemmSizes,
                           List<String> configs, int repetitions, int warmup, double warmupSeconds,
                           double repetitionSeconds, double maxSecondsPerCell) {

        public Settings {
            backends = List.copyOf(backends);
            precisions = List.copyOf(precisions);
            gemmSizes = List.copyOf(gemmSizes);
            configs = List.copyOf(configs);
            if (repetitions < 1) throw new IllegalArgumentException("repetitions must be >= 1, got " + repetitions);
            if (warmup < 1) throw new IllegalArgumentException("warm-up iterations must be >= 1, got " + warmup);
            if (warmupSeconds < 0) throw new IllegalArgumentException("warm-up seconds must be >= 0, got " + warmupSeconds);
            if (repetitionSeconds < 0)
                throw new IllegalArgumentException("seconds per repetition must be >= 0, got " + repetitionSeconds);
            if (!(maxSecondsPerCell > 0))
                throw new IllegalArgumentException("max seconds per cell must be > 0, got " + maxSecondsPerCell);
            for (int n : gemmSizes) if (n < 1) throw new IllegalArgumentException("gemm size must be >= 1, got " + n);
        }
    }

    /**
     * One measured cell, or one anchor's line. In bench.json its parts are written as one flat object
     * (source, mode, backend, ..., ms_median, ..., gflops, ..., device, ..., ratios).
     *
     * @param subject  what was measured
     * @param timing   how long it took
     * @param rates    the rates that timing gives
     * @param platform where it ran (empty for anchor rows, which do not say)
     * @param ratios   throughput of this row over each matching anchor row's (&gt; 1: we are faster)
     */
    public record Row(@JsonUnwrapped Subject subject, @JsonUnwrapped Timing timing, @JsonUnwrapped Rates rates,
                      @JsonUnwrapped Platform platform, List<Ratio> ratios) {

        public Row {
            ratios = List.copyOf(ratios);
        }

        public Row withRatios(List<Ratio> r) {
            return new Row(subject, timing, rates, platform, r);
        }

        /** "numpy", "torch graph": how the row is named in tables and next to ratios. */
        public String label() {
            return subject.mode().isEmpty() ? subject.backend() : subject.backend() + " " + subject.mode();
        }

        public boolean isAnchor() {
            return !subject.source().equals(BenchReport.SOURCE);
        }

        /** Operations per second, the quantity every ratio compares. */
        double throughput() {
            return 1000.0 / timing.msMedian();
        }
    }

    /**
     * What a row measured.
     *
     * @param source    "backprop4j" for our measurements, else the anchor: "numpy", "torch"
     * @param mode      the anchor's execution mode ("eager", "graph" for torch), "" otherwise
     * @param backend   our backend's name; for anchor rows the anchor's name
     * @param benchmark {@link #GEMM} or {@link #TRAIN}
     * @param config    the GEMM size n, or a {@link StandardConfig} id
     * @param precision "fp32" or "tf32"
     * @param batch     samples per step (train rows), 0 for GEMM
     */
    public record Subject(String source, String mode, String backend, String benchmark, String config,
                          String precision, int batch) {
        /** Whether a row of {@code other} measured the same benchmark, configuration and precision. */
        boolean sameCell(Subject other) {
            return benchmark.equals(other.benchmark) && config.equals(other.config) && precision.equals(other.precision);
        }
    }

    /**
     * A row's times per operation.
     *
     * @param msMedian                median milliseconds per operation over the repetitions
     * @param msMin                   fastest repetition (ms per operation)
     * @param msMax                   slowest repetition (ms per operation)
     * @param repetitions             timed repetitions; each ran {@code iterationsPerRepetition} operations then synchronized
     * @param iterationsPerRepetition operations per repetition
     */
    public record Timing(double msMedian, double msMin, double msMax, int repetitions, long iterationsPerRepetition) {
    }

    /**
     * A row's rates at its median time.
     *
     * @param gflops           GFLOP/s (2n³ per GEMM, {@link StandardConfig#flopsPerStep()} per step)
     * @param tflops           the same in TFLOP/s
     * @param samplesPerSecond batch / median step time (train rows), 0 for GEMM
     */
    public record Rates(double gflops, double tflops, double samplesPerSecond) {
        /** The rates of {@code flops} (and {@code batch} samples) per operation at {@code ms} per operation. */
        static Rates of(double flops, int batch, double ms) {
            double perSecond = 1000.0 / ms;
            return new Rates(flops * perSecond / 1e9, flops * perSecond / 1e12, batch * perSecond);
        }
    }

    /**
     * Where a row ran.
     *
     * @param device  the backend's device
     * @param runtime its driver and runtime versions
     * @param jvm     the JVM
     * @param os      the operating system
     * @param cores   the host's cores
     */
    public record Platform(String device, String runtime, String jvm, String os, int cores) {
        /** An anchor's: the device and runtime it reports, nothing about the machine. */
        static Platform anchor(String device, String runtime) {
            return new Platform(device, runtime, "", "", 0);
        }
    }

    /** Our throughput divided by the anchor's for the same benchmark, configuration and precision. */
    public record Ratio(String anchor, double ratio) {
    }

    /** The rows read from one anchor file. */
    public record AnchorSet(String file, String format, List<Row> rows) {
    }

    /**
     * A cell (or a whole backend or precision, shown as "*") that was not measured, and why. A budget
     * skip carries the estimated seconds the cell would have taken, otherwise 0.
     */
    public record Skipped(String backend, String precision, String benchmark, String config, String reason,
                          double estimatedSeconds) {
    }
}
