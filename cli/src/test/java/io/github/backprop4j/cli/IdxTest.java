package io.github.backprop4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxTest {

    @TempDir
    Path dir;

    static byte[] images(int n, int h, int w) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * h * w);
        b.putInt(0x00000803).putInt(n).putInt(h).putInt(w);
        for (int i = 0; i < n * h * w; i++) b.put((byte) (i * 7));
        return b.array();
    }

    static byte[] labels(int... values) {
        ByteBuffer b = ByteBuffer.allocate(8 + values.length);
        b.putInt(0x00000801).putInt(values.length);
        for (int v : values) b.put((byte) v);
        return b.array();
    }

    static void gz(Path file, byte[] bytes) throws IOException {
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(file))) {
            o.write(bytes);
        }
    }

    @Test
    void readsRawAndGzipPixels() throws IOException {
        Files.write(dir.resolve("imgs"), images(3, 2, 2));
        gz(dir.resolve("labels.gz"), labels(0, 2, 1));
        Idx.Labelled d = Idx.load(dir.resolve("imgs"), dir.resolve("labels.gz"));
        assertEquals(4, d.featureCount());
        assertArrayEquals(new int[]{0, 2, 1}, d.labels());
        assertEquals(12, d.features().length);
        assertEquals(7f, d.features()[1], 0, "raw pixel values: Data applies the normalization");
        assertEquals(Idx.find(dir, "labels"), dir.resolve("labels.gz"));
    }

    @Test
    void wrongMagic() {
        byte[] b = labels(1, 2);
        b[2] = 0x0D;   // float data type instead of ubyte
        CliException e = assertThrows(CliException.class, () -> Idx.parse("x.idx", b, 1));
        assertTrue(e.getMessage().contains("x.idx") && e.getMessage().contains("magic"), e.getMessage());
        assertThrows(CliException.class, () -> Idx.parse("x.idx", images(1, 2, 2), 1));
    }

    @Test
    void truncatedAndTrailing() {
        byte[] full = images(4, 3, 3);
        CliException e = assertThrows(CliException.class,
                () -> Idx.parse("t.idx", java.util.Arrays.copyOf(full, full.length - 5), 3));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(CliException.class, () -> Idx.parse("t.idx", java.util.Arrays.copyOf(full, 10), 3));
        assertThrows(CliException.class, () -> Idx.parse("t.idx", java.util.Arrays.copyOf(full, full.length + 3), 3));
    }

    @Test
    void truncatedGzip() throws IOException {
        Path f = dir.resolve("l.gz");
        gz(f, labels(new int[5000]));
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length / 2));
        CliException e = assertThrows(CliException.class, () -> Idx.read(f, 1));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void countMismatch() throws IOException {
        Files.write(dir.resolve("i"), images(3, 2, 2));
        Files.write(dir.resolve("l"), labels(1, 2));
        CliException e = assertThrows(CliException.class, () -> Idx.load(dir.resolve("i"), dir.resolve("l")));
        assertTrue(e.getMessage().contains("3 images") && e.getMessage().contains("2 labels"), e.getMessage());
    }

    @Test
    void missingDirectoryAndFiles() {
        CliException e = assertThrows(CliException.class, () -> Data.idx(dir.resolve("nope"), Data.Use.TRAINING, Data.Recorded.NONE));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = assertThrows(CliException.class, () -> Data.idx(dir, Data.Use.TRAINING, Data.Recorded.NONE));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte"), e.getMessage());
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRejected() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64);
        b.putInt(0x00000803).putInt(Integer.MAX_VALUE).putInt(Integer.MAX_VALUE).putInt(Integer.MAX_VALUE);
        CliException e = assertThrows(CliException.class, () -> Idx.parse("o.idx", b.array(), 3));
        assertTrue(e.getMessage().contains("o.idx") && e.getMessage().contains("2147483647×2147483647"), e.getMessage());
    }
}
