package io.github.backprop4j.bench;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Precision;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.spi.BackendProvider;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Runs the backend comparison: for every backend on the class path (found through
 * {@link Backends#providers()}, never by class) and every requested precision it supports, square
 * SGEMM at each size and one training step of each {@link StandardConfig}, each cell timed by
 * {@link CellTimer}. Nothing is dropped silently: an unknown or unavailable backend, a refused
 * precision, a failed cell and a cell over the time budget all end up in {@link Report#skipped()}.
 */
public final class BenchReport {

    /** {@link Report.Subject#source()} of our own measurements. */
    public static final String SOURCE = "backprop4j";
    /** All rotating GEMM input sets together stay under this, so that big sizes still fit one set. */
    static final long GEMM_ROTATION_BYTES = 256L << 20;
    static final int MAX_GEMM_SETS = 4;

    private final Report.Settings settings;
    private final PrintWriter progress;
    private final CellTimer timer;

    /** {@code progress} gets one line per cell as it finishes (the runs can take minutes). */
    public BenchReport(Report.Settings settings, PrintWriter progress) {
        this.settings = settings;
        this.progress = progress;
        this.timer = new CellTimer(settings);
    }

    /** Measures everything the settings ask for; {@code anchors} are attached and matched for ratios. */
    public Report run(List<Report.AnchorSet> anchors) {
        List<Report.Row> rows = new ArrayList<>();
        List<Report.Skipped> skipped = new ArrayList<>();
        for (BackendProvider provider : selectedProviders(skipped)) {
            Availability availability;
            try {
                availability = provider.probe();
            } catch (RuntimeException | LinkageError e) {
                availability = Availability.unavailable("probe failed: " + e);
            }
            if (!availability.available()) {
                skip(skipped, new Report.Skipped(provider.name(), "*", "*", "*",
                        "backend unavailable: " + availability.reason(), 0));
                continue;
            }
            for (String precisionName : settings.precisions()) {
                Precision precision = Precision.parse(precisionName);
                Backend backend;
                try {
                    backend = Backends.open(provider, BackendOptions.defaults().withPrecision(precision));
                } catch (BackendException | LinkageError e) {
                    skip(skipped, new Report.Skipped(provider.name(), id(precision), "*", "*",
                            "cannot open: " + reason(e), 0));
                    continue;
                }
                try (backend) {
                    measureBackend(backend, rows, skipped);
                }
            }
        }
        List<Report.Row> withRatios = rows.stream().map(r -> r.withRatios(Anchors.ratios(r, anchors))).toList();
        return new Report(Instant.now().toString(), Report.Environment.current(), settings, withRatios,
                List.copyOf(anchors), skipped);
    }

    private List<BackendProvider> selectedProviders(List<Report.Skipped> skipped) {
        if (settings.backends().isEmpty()) {
            List<BackendProvider> all = Backends.providers();   // ranked: asks each backend for its devices
            if (all.isEmpty())
                skip(skipped, new Report.Skipped("*", "*", "*", "*",
                        "the class path has no backends (add backprop4j-cpu, -cuda or -opencl)", 0));
            return all;
        }
        List<BackendProvider> chosen = new ArrayList<>();
        for (String name : settings.backends()) {
            try {
                chosen.add(Backends.provider(name));
            } catch (BackendException e) {
                skip(skipped, new Report.Skipped(name.trim().toLowerCase(Locale.ROOT), "*", "*", "*", e.getMessage(), 0));
            }
        }
        return chosen;
    }

    private void measureBackend(Backend backend, List<Report.Row> rows, List<Report.Skipped> skipped) {
        String runtime = runtimeOf(backend);
        // The best GEMM rate seen so far on this backend predicts the cost of the bigger cells; before
        // the first cell, a small proxy GEMM gives a rate, so that the first cell too is never started
        // over budget. A cell that is cheap even at FLOOR_GFLOPS needs no proxy (0 = no prediction):
        // its first operation is timed and checked against the budget anyway (CellTimer.time).
        double[] bestGflops = {0};
        String[] basis = {""};
        DoubleUnaryOperator rate = flops -> {
            if (bestGflops[0] == 0 && flops / (FLOOR_GFLOPS * 1e9) <= settings.maxSecondsPerCell()) return 0.0;
            if (bestGflops[0] == 0) {
                bestGflops[0] = proxyGflops(backend);
                basis[0] = "a " + PROXY_N + "x" + PROXY_N + " proxy SGEMM";
            }
            return bestGflops[0];
        };
        for (int n : settings.gemmSizes()) {
            double flops = GemmBenchmark.flops(n);
            Report.Row row = cell(backend, Report.GEMM, Integer.toString(n), runtime, skipped,
                    () -> predicted(flops, rate.applyAsDouble(flops), basis[0]),
                    () -> gemmCell(backend, n), flops, 0);
            if (row != null) {
                rows.add(row);
                if (row.rates().gflops() > bestGflops[0]) {
                    bestGflops[0] = row.rates().gflops();
                    basis[0] = "SGEMM n=" + n;
                }
            }
        }
        for (String configId : settings.configs()) {
            StandardConfig config = StandardConfig.parse(configId);
            Report.Row row = cell(backend, Report.TRAIN, config.id(), runtime, skipped,
                    () -> predicted(config.flopsPerStep(), rate.applyAsDouble(config.flopsPerStep()),
                            "its GEMMs at the " + basis[0] + " rate"),
                    () -> trainCell(backend, config), config.flopsPerStep(), config.batch());
            if (row != null) rows.add(row);
        }
    }

    /** A prediction of seconds per operation from a GEMM rate, or null when there is no rate. */
    private static Prediction predicted(double flops, double gflops, String basis) {
        return gflops > 0 ? new Prediction(flops / (gflops * 1e9), basis) : null;
    }

    /** Size of the proxy SGEMM timed before a backend's first cell: cheap everywhere (33.5 MFLOP). */
    static final int PROXY_N = 256;
    static final double PROXY_SECONDS = 10;
    /** A rate every backend exceeds, even interpreted before the JIT (the cpu backend then does ~0.3 GFLOP/s). */
    static final double FLOOR_GFLOPS = 0.01;

    /**
     * GFLOP/s of a {@value #PROXY_N}² SGEMM on {@code backend}: the best of synchronized runs, repeated
     * until the best has not improved by 10% over the last 10 runs (a JIT-compiled or freshly built
     * kernel is what gets timed: the cpu backend's first runs are interpreted, ~1000× slower), at most
     * {@value #PROXY_SECONDS} s. Small GEMMs run below a device's peak rate, so cells predicted from it
     * err long, toward skipping. 0 when the proxy itself fails (the cell then finds out on its own).
     */
    static double proxyGflops(Backend backend) {
        int n = PROXY_N;
        try (Matrix a = backend.allocate(n, n); Matrix b = backend.allocate(n, n); Matrix c = backend.allocate(n, n)) {
            SplittableRandom rng = new SplittableRandom(3);
            backend.upload(random(rng, n * n), a);
            backend.upload(random(rng, n * n), b);
            double best = Double.MAX_VALUE, bestTenAgo = Double.MAX_VALUE;
            long start = System.nanoTime();
            for (int i = 0; System.nanoTime() - start < PROXY_SECONDS * 1e9; i++) {
                long t = System.nanoTime();
                backend.gemm(false, false, 1f, a, b, 0f, c);
                backend.synchronize();
                best = Math.min(best, (System.nanoTime() - t) / 1e9);
                if (i % 10 == 9) {
                    if (best > 0.9 * bestTenAgo) break;
                    bestTenAgo = best;
                }
            }
            return GemmBenchmark.flops(n) / Math.max(best, 1e-9) / 1e9;
        } catch (BackendException | IllegalArgumentException | OutOfMemoryError e) {
            return 0;
        }
    }

    private record Prediction(double seconds, String basis) {
    }

    /** Sets up one cell, times it and turns the timing into a row, or records why it was not measured. */
    private Report.Row cell(Backend backend, String benchmark, String config, String runtime,
                            List<Report.Skipped> skipped, Supplier<Prediction> prediction,
                            Supplier<Cell> setup, double flopsPerOperation, int batch) {
        String precision = id(backend.precision());
        try {
            Prediction p = prediction.get();
            if (p != null)
                timer.checkPrediction(p.seconds(), String.format(Locale.ROOT, "%.2f s per operation predicted from %s",
                        p.seconds(), p.basis()));
            CellTimer.Timing timing;
            try (Cell cell = setup.get()) {
                timing = timer.time(cell::run, backend::synchronize);
            }
            double median = timing.median();
            Report.Row row = new Report.Row(new Report.Subject(SOURCE, "", backend.name(), benchmark, config, precision,
                    batch), new Report.Timing(median, timing.min(), timing.max(), timing.msPerOperation().length,
                    timing.iterationsPerRepetition()), Report.Rates.of(flopsPerOperation, batch, median),
                    new Report.Platform(backend.device(), runtime, Report.Environment.jvmDescription(), osDescription(),
                            Runtime.getRuntime().availableProcessors()), List.of());
            progress.printf(Locale.ROOT, "bench: %-7s %-5s %-5s %-10s %10.3f ms (%.3f-%.3f, %d x %d)%n", backend.name(),
                    precision, benchmark, config, median, timing.min(), timing.max(), row.timing().repetitions(),
                    row.timing().iterationsPerRepetition());
            progress.flush();
            return row;
        } catch (CellTimer.OverBudget e) {
            skip(skipped, new Report.Skipped(backend.name(), precision, benchmark, config, e.getMessage(),
                    e.estimatedSeconds));
        } catch (BackendException | IllegalArgumentException | OutOfMemoryError e) {
            skip(skipped, new Report.Skipped(backend.name(), precision, benchmark, config, "failed: " + reason(e), 0));
        }
        return null;
    }

    private void skip(List<Report.Skipped> skipped, Report.Skipped s) {
        skipped.add(s);
        progress.printf("bench: %s %s %s %s skipped: %s%n", s.backend(), s.precision(), s.benchmark(), s.config(),
                s.reason());
        progress.flush();
    }

    /** One prepared benchmark operation (queued, not waited for); closing frees what it allocated on the device. */
    private interface Cell extends AutoCloseable {
        void run();

        @Override
        void close();
    }

    /**
     * C ← A·B on n × n matrices. Several input sets are rotated when they fit in
     * {@link #GEMM_ROTATION_BYTES}, so that a small size is not flattered by operands left in cache.
     */
    private static Cell gemmCell(Backend backend, int n) {
        long bytesPerSet = 3L * n * n * Float.BYTES;
        int sets = (int) Math.max(1, Math.min(MAX_GEMM_SETS, GEMM_ROTATION_BYTES / bytesPerSet));
        List<Matrix[]> operands = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(42);
        try {
            for (int s = 0; s < sets; s++) {
                Matrix a = backend.allocate(n, n), b = backend.allocate(n, n), c = backend.allocate(n, n);
                operands.add(new Matrix[] {a, b, c});
                backend.upload(random(rng, n * n), a);
                backend.upload(random(rng, n * n), b);
            }
            backend.synchronize();
        } catch (RuntimeException | OutOfMemoryError e) {
            operands.forEach(BenchReport::free);
            throw e;
        }
        return new Cell() {
            private int next;

            @Override
            public void run() {
                Matrix[] m = operands.get(next);
                next = (next + 1) % operands.size();
                backend.gemm(false, false, 1f, m[0], m[1], 0f, m[2]);
            }

            @Override
            public void close() {
                operands.forEach(BenchReport::free);
            }
        };
    }

    /** One whole training step on a batch already on the device, as {@link TrainStepBenchmark} times it. */
    private static Cell trainCell(Backend backend, StandardConfig config) {
        Model model = Model.initialize(backend, config.network(), 42);
        Trainer trainer = null;
        try {
            trainer = new Trainer(model, Optimizer.momentum(0.05f, 0.9f), config.batch());
            Trainer.Batch batch = trainer.load(config.randomData(config.batch(), 7));
            backend.synchronize();
            Trainer t = trainer;
            return new Cell() {
                @Override
                public void run() {
                    t.step(batch);
                }

                @Override
                public void close() {
                    t.close();
                    model.close();
                }
            };
        } catch (RuntimeException | OutOfMemoryError e) {
            if (trainer != null) trainer.close();
            model.close();
            throw e;
        }
    }

    private static void free(Matrix[] matrices) {
        for (Matrix m : matrices) m.close();
    }

    private static float[] random(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }

    private static String runtimeOf(Backend backend) {
        try {
            return backend.runtimeVersion();
        } catch (RuntimeException e) {
            return "unknown (" + reason(e) + ")";
        }
    }

    /** A throwable's message, or its kind when it has none (never "null"). */
    static String reason(Throwable e) {
        return e.getMessage() != null && !e.getMessage().isBlank() ? e.getMessage() : e.getClass().getSimpleName();
    }

    static String osDescription() {
        return Report.Environment.current().os();
    }

    /** "fp32", "tf32": precisions as written on command lines and in reports. */
    static String id(Precision p) {
        return p.name().toLowerCase(Locale.ROOT);
    }

    /** The comma-separated list a user typed, trimmed, without empty entries. */
    static List<String> split(String text) {
        if (text == null) return List.of();
        return java.util.Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toList());
    }
}
