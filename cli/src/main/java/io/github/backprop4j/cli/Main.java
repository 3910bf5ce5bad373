package io.github.backprop4j.cli;

import io.github.backprop4j.bench.BenchCommand;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.ShapeException;
import io.github.backprop4j.core.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;

/** {@code backprop4j}: train, eval, predict, export, doctor and bench (the bench module's {@link BenchCommand}). */
@Command(name = "backprop4j", mixinStandardHelpOptions = true, version = "backprop4j 0.1.0",
        description = "Train multilayer perceptrons on CUDA, OpenCL or the JVM.",
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, ExportCommand.class, DoctorCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code when the chosen backend cannot be opened. */
    public static final int BACKEND_ERROR = 3;
    /**
     * Exit code when training diverged (non-finite loss, evaluation or parameters) or collapsed (a hidden layer
     * dead or saturated on every row).
     */
    public static final int DIVERGED = 4;
    /** Exit code for anything else that went wrong (out of memory, a bug). */
    public static final int FAILURE = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the command line and exits with its code. Whatever escapes it, an Error included
     * (OutOfMemoryError, StackOverflowError), is one {@code backprop4j:} line, exit 1; the stack trace
     * only with --verbose.
     */
    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (Throwable e) {
            code = report(e, verbose(args), new PrintWriter(System.err, true));
        }
        System.exit(code);
    }

    private static boolean verbose(String[] args) {
        return Arrays.stream(args).anyMatch(a -> a.equals("--verbose") || a.equals("-v"));
    }

    /** Prints {@code e} as one line (plus the trace when verbose) and returns its exit code. */
    static int report(Throwable e, boolean verbose, PrintWriter err) {
        try {
            String message = Errors.describe(e);
            err.println("backprop4j: " + message.lines().findFirst().orElse(message));
            if (verbose) e.printStackTrace(err);
            err.flush();
        } catch (Throwable ignored) {
            // out of memory while reporting out of memory: the exit code still says it failed
        }
        return exitCode(e);
    }

    static int exitCode(Throwable e) {
        return switch (e) {
            case CliException c -> c.exitCode();
            case BackendException b -> BACKEND_ERROR;
            case TrainingDivergedException d -> DIVERGED;
            case ShapeException s -> CliException.BAD_INPUT;
            case IllegalArgumentException i -> CliException.BAD_INPUT;
            case IOException f -> CliException.BAD_INPUT;
            case java.io.UncheckedIOException f -> CliException.BAD_INPUT;
            default -> FAILURE;
        };
    }

    /** The configured command line: one-line errors ({@code backprop4j: message}), stack traces only with --verbose. */
    public static CommandLine commandLine() {
        System.setProperty("java.awt.headless", "true");
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            boolean verbose = false;
            for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand())
                verbose |= p.hasMatchedOption("--verbose");
            return report(ex, verbose, commandLine.getErr());
        });
        cl.setParameterExceptionHandler(Main::parameterError);
        return cl;
    }

    /**
     * A command line picocli could not parse: one line naming the problem (with picocli's suggestion
     * for a mistyped option) and where the usage is, instead of the whole usage text. Exit code 2.
     */
    private static int parameterError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        String message = ex.getMessage() == null ? "invalid command line" : ex.getMessage().strip();
        message = message.lines().findFirst().orElse(message);
        if (ex instanceof CommandLine.UnmatchedArgumentException u) {
            List<String> suggestions = u.getSuggestions();
            if (!suggestions.isEmpty())
                message += " (did you mean " + String.join(" or ", suggestions.subList(0, Math.min(3, suggestions.size())))
                        + "?)";
        }
        err.println("backprop4j: " + message + "; see '" + cl.getCommandSpec().qualifiedName() + " --help'");
        if (verbose(args)) ex.printStackTrace(err);
        err.flush();
        return CliException.BAD_INPUT;
    }
}
