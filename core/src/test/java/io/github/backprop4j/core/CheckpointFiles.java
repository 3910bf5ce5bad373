package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Raw access to checkpoint files for tests of other modules (in core's test-jar): read every tensor
 * and metadata entry as stored, write a crafted file with a valid checksum, compare two files. The
 * library's own API ({@link Checkpoint}, {@link Model#save}) never writes an invalid checkpoint, so
 * tests that need one edit a good file through here.
 */
public final class CheckpointFiles {

    private CheckpointFiles() {
    }

    /**
     * A file's contents as stored.
     *
     * @param metadata every metadata entry but the checksum, in file order
     * @param shapes   every tensor's shape, in header order
     * @param tensors  every tensor's data
     */
    public record Contents(Map<String, String> metadata, Map<String, int[]> shapes, Map<String, float[]> tensors) {
    }

    /**
     * Reads and validates the safetensors layer (checksum included), not the checkpoint's meaning.
     *
     * @param file the file
     * @return its contents (the arrays are the test's to change)
     * @throws IOException if it is not a valid safetensors file
     */
    public static Contents read(Path file) throws IOException {
        Safetensors.Contents c = Safetensors.read(file);
        Map<String, float[]> data = new LinkedHashMap<>();
        c.tensors().forEach((name, t) -> data.put(name, t.data()));
        return new Contents(new LinkedHashMap<>(c.metadata()), new LinkedHashMap<>(c.shapes()), data);
    }

    /**
     * Writes {@code contents} as a safetensors file with a fresh, valid checksum, whatever the values.
     *
     * @param file     the file to write
     * @param contents metadata, shapes and data
     * @throws IOException if it cannot be written
     */
    public static void write(Path file, Contents contents) throws IOException {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        contents.tensors().forEach((name, v) -> tensors.put(name, new Safetensors.Tensor(contents.shapes().get(name), v)));
        Safetensors.write(file, contents.metadata(), tensors);
    }

    /**
     * Whether two files hold the same metadata and tensors, bit for bit.
     *
     * @param a one file's contents
     * @param b the other's
     * @return true when equal
     */
    public static boolean same(Contents a, Contents b) {
        if (!a.metadata().equals(b.metadata()) || !a.tensors().keySet().equals(b.tensors().keySet())) return false;
        for (String name : a.tensors().keySet())
            if (!Arrays.equals(a.shapes().get(name), b.shapes().get(name))
                    || !Arrays.equals(a.tensors().get(name), b.tensors().get(name))) return false;
        return true;
    }
}
