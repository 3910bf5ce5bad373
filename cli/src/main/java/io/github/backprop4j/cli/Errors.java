package io.github.backprop4j.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** One readable line for any throwable: never "null", never a bare class name where a reason is known. */
final class Errors {

    private Errors() {
    }

    /** What went wrong, for a message; the throwable's own message when it has a useful one. */
    static String describe(Throwable e) {
        return switch (e) {
            case NoSuchFileException f -> name(f) + (f.getReason() != null ? f.getReason() : "no such file or directory");
            case AccessDeniedException f -> name(f) + "permission denied";
            case NotDirectoryException f -> name(f) + "not a directory";
            case FileAlreadyExistsException f -> name(f) + "already exists";
            case DirectoryNotEmptyException f -> name(f) + "directory not empty";
            case FileSystemException f -> name(f) + (f.getReason() != null ? f.getReason() : simpleName(f));
            case OutOfMemoryError o -> "out of memory (" + (o.getMessage() != null ? o.getMessage() : "Java heap")
                    + "; the heap's limit is " + HostMemory.mib(Runtime.getRuntime().maxMemory())
                    + "): give java more with " + HostMemory.JAVA_OPTS + "=-Xmx<size>, or use smaller data or batches";
            case StackOverflowError s -> "stack overflow (a recursion too deep for the thread's stack)";
            default -> {
                String m = e.getMessage();
                if (m == null || m.isBlank()) {
                    Throwable cause = e.getCause();
                    yield cause != null && cause != e ? describe(cause) : simpleName(e);
                }
                yield m;
            }
        };
    }

    private static String name(FileSystemException f) {
        return f.getFile() == null ? "" : f.getFile() + ": ";
    }

    /** For a throwable that says nothing itself: its kind, and where to look. */
    private static String simpleName(Throwable e) {
        return "internal error (" + e.getClass().getSimpleName() + " without a message; --verbose shows where)";
    }
}
