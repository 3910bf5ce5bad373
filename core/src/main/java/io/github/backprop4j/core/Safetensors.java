package io.github.backprop4j.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The safetensors format (float32 only): an 8-byte little-endian header length N, N bytes of JSON
 * header ({@code "__metadata__"}: string → string, then one entry per tensor with dtype, shape and
 * data_offsets relative to the data section), then the raw little-endian data. Reading validates
 * everything and names the file and the problem in its exceptions.
 *
 * <p>Both directions stream in chunks of {@value #CHUNK_BYTES} bytes with 64-bit offsets: a file
 * may exceed 2 GiB (one tensor stays below 2^31 values); writing holds one tensor on the host at a
 * time, reading checks the tensors' total size against the heap before allocating any of them.
 */
final class Safetensors {

    /** Largest header accepted when reading. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** Bytes moved per read or write call. */
    static final int CHUNK_BYTES = 1 << 20;

    /**
     * Metadata key of the SHA-256 written with every file: over the other metadata, every tensor's
     * name, shape and offsets, and the data section (see {@link #digest}). Readers of other tools see
     * an ordinary string entry; {@link #read} verifies it when present.
     */
    static final String CHECKSUM_KEY = "sha256";

    // Strict: a second copy of a key, or anything but spaces after the header object, is corruption.
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A float32 tensor: shape and row-major data. */
    record Tensor(int[] shape, float[] data) {
        Tensor {
            if (count(shape) != data.length)
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                        + " values, data has " + data.length);
        }
    }

    /** A tensor to write: its shape now, its data when its turn comes (fetched one tensor at a time). */
    record Source(int[] shape, Supplier<float[]> data) {
    }

    /**
     * The contents of a file: metadata (insertion order, without the checksum entry), every tensor's
     * shape (file order), the data of the tensors that were asked for, and {@code verified} when the file
     * carried a checksum and it matched.
     */
    record Contents(Map<String, String> metadata, Map<String, int[]> shapes, Map<String, Tensor> tensors,
                           boolean verified) {
    }

    /** A file that is not a valid checkpoint: the message names it and the problem. */
    static final class Invalid extends IOException {
        Invalid(String message) {
            super(message);
        }

        Invalid(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private Safetensors() {
    }

    /** Refuses to allocate {@code bytes} of tensors the heap cannot hold: a message, not an OutOfMemoryError. */
    private static void requireHeap(long bytes, String where) throws Invalid {
        Runtime r = Runtime.getRuntime();
        for (int attempt = 0; attempt < 2; attempt++) {
            long free = r.maxMemory() - (r.totalMemory() - r.freeMemory());
            if (bytes <= free) return;
            if (attempt == 0) System.gc();   // rare: only when the estimate says no
            else throw new Invalid(where + "its tensors need " + (bytes >> 20) + " MiB of Java heap but only "
                    + (free >> 20) + " MiB of its " + (r.maxMemory() >> 20) + " MiB are free; give java a larger "
                    + "heap (-Xmx)");
        }
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** Writes the tensors in the given order, atomically (temp file, force, rename). */
    static void write(Path file, Map<String, String> metadata, Map<String, Tensor> tensors) throws IOException {
        Map<String, Source> sources = new LinkedHashMap<>();
        tensors.forEach((name, t) -> sources.put(name, new Source(t.shape(), t::data)));
        writeStreaming(file, metadata, sources);
    }

    /**
     * Writes the tensors in the given order, atomically, fetching each one's data only when it is
     * written. The checksum covers the data, which is written after the header: the header is written
     * last, into the room its final length (known in advance: the checksum's hex length is fixed) left.
     */
    static void writeStreaming(Path file, Map<String, String> metadata, Map<String, Source> tensors)
            throws IOException {
        if (metadata.containsKey(CHECKSUM_KEY))
            throw new IllegalArgumentException("metadata key '" + CHECKSUM_KEY + "' is reserved for the checksum");
        long offset = 0;
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Source> e : tensors.entrySet()) {
            if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("reserved tensor name");
            long size = 4 * count(e.getValue().shape());
            entries.add(new Entry(e.getKey(), e.getValue().shape(), offset, offset + size));
            offset += size;
        }
        String placeholder = "0".repeat(64);
        int headerBytes = header(metadata, entries, placeholder).length;
        long padded = (headerBytes + 7) / 8 * 8;   // the spec allows trailing spaces; keeps the data 8-byte aligned
        AtomicFiles.write(file, ch -> {
            MessageDigest sha = sha256();
            digestLayout(sha, metadata, entries);
            ch.position(8 + padded);
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                float[] data = tensors.get(e.name()).data().get();
                if (data.length != count(e.shape()))
                    throw new IllegalStateException("tensor " + e.name() + ": " + data.length + " values for shape "
                            + Arrays.toString(e.shape()));
                for (int at = 0; at < data.length; ) {
                    int n = Math.min(data.length - at, CHUNK_BYTES / 4);
                    chunk.clear();
                    chunk.asFloatBuffer().put(data, at, n);
                    chunk.limit(4 * n);
                    sha.update(chunk.duplicate());
                    while (chunk.hasRemaining()) ch.write(chunk);
                    at += n;
                }
            }
            byte[] json = header(metadata, entries, HexFormat.of().formatHex(sha.digest()));
            if (json.length != headerBytes) throw new IllegalStateException("header length changed with the checksum");
            ByteBuffer head = ByteBuffer.allocate((int) (8 + padded)).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(padded).put(json);
            while (head.hasRemaining()) head.put((byte) ' ');
            head.flip();
            ch.position(0);
            while (head.hasRemaining()) ch.write(head);
        });
    }

    private static byte[] header(Map<String, String> metadata, List<Entry> entries, String checksum)
            throws JsonProcessingException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        meta.put(CHECKSUM_KEY, checksum);
        for (Entry e : entries) {
            ObjectNode t = header.putObject(e.name());
            t.put("dtype", "F32");
            ArrayNode shape = t.putArray("shape");
            for (int d : e.shape()) shape.add(d);
            t.putArray("data_offsets").add(e.begin()).add(e.end());
        }
        return JSON.writeValueAsBytes(header);
    }

    /** Reads and validates a file, keeping every tensor's data; every problem is a {@link CliException} naming the file. */
    static Contents read(Path file) throws IOException {
        return read(file, name -> true);
    }

    /**
     * Reads and validates a file (the checksum over all of it), keeping the data of the tensors
     * {@code keep} accepts; the others are read for the checksum only.
     */
    static Contents read(Path file, Predicate<String> keep) throws IOException {
        String where = "checkpoint " + file + ": ";
        if (Files.isDirectory(file)) throw new Invalid(where + "is a directory");
        if (Files.exists(file) && !Files.isRegularFile(file))   // a FIFO would block the open, a device never end
            throw new Invalid(where + "is not a regular file (a device or a pipe)");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return parse(where, new Input() {
                @Override
                public long size() throws IOException {
                    return ch.size();
                }

                @Override
                public void read(long position, ByteBuffer dst) throws IOException {
                    while (dst.hasRemaining()) {
                        int n = ch.read(dst, position);
                        if (n < 0) throw new EOFException("the file ended early (did it shrink while being read?)");
                        position += n;
                    }
                }
            }, keep);
        } catch (Invalid e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "the checkpoint does not exist");
        } catch (IOException e) {
            throw new IOException(where + "cannot read: " + AtomicFiles.reason(e, null), e);
        }
    }

    /** Parses a whole file held in memory (tests, fuzzing). */
    static Contents parse(String name, byte[] bytes) throws Invalid {
        try {
            return parse("checkpoint " + name + ": ", new Input() {
                @Override
                public long size() {
                    return bytes.length;
                }

                @Override
                public void read(long position, ByteBuffer dst) {
                    dst.put(bytes, (int) position, dst.remaining());
                }
            }, n -> true);
        } catch (Invalid e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }

    /** Positional reads of a file or a byte array. */
    private interface Input {
        long size() throws IOException;

        void read(long position, ByteBuffer dst) throws IOException;
    }

    private static Contents parse(String where, Input in, Predicate<String> keep) throws IOException {
        long fileSize = in.size();
        if (fileSize < 8)
            throw new Invalid(where + "file is " + fileSize + " bytes, too short for a safetensors header "
                    + "(truncated?)");
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        in.read(0, lengthBytes);
        long n = lengthBytes.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES || n > fileSize - 8L)
            throw new Invalid(where + "header length " + Long.toUnsignedString(n) + " is impossible for a file of "
                    + fileSize + " bytes (truncated or not a safetensors file)");
        ByteBuffer headerBytes = ByteBuffer.allocate((int) n);
        in.read(8, headerBytes);
        JsonNode header;
        try {
            header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new Invalid(where + "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (header == null || !header.isObject())
            throw new Invalid(where + "header is not a JSON object");
        long dataStart = 8 + n;
        long dataLength = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode v = f.getValue();
            if (f.getKey().equals("__metadata__")) {
                if (!v.isObject()) throw new Invalid(where + "__metadata__ is not a JSON object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual())
                        throw new Invalid(where + "metadata value '" + kv.getKey() + "' is not a string");
                    metadata.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            entries.add(entry(where, f.getKey(), v, dataLength));
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort((a, b) -> Long.compare(a.begin, b.begin));
        long expected = 0, kept = 0;
        for (Entry e : sorted) {
            if (e.begin < expected)
                throw new Invalid(where + "tensor " + e.name + " overlaps the tensor before it (data_offsets ["
                        + e.begin + ", " + e.end + "])");
            if (e.begin > expected)
                throw new Invalid(where + "gap in the data section before tensor " + e.name);
            expected = e.end;
            if (keep.test(e.name)) kept += e.end - e.begin;
        }
        if (expected != dataLength)
            throw new Invalid(where + "data section is " + dataLength + " bytes but the tensors cover "
                    + expected + " (truncated or trailing bytes)");
        requireHeap(kept, where);
        String recorded = metadata.remove(CHECKSUM_KEY);
        MessageDigest sha = sha256();
        digestLayout(sha, metadata, entries);
        Map<String, float[]> data = new LinkedHashMap<>();
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(dataLength, 4)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : sorted) {
            float[] values = keep.test(e.name) ? new float[(int) ((e.end - e.begin) / 4)] : null;
            for (long at = e.begin; at < e.end; ) {
                int len = (int) Math.min(chunk.capacity() / 4 * 4, e.end - at);
                chunk.clear().limit(len);
                in.read(dataStart + at, chunk);
                chunk.flip();
                sha.update(chunk.duplicate());
                if (values != null) chunk.asFloatBuffer().get(values, (int) ((at - e.begin) / 4), len / 4);
                at += len;
            }
            if (values != null) data.put(e.name, values);
        }
        if (recorded != null) {
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!recorded.equals(actual))
                throw new Invalid(where + "checksum mismatch: the header records sha256 " + abbreviate(recorded)
                        + " but the contents hash to " + abbreviate(actual) + " (the file is corrupted)");
        }
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            shapes.put(e.name, e.shape);
            if (data.containsKey(e.name)) tensors.put(e.name, new Tensor(e.shape, data.get(e.name)));
        }
        return new Contents(metadata, shapes, tensors, recorded != null);
    }

    /** One tensor's header entry, validated against the data section's length. */
    private static Entry entry(String where, String name, JsonNode v, long dataLength) throws Invalid {
        String t = "tensor " + name;
        if (!v.isObject()) throw new Invalid(where + t + " is not a JSON object");
        JsonNode dtype = v.get("dtype");
        if (dtype == null || !dtype.isTextual())
            throw new Invalid(where + t + " has no dtype");
        if (!dtype.asText().equals("F32"))
            throw new Invalid(where + t + " has dtype " + dtype.asText() + ", only F32 is supported");
        JsonNode shapeNode = v.get("shape");
        if (shapeNode == null || !shapeNode.isArray())
            throw new Invalid(where + t + " has no shape array");
        int[] shape = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToInt() || !d.isIntegralNumber() || d.asInt() < 0)
                throw new Invalid(where + t + " has a bad shape " + shapeNode);
            shape[i] = d.asInt();
            count *= shape[i];
            if (count > Dataset.MAX_ARRAY_LENGTH)
                throw new Invalid(where + t + " is too large: " + shapeNode);
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong())
            throw new Invalid(where + t + " has no data_offsets [begin, end]");
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin)
            throw new Invalid(where + t + " has bad data_offsets " + off);
        if (end > dataLength)
            throw new Invalid(where + t + " has data_offsets " + off + " beyond the data section of "
                    + dataLength + " bytes (truncated?)");
        if (count * 4 != end - begin)
            throw new Invalid(where + t + " has shape " + shapeNode + " (" + count * 4
                    + " bytes of F32) but data_offsets " + off + " span " + (end - begin) + " bytes");
        return new Entry(name, shape, begin, end);
    }

    private record Entry(String name, int[] shape, long begin, long end) {
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * The checksum is SHA-256 (hex) over the metadata (key and value, in order, checksum excluded),
     * each tensor's name, shape and offsets (this part), then the data section: every bit a reader
     * uses, in a form independent of how the JSON header happens to be spelled (spacing, key quoting).
     */
    private static void digestLayout(MessageDigest sha, Map<String, String> metadata, List<Entry> entries) {
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
