package io.github.backprop4j.cli;

import io.github.backprop4j.bench.BenchCommand;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** {@code backprop4j}: train, eval, export, doctor and bench (the bench module's {@link BenchCommand}). */
@Command(name = "backprop4j", mixinStandardHelpOptions = true, version = "backprop4j 0.1.0",
        description = "Train multilayer perceptrons on CUDA, OpenCL or the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, ExportCommand.class, DoctorCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code when the chosen backend cannot be opened. */
    public static final int BACKEND_ERROR = 3;
    /** Exit code when training diverged (non-finite loss). */
    public static final int DIVERGED = 4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: one-line errors ({@code backprop4j: message}), stack traces only with --verbose. */
    public static CommandLine commandLine() {
        System.setProperty("java.awt.headless", "true");
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean verbose = false;
            for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand())
                verbose |= p.hasMatchedOption("--verbose");
            PrintWriter err = commandLine.getErr();
            String message = switch (ex) {
                case java.nio.file.NoSuchFileException f -> f.getFile() + ": no such file or directory";
                case java.nio.file.AccessDeniedException f -> f.getFile() + ": permission denied";
                case java.nio.file.FileSystemException f -> f.getFile() + ": " + f.getReason();
                default -> ex.getMessage() == null ? ex.toString() : ex.getMessage();
            };
            err.println("backprop4j: " + message.lines().findFirst().orElse(message));
            if (verbose) ex.printStackTrace(err);
            err.flush();
            return switch (ex) {
                case CliException c -> c.exitCode();
                case BackendException b -> BACKEND_ERROR;
                case TrainingDivergedException d -> DIVERGED;
                case ShapeException s -> CliException.BAD_INPUT;
                case IllegalArgumentException i -> CliException.BAD_INPUT;
                case java.nio.file.FileSystemException f -> CliException.BAD_INPUT;
                default -> 1;
            };
        });
        return cl;
    }
}
