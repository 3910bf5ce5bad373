package io.github.backprop4j.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors reader and writer under checkpoints: round trips, chunking past 2 GiB, and what it refuses. */
class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void roundTrip() throws IOException {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("layer0.weight", new Safetensors.Tensor(new int[]{2, 3}, new float[]{1, -2, 3.5f, Float.MIN_VALUE, 5, 6}));
        t.put("layer0.bias", new Safetensors.Tensor(new int[]{3}, new float[]{0.1f, 0.2f, -0.3f}));
        Path f = dir.resolve("a.safetensors");
        Safetensors.write(f, Map.of("k", "{\"json\": [1,2]}"), t);
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        assertEquals(8 + n + 36, bytes.length);
        assertEquals(1f, ByteBuffer.wrap(bytes, (int) (8 + n), 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals("{\"json\": [1,2]}", c.metadata().get("k"));
        assertArrayEquals(new int[]{2, 3}, c.tensors().get("layer0.weight").shape());
        assertArrayEquals(t.get("layer0.weight").data(), c.tensors().get("layer0.weight").data());
        assertArrayEquals(t.get("layer0.bias").data(), c.tensors().get("layer0.bias").data());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp files left behind");
        }
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    static String reject(byte[] bytes) {
        Safetensors.Invalid e = assertThrows(Safetensors.Invalid.class, () -> Safetensors.parse("x.safetensors", bytes));
        assertTrue(e.getMessage().startsWith("checkpoint x.safetensors: "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void rejectsTruncatedFile() throws IOException {
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("w", new Safetensors.Tensor(new int[]{4, 4}, new float[16]));
        Path f = dir.resolve("b.safetensors");
        Safetensors.write(f, Map.of(), t);
        byte[] full = Files.readAllBytes(f);
        assertTrue(reject(Arrays.copyOf(full, full.length - 4)).contains("beyond the data section"));
        assertTrue(reject(Arrays.copyOf(full, 5)).contains("too short"));
        assertTrue(reject(Arrays.copyOf(full, 20)).contains("header length"));
        assertTrue(reject(Arrays.copyOf(full, full.length + 4)).contains("trailing"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> Safetensors.read(dir.resolve("missing.safetensors")));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    @Test
    void rejectsHugeHeaderLength() {
        byte[] b = file("{}", 0);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, Long.MAX_VALUE);
        assertTrue(reject(b).contains("header length"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1);
        assertTrue(reject(b).contains("header length"));
    }

    @Test
    void rejectsBadJson() {
        assertTrue(reject(file("{\"a\": [1, 2", 0)).contains("not valid JSON"));
        assertTrue(reject(file("[1, 2, 3]", 0)).contains("not a JSON object"));
        assertTrue(reject(file("{\"__metadata__\": {\"k\": 3}}", 0)).contains("not a string"));
    }

    @Test
    void rejectsWrongDtype() {
        String m = reject(file("{\"w\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4));
        assertTrue(m.contains("tensor w has dtype F16"), m);
    }

    @Test
    void rejectsOffsetsOutOfRangeOrOverlapping() {
        String m = reject(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4));
        assertTrue(m.contains("tensor w has data_offsets [0,8] beyond the data section of 4 bytes"), m);
        m = reject(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8));
        assertTrue(m.contains("bad data_offsets"), m);
        m = reject(file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                + "\"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12));
        assertTrue(m.contains("overlaps"), m);
    }

    @Test
    void rejectsShapeMismatch() {
        String m = reject(file("{\"w\": {\"dtype\": \"F32\", \"shape\": [3, 2], \"data_offsets\": [0, 16]}}", 16));
        assertTrue(m.contains("tensor w has shape [3,2]") && m.contains("span 16 bytes"), m);
    }

    /**
     * Tensors spanning several read and write chunks (1 MiB) and a file-order different from the header's
     * order come back bit for bit; only the tensors asked for are kept, the rest is still checksummed.
     */
    @Test
    void multiChunkTensorsRoundTripAndCanBeLeftOut() throws IOException {
        Random r = new Random(5);
        float[] big = new float[3 * (Safetensors.CHUNK_BYTES / 4 + 4115)];
        for (int i = 0; i < big.length; i++) big[i] = (float) r.nextGaussian();
        float[] odd = new float[7];
        Arrays.fill(odd, 0.25f);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        t.put("a", new Safetensors.Tensor(new int[]{3, big.length / 3}, big));
        t.put("b.opt0", new Safetensors.Tensor(new int[]{7}, odd));
        Path f = dir.resolve("chunks.safetensors");
        Safetensors.write(f, Map.of(), t);
        Safetensors.Contents all = Safetensors.read(f);
        assertArrayEquals(big, all.tensors().get("a").data());
        assertArrayEquals(odd, all.tensors().get("b.opt0").data());
        Safetensors.Contents some = Safetensors.read(f, name -> !name.contains(".opt"));
        assertEquals(Set.of("a", "b.opt0"), some.shapes().keySet());
        assertEquals(Set.of("a"), some.tensors().keySet());
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length - 2] ^= 1;   // a bit of the left-out tensor
        Files.write(f, bytes);
        assertTrue(assertThrows(Safetensors.Invalid.class, () -> Safetensors.read(f, name -> name.equals("a"))).getMessage()
                .contains("checksum mismatch"));
    }

    /**
     * A checkpoint over 2 GiB (offsets past 2^31) writes and reads back. About 2.1 GiB of disk and
     * 4.5 GiB of heap, ~30 s: run on demand with -Dbackprop4j.test.bigCheckpoint=true.
     */
    @Test
    @EnabledIfSystemProperty(named = "backprop4j.test.bigCheckpoint", matches = "true")
    void checkpointOverTwoGibibytes() throws IOException {
        int count = 180_000_000;   // 720 MB per tensor, three of them
        Map<String, Safetensors.Source> t = new LinkedHashMap<>();
        for (int k = 0; k < 3; k++) {
            int fill = k;
            t.put("t" + k, new Safetensors.Source(new int[]{count}, () -> {
                float[] v = new float[count];
                for (int i = 0; i < v.length; i += 4096) v[i] = fill + i;
                return v;
            }));
        }
        Path f = dir.resolve("big.safetensors");
        long start = System.nanoTime();
        Safetensors.writeStreaming(f, Map.of("k", "v"), t);
        long written = System.nanoTime();
        assertTrue(Files.size(f) > (2L << 30), "size " + Files.size(f));
        Safetensors.Contents c = Safetensors.read(f, name -> name.equals("t2"));
        long read = System.nanoTime();
        assertTrue(c.verified());
        float[] last = c.tensors().get("t2").data();
        assertEquals(2f + 4096 * 43000, last[4096 * 43000]);
        System.out.printf("%.2f GiB checkpoint: written in %.1f s, verified and read in %.1f s%n",
                Files.size(f) / (double) (1L << 30), (written - start) / 1e9, (read - written) / 1e9);
        Files.delete(f);
    }
}
