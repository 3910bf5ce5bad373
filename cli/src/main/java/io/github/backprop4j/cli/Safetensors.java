package io.github.backprop4j.cli;

import io.github.backprop4j.core.AtomicFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (float32 only): an 8-byte little-endian header length N, N bytes of JSON
 * header ({@code "__metadata__"}: string → string, then one entry per tensor with dtype, shape and
 * data_offsets relative to the data section), then the raw little-endian data. Reading validates
 * everything and names the file and the problem in its exceptions.
 */
public final class Safetensors {

    /** Largest header accepted when reading. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /**
     * Metadata key of the SHA-256 written with every file: over the other metadata, every tensor's
     * name, shape and offsets, and the data section (see {@link #digest}). Readers of other tools see
     * an ordinary string entry; {@link #read} verifies it when present.
     */
    public static final String CHECKSUM_KEY = "sha256";

    // Strict: a second copy of a key, or anything but spaces after the header object, is corruption.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A float32 tensor: shape and row-major data. */
    public record Tensor(int[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (int d : shape) n *= d;
            if (n != data.length)
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n
                        + " values, data has " + data.length);
        }
    }

    /**
     * The contents of a file: metadata (insertion order, without the checksum entry) and tensors
     * (file order); {@code verified} when the file carried a checksum and it matched.
     */
    public record Contents(Map<String, String> metadata, Map<String, Tensor> tensors, boolean verified) {
    }

    private Safetensors() {
    }

    /** Writes the tensors in the given order, atomically (temp file, force, rename). */
    public static void write(Path file, Map<String, String> metadata, Map<String, Tensor> tensors) throws IOException {
        if (metadata.containsKey(CHECKSUM_KEY))
            throw new IllegalArgumentException("metadata key '" + CHECKSUM_KEY + "' is reserved for the checksum");
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("reserved tensor name");
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            ArrayNode shape = t.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long size = 4L * e.getValue().data().length;
            t.putArray("data_offsets").add(offset).add(offset + size);
            entries.add(new Entry(e.getKey(), e.getValue().shape(), offset, offset + size));
            offset += size;
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(offset)).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors.values()) {
            data.asFloatBuffer().put(t.data());   // the view starts at data's position: advance it by hand
            data.position(data.position() + 4 * t.data().length);
        }
        data.flip();
        meta.put(CHECKSUM_KEY, digest(metadata, entries, data.duplicate()));
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;   // the spec allows trailing spaces; keeps the data 8-byte aligned
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, head, data);
    }

    /** Reads and validates a file; every problem is a {@link CliException} naming the file. */
    public static Contents read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CliException("checkpoint " + file + " does not exist");
        } catch (IOException e) {
            throw new CliException("checkpoint " + file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), bytes);
    }

    static Contents parse(String name, byte[] bytes) {
        String where = "checkpoint " + name + ": ";
        if (bytes.length < 8)
            throw new CliException(where + "file is " + bytes.length + " bytes, too short for a safetensors header "
                    + "(truncated?)");
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES || n > bytes.length - 8L)
            throw new CliException(where + "header length " + Long.toUnsignedString(n) + " is impossible for a file of "
                    + bytes.length + " bytes (truncated or not a safetensors file)");
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new CliException(where + "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject())
            throw new CliException(where + "header is not a JSON object");
        long dataStart = 8 + n;
        long dataLength = bytes.length - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (f.getKey().equals("__metadata__")) {
                if (!v.isObject()) throw new CliException(where + "__metadata__ is not a JSON object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual())
                        throw new CliException(where + "metadata value '" + kv.getKey() + "' is not a string");
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            String t = "tensor " + f.getKey();
            if (!v.isObject()) throw new CliException(where + t + " is not a JSON object");
            JsonNode dtype = v.get("dtype");
            if (dtype == null || !dtype.isTextual())
                throw new CliException(where + t + " has no dtype");
            if (!dtype.asText().equals("F32"))
                throw new CliException(where + t + " has dtype " + dtype.asText() + ", only F32 is supported");
            JsonNode shapeNode = v.get("shape");
            if (shapeNode == null || !shapeNode.isArray())
                throw new CliException(where + t + " has no shape array");
            int[] shape = new int[shapeNode.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToInt() || !d.isIntegralNumber() || d.asInt() < 0)
                    throw new CliException(where + t + " has a bad shape " + shapeNode);
                shape[i] = d.asInt();
                count *= shape[i];
                if (count > Integer.MAX_VALUE) throw new CliException(where + t + " is too large: " + shapeNode);
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                    || !off.get(1).isIntegralNumber())
                throw new CliException(where + t + " has no data_offsets [begin, end]");
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin)
                throw new CliException(where + t + " has bad data_offsets " + off);
            if (end > dataLength)
                throw new CliException(where + t + " has data_offsets " + off + " beyond the data section of "
                        + dataLength + " bytes (truncated?)");
            if (count * 4 != end - begin)
                throw new CliException(where + t + " has shape " + shapeNode + " (" + count * 4
                        + " bytes of F32) but data_offsets " + off + " span " + (end - begin) + " bytes");
            entries.add(new Entry(f.getKey(), shape, begin, end));
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.begin, b.begin));
        long expected = 0;
        for (Entry e : sorted) {
            if (e.begin < expected)
                throw new CliException(where + "tensor " + e.name + " overlaps the tensor before it (data_offsets ["
                        + e.begin + ", " + e.end + "])");
            if (e.begin > expected)
                throw new CliException(where + "gap in the data section before tensor " + e.name);
            expected = e.end;
        }
        if (expected != dataLength)
            throw new CliException(where + "data section is " + dataLength + " bytes but the tensors cover "
                    + expected + " (truncated or trailing bytes)");
        String recorded = metadata.remove(CHECKSUM_KEY);
        if (recorded != null) {
            String actual = digest(metadata, entries, ByteBuffer.wrap(bytes, (int) dataStart, (int) dataLength).slice());
            if (!recorded.equals(actual))
                throw new CliException(where + "checksum mismatch: the header records sha256 " + abbreviate(recorded)
                        + " but the contents hash to " + abbreviate(actual) + " (the file is corrupted)");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            float[] data = new float[(int) ((e.end - e.begin) / 4)];
            ByteBuffer slice = ByteBuffer.wrap(bytes, (int) (dataStart + e.begin), (int) (e.end - e.begin))
                    .slice().order(ByteOrder.LITTLE_ENDIAN);
            slice.asFloatBuffer().get(data);
            tensors.put(e.name, new Tensor(e.shape, data));
        }
        return new Contents(metadata, tensors, recorded != null);
    }

    private record Entry(String name, int[] shape, long begin, long end) {
    }

    /**
     * SHA-256 (hex) over the metadata (key and value, in order, checksum excluded), each tensor's name,
     * shape and offsets, and the data section: every bit a reader uses, in a form independent of how the
     * JSON header happens to be spelled (spacing, key quoting).
     */
    private static String digest(Map<String, String> metadata, List<Entry> entries, ByteBuffer data) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        ByteBuffer scratch = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            text(sha, m.getKey());
            text(sha, m.getValue());
        }
        for (Entry e : entries) {
            text(sha, e.name());
            scratch.clear().putInt(e.shape().length).flip();
            sha.update(scratch);
            for (int d : e.shape()) {
                scratch.clear().putInt(d).flip();
                sha.update(scratch);
            }
            scratch.clear().putLong(e.begin()).putLong(e.end()).flip();
            sha.update(scratch);
        }
        sha.update(data);
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Length-prefixed, so that no two different sequences of strings hash the same bytes. */
    private static void text(MessageDigest sha, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        sha.update(b);
    }

    private static String abbreviate(String hash) {
        return hash.length() > 16 ? hash.substring(0, 16) + "…" : hash;
    }
}
