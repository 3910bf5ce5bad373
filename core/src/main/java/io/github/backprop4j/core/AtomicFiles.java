package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file (checkpoints, reports, caches) so that readers see either the old or the complete new contents, never a torn file.
 * A process killed mid-write leaves only a hidden temp file, {@code .NAME.PID.NONCE.tmp}, which no
 * reader loads; the next write to the same target deletes such leftovers of processes no longer alive.
 */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Temp file in the same directory, written and forced to disk, then renamed over {@code target}. */
    public static void write(Path target, ByteBuffer... parts) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) Files.createDirectories(dir);
        removeLeftovers(dir, abs.getFileName().toString());
        // Not Files.createTempFile: that makes the file 0600; this one gets the usual umask permissions.
        Path tmp = dir.resolve(tempPrefix(abs.getFileName().toString()) + ProcessHandle.current().pid() + "."
                + Long.toHexString(System.nanoTime()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                for (ByteBuffer b : parts) {
                    while (b.hasRemaining()) ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
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

    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, ByteBuffer.wrap(bytes));
    }
}
