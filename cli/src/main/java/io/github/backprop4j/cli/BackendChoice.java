package io.github.backprop4j.cli;

import io.github.backprop4j.core.Backend;
import picocli.CommandLine.Option;

/** {@code --backend}, {@code --precision} and {@code --verbose} of the commands that apply a checkpoint (a picocli mixin). */
final class BackendChoice {

    @Option(names = "--backend", description = "cpu, opencl or cuda (default: the best available).")
    String backend;
    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or tf32 (default: ${DEFAULT-VALUE}).")
    String precision;
    @Option(names = {"-v", "--verbose"}, description = "Stack traces on errors.")
    boolean verbose;

    /** The chosen backend (see {@link Common#openBackend}). */
    Backend open() {
        return Common.openBackend(backend, precision);
    }
}
