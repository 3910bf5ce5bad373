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
            String message = switch (ex) {
                case java.nio.file.NoSuchFileException f -> f.getFile() + ": no such file or directory";
                case java.nio.file.FileSystemException f -> f.getFile() + ": " + f.getReason();
                default -> ex.getMessage() == null ? ex.toString() : ex.getMessage();
            };
            commandLine.getErr().println("bench: " + message);
            if (parseResult.hasMatchedOption("--verbose")) ex.printStackTrace(commandLine.getErr());
            commandLine.getErr().flush();
            return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException ? 2 : 1;
        });
        System.exit(cl.execute(args));
    }
}
