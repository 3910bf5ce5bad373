package io.github.backprop4j.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The atomic write under checkpoints, ONNX models and reports. */
class AtomicFilesTest {

    @TempDir
    Path dir;

    /** A failed write (a full disk) names the user's file and the reason, never the hidden temp file, and leaves none. */
    @Test
    void aFailedWriteNamesTheTargetNotTheTempFile() throws IOException {
        Path target = dir.resolve("full/report.json");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, ch -> {
            ch.write(ByteBuffer.wrap(new byte[100]));
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + target + ": No space left on device", e.getMessage());
        try (var files = Files.list(target.getParent())) {
            assertEquals(List.of(), files.toList(), "no temp file left");
        }
    }

    @Test
    void aWriteReplacesTheWholeFile() throws IOException {
        Path target = dir.resolve("a.txt");
        AtomicFiles.write(target, "first, longer contents".getBytes());
        AtomicFiles.write(target, "second".getBytes());
        assertEquals("second", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList(), "no temp file left");
        }
    }

    /** Streamed contents land whole; a writer that fails halfway (an overflowing row, say) leaves the old file and no temp. */
    @Test
    void aStreamedWriteLandsWholeOrNotAtAll() throws IOException {
        Path target = dir.resolve("predictions.csv");
        StringBuilder expected = new StringBuilder();
        AtomicFiles.writeStreaming(target, out -> {
            for (int i = 0; i < 200_000; i++) {
                String line = "row " + i + "\n";
                expected.append(line);
                out.write(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        });
        assertEquals(expected.toString(), Files.readString(target));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> AtomicFiles.writeStreaming(target, out -> {
            out.write(new byte[1 << 20]);
            throw new IllegalStateException("row 7 overflows");
        }));
        assertEquals("row 7 overflows", e.getMessage());
        assertEquals(expected.toString(), Files.readString(target), "the old contents stay");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList(), "no temp file left");
        }
    }
}
