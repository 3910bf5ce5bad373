package io.github.backprop4j.bench;

import picocli.CommandLine;

/**
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp … io.github.backprop4j.bench.BenchMain [options]}:
 * the bench command without the cli (e.g. on a machine that has only the bench jar and a backend).
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        CommandLine cl = new CommandLine(new BenchCommand());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println("bench: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (parseResult.hasMatchedOption("--verbose")) ex.printStackTrace(commandLine.getErr());
            commandLine.getErr().flush();
            return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException ? 2 : 1;
        });
        System.exit(cl.execute(args));
    }
}
