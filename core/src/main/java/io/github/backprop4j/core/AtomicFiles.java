package io.github.backprop4j.core;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old or the complete new contents, never a torn file:
 * checkpoints and ONNX models here, and the CLI's reports and charts, the benchmark report and the
 * OpenCL tuning cache through {@link #write(Path, byte[])}, so that every file backprop4j writes has
 * the same guarantee. A process killed mid-write leaves only a hidden temp file,
 * {@code .NAME.PID.NONCE.tmp}, which no reader loads; the next write to the same target deletes such
 * leftovers of processes no longer alive. Errors name the target, never the temp file (which the user
 * never asked for).
 *
 * <pre>
 * AtomicFiles.write(Path.of("report.json"), json.getBytes(StandardCharsets.UTF_8));
 * </pre>
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** What goes into the file: written through a channel, which it may position (e.g. to fill in a header last). */
    @FunctionalInterface
    interface Contents {
        void writeTo(FileChannel channel) throws IOException;
    }

    /**
     * As {@link #write(Path, byte[])}, with the contents streamed by {@code contents}: files larger than
     * one array (2 GiB) are written without holding them in memory.
     */
    static void write(Path target, Contents contents) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            if (dir != null) Files.createDirectories(dir);
            if (Files.isDirectory(abs)) throw new IOException("it is a directory");
            removeLeftovers(dir, abs.getFileName().toString());
            // Not Files.createTempFile: that makes the file 0600; this one gets the usual umask permissions.
            tmp = dir.resolve(tempPrefix(abs.getFileName().toString()) + ProcessHandle.current().pid() + "."
                    + Long.toHexString(System.nanoTime()) + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                contents.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": " + reason(e, tmp), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the next write to this target removes it (removeLeftovers)
                }
            }
        }
    }

    /** The reason of an I/O error, without the temp file's name. */
    static String reason(IOException e, Path tmp) {
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
        if (e instanceof java.nio.file.FileAlreadyExistsException f && !String.valueOf(f.getFile()).equals(String.valueOf(tmp)))
            return "not a directory: " + f.getFile();
        if (e instanceof java.nio.file.NoSuchFileException f)
            return (tmp != null && String.valueOf(f.getFile()).equals(tmp.toString()) ? "its directory vanished"
                    : "no such file or directory: " + f.getFile());
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        String m = e.getMessage();
        if (m == null) return e.getClass().getSimpleName();
        return tmp == null ? m : m.replace(tmp.toString(), "(temp file)");
    }

    private static String tempPrefix(String name) {
        return "." + name + ".";
    }

    /** Deletes temp files for {@code name} whose writer process has died (killed mid-write). */
    private static void removeLeftovers(Path dir, String name) throws IOException {
        String prefix = tempPrefix(name);
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, p -> {
            String f = p.getFileName().toString();
            return f.startsWith(prefix) && f.endsWith(".tmp");
        })) {
            for (Path t : temps) {
                String[] pidAndNonce = t.getFileName().toString().substring(prefix.length()).split("\\.");
                long pid;
                try {
                    pid = Long.parseLong(pidAndNonce[0]);
                } catch (NumberFormatException e) {
                    continue;   // not one of ours
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                Files.deleteIfExists(t);
            }
        }
    }

    /** What goes into the file, written to a buffered stream: output of any length, produced piece by piece. */
    @FunctionalInterface
    public interface StreamContents {
        /**
         * Writes the contents.
         *
         * @param out the temp file's stream (buffered; do not close it)
         * @throws IOException if writing fails; any exception leaves the target as it was
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * As {@link #write(Path, byte[])}, with the contents produced by {@code contents} as they are
     * written, so the file is never held in memory. If {@code contents} throws, the temp file is
     * deleted, the target keeps its old contents (or stays absent) and the exception propagates
     * (an {@link IOException} wrapped as for any write error).
     *
     * <pre>
     * AtomicFiles.writeStreaming(Path.of("predictions.csv"), out -&gt; {
     *     for (String line : lines) out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
     * });
     * </pre>
     *
     * @param target   the file; missing parent directories are created
     * @param contents writes the new contents
     * @throws IOException naming {@code target} and the reason
     */
    public static void writeStreaming(Path target, StreamContents contents) throws IOException {
        write(target, (FileChannel ch) -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
            contents.writeTo(out);
            out.flush();   // not close(): that would close the channel before write() forces it
        });
    }

    /**
     * Writes {@code bytes} to a temp file in the target's directory, forces it to disk and renames it
     * over {@code target}.
     *
     * @param target the file; missing parent directories are created
     * @param bytes  its new contents
     * @throws IOException naming {@code target} and the reason (a full disk, a read-only directory)
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }
}
