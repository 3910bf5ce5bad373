package io.github.backprop4j.bench;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Precision;

/** What the benchmarks share: opening the requested backend or failing with the reason why not. */
final class BenchmarkSupport {

    /** The JVM options every fork needs; the same as the build's {@code backprop4j.jvmArgs}. */
    static final String ADD_VECTOR = "--add-modules=jdk.incubator.vector";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    private BenchmarkSupport() {
    }

    /**
     * Sets the backend switches for fused paths (read when a backend opens): all, relu-epilogue (all
     * plus ReLU inside the GEMM epilogue), no-graphs, no-epilogues or none.
     */
    static void selectFusion(String fusion) {
        boolean graphs, epilogues, reluEpilogue = false;
        switch (fusion) {
            case "all" -> { graphs = true; epilogues = true; }
            case "relu-epilogue" -> { graphs = true; epilogues = true; reluEpilogue = true; }
            case "no-graphs" -> { graphs = false; epilogues = true; }
            case "no-epilogues" -> { graphs = true; epilogues = false; }
            case "none" -> { graphs = false; epilogues = false; }
            default -> throw new IllegalArgumentException("fusion must be all, relu-epilogue, no-graphs, no-epilogues "
                    + "or none, not '" + fusion + "'");
        }
        System.setProperty("backprop4j.cuda.graphs", Boolean.toString(graphs));
        System.setProperty("backprop4j.cuda.epilogues", Boolean.toString(epilogues));
        System.setProperty("backprop4j.cuda.reluEpilogue", Boolean.toString(reluEpilogue));
    }

    /**
     * Opens {@code backend} at {@code precision}. An unavailable backend, an unknown name or a
     * precision the backend refuses fails the benchmark with the backend's own reason: a benchmark
     * never silently measures some other backend.
     */
    static Backend open(String backend, String precision) {
        Precision p = Precision.parse(precision);
        try {
            return Backends.open(backend, BackendOptions.defaults().withPrecision(p));
        } catch (BackendException e) {
            throw new BackendException("cannot benchmark backend '" + backend + "' at " + precision + ": "
                    + e.getMessage(), e);
        }
    }
}
