package io.github.backprop4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * An exclusive lock on a checkpoint target for a whole training run: {@code .NAME.lock} beside the
 * checkpoint, locked with {@link FileChannel#tryLock()} (an OS lock, released when the process exits
 * however it exits). A second run on the same checkpoint fails at its start, naming the holder,
 * instead of both runs overwriting each other's epochs. The lock file itself stays (deleting it would
 * race with a run about to lock it); it holds the holder's pid and start time.
 */
final class CheckpointLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private CheckpointLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static Path lockFile(Path checkpoint) {
        Path abs = checkpoint.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + ".lock");
    }

    /** Locks {@code checkpoint} for this process, or throws a {@link CliException} naming who holds it. */
    static CheckpointLock acquire(Path checkpoint) {
        Path file = lockFile(checkpoint);
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;   // this JVM holds it already
            }
            if (lock == null) {
                String holder = holder(ch);
                ch.close();
                throw new CliException("checkpoint " + checkpoint + " is in use by another training run"
                        + (holder.isEmpty() ? "" : " (" + holder + ")") + "; wait for it to finish or pass another "
                        + "--checkpoint (lock file " + file + ")");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + ", started " + Instant.now()
                    + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            return new CheckpointLock(ch, lock);
        } catch (IOException e) {
            try {
                if (ch != null) ch.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new CliException("cannot lock checkpoint " + checkpoint + " (" + file + "): " + Errors.describe(e), e);
        }
    }

    /** The holder's own description from the lock file, "" when unreadable. */
    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(256);
            ch.read(b, 0);
            String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return text.lines().findFirst().orElse("").replaceAll("\\p{Cntrl}", "?");
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() {
        try {
            if (lock.isValid()) lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the OS drops the lock with the process anyway
        }
    }
}
