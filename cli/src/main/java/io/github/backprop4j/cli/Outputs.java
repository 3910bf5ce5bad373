package io.github.backprop4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Checks, before any work starts, that the files a run will write can be written: a checkpoint path
 * in a missing or read-only directory, or a --report that is a directory, fails at once instead of
 * after the first epoch.
 */
final class Outputs {

    private Outputs() {
    }

    /** {@code file} (named by {@code option}) can be created or replaced: its directory is writable. */
    static void checkFile(Path file, String option) {
        Path abs = file.toAbsolutePath();
        if (Files.isDirectory(abs)) throw new CliException(option + " " + file + " is a directory, not a file");
        if (Files.exists(abs) && !Files.isRegularFile(abs))
            throw new CliException(option + " " + file + " exists and is not a regular file (a device or a pipe); "
                    + "name a file to write");
        checkDirectory(abs.getParent(), option + " " + file);
    }

    /**
     * {@link #checkFile} and {@link #checkDistinct}: {@code file} can be written and is none of {@code inputs}
     * (named by what they are; null values are skipped).
     */
    static void checkOutput(Path file, String option, Map<String, Path> inputs) {
        checkFile(file, option);
        checkDistinct(file, option, inputs);
    }

    /** {@code dir} (named by {@code option}) exists or can be made, and files can be created in it. */
    static void checkDirectory(Path dir, String what) {
        Path abs = dir.toAbsolutePath();
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new CliException(what + ": cannot create directory " + abs + ": "
                    + (e instanceof java.nio.file.FileAlreadyExistsException || e instanceof java.nio.file.NotDirectoryException
                    ? "a file is in the way" : reason(e)));
        }
        try {
            Path probe = Files.createTempFile(abs, ".backprop4j-probe-", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new CliException(what + ": cannot write in " + abs + ": " + reason(e));
        }
    }

    /**
     * Fails when {@code output} (named by {@code option}) is one of the files the run reads or the
     * checkpoint it writes: a --report over the checkpoint or the data would destroy it at the end.
     */
    static void checkDistinct(Path output, String option, Map<String, Path> others) {
        for (Map.Entry<String, Path> o : others.entrySet()) {
            if (o.getValue() == null) continue;
            if (same(output, o.getValue()))
                throw new CliException(option + " " + output + " is also the " + o.getKey() + ": writing it would destroy "
                        + "that; name another file");
        }
    }

    private static boolean same(Path a, Path b) {
        try {
            if (Files.exists(a) && Files.exists(b)) return Files.isSameFile(a, b);
        } catch (IOException e) {
            // fall back to comparing the names
        }
        return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
    }

    /** Fails unless the file system holding {@code file} has {@code bytes} free (it is written beside the old one). */
    static void checkSpace(Path file, long bytes, String what) {
        Path dir = file.toAbsolutePath().getParent();
        long free;
        try {
            free = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return;   // unknown: the write itself will report a full disk, naming the file
        }
        if (free < bytes)
            throw new CliException(what + " " + file + " needs about " + HostMemory.mib(bytes) + " but its file system has "
                    + HostMemory.mib(free) + " free");
    }

    private static String reason(IOException e) {
        String r = Errors.describe(e);
        int at = r.lastIndexOf(": ");
        return e instanceof java.nio.file.FileSystemException && at >= 0 ? r.substring(at + 2) : r;
    }
}
