package io.github.backprop4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        CliException e = assertThrows(CliException.class, () -> Safetensors.parse("x.safetensors", bytes));
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
        CliException e = assertThrows(CliException.class, () -> Safetensors.read(dir.resolve("missing.safetensors")));
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
}
