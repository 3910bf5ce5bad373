package io.github.backprop4j.cli;

/** An error the user can act on (bad input, missing file): printed as one line, exit code {@link #exitCode}. */
public class CliException extends RuntimeException {

    /** Exit code for bad input: missing or malformed data, corrupted checkpoint, bad option values. */
    public static final int BAD_INPUT = 2;

    private final int exitCode;

    public CliException(String message) {
        this(message, BAD_INPUT, null);
    }

    public CliException(String message, Throwable cause) {
        this(message, BAD_INPUT, cause);
    }

    public CliException(String message, int exitCode, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
