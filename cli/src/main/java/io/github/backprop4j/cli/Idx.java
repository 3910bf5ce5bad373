package io.github.backprop4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed: a big-endian magic
 * 0x0000 TT DD (TT = 0x08 for unsigned bytes, DD = number of dimensions), DD big-endian int32 sizes,
 * then the data. Only unsigned-byte files are supported.
 */
public final class Idx {

    /** An unsigned-byte IDX array: its dimensions and its values (0..255). */
    public record Array(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Values per item (product of the dimensions after the first). */
        public int itemSize() {
            int s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return s;
        }
    }

    private Idx() {
    }

    /** Reads {@code file}, gunzipping when its name ends in .gz; {@code dimensions} is the expected rank. */
    public static Array read(Path file, int dimensions) {
        byte[] bytes;
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            bytes = in.readAllBytes();
        } catch (java.io.EOFException e) {
            throw new CliException(file + ": gzip stream is truncated", e);
        } catch (IOException e) {
            throw new CliException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(file.toString(), bytes, dimensions);
    }

    static Array parse(String name, byte[] bytes, int dimensions) {
        if (bytes.length < 4)
            throw new CliException(name + ": " + bytes.length + " bytes is too short for an IDX header");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        int magic = b.getInt();
        int type = (magic >>> 8) & 0xff, rank = magic & 0xff;
        if ((magic >>> 16) != 0 || type != 0x08 || rank != dimensions)
            throw new CliException(String.format("%s: bad IDX magic 0x%08X, expected 0x%08X (unsigned bytes, %d dimensions)",
                    name, magic, 0x0800 | dimensions, dimensions));
        if (bytes.length < 4 + 4 * rank)
            throw new CliException(name + ": truncated IDX header (" + bytes.length + " bytes)");
        int[] dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = b.getInt();
            if (dims[i] < 0) throw new CliException(name + ": negative IDX dimension " + dims[i]);
            total *= dims[i];
            // stop before the product can overflow: no file this size could hold it anyway
            if (total > bytes.length)
                throw new CliException(name + ": truncated: header dimensions " + dimsText(b, rank)
                        + " promise more values than the file's " + bytes.length + " bytes");
        }
        long expected = 4 + 4L * rank + total;
        if (bytes.length < expected)
            throw new CliException(name + ": truncated: header promises " + total + " values (" + expected
                    + " bytes) but the file has " + bytes.length + " bytes");
        if (bytes.length > expected)
            throw new CliException(name + ": " + (bytes.length - expected) + " unexpected bytes after the "
                    + total + " values the header promises");
        byte[] data = new byte[(int) total];
        b.get(data);
        return new Array(dims, data);
    }

    private static String dimsText(ByteBuffer b, int rank) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < rank; i++) sb.append(i == 0 ? "" : "×").append(Integer.toUnsignedString(b.getInt(4 + 4 * i)));
        return sb.toString();
    }

    /** Images scaled to [0, 1] and their labels; the counts must match. */
    public record Labelled(float[] features, int featureCount, int[] labels) {
    }

    /** Pairs an images file with a labels file. */
    public static Labelled load(Path images, Path labels) {
        Array im = read(images, 3);
        Array lb = read(labels, 1);
        if (im.count() != lb.count())
            throw new CliException(images + " holds " + im.count() + " images but " + labels + " holds "
                    + lb.count() + " labels");
        int size = im.itemSize();
        float[] x = new float[im.data().length];
        for (int i = 0; i < x.length; i++) x[i] = (im.data()[i] & 0xff) / 255f;
        int[] y = new int[lb.count()];
        for (int i = 0; i < y.length; i++) y[i] = lb.data()[i] & 0xff;
        return new Labelled(x, size, y);
    }

    /** {@code dir/base} or {@code dir/base.gz}, whichever exists. */
    public static Path find(Path dir, String base) {
        Path raw = dir.resolve(base), gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(raw)) return raw;
        if (Files.isRegularFile(gz)) return gz;
        throw new CliException("data directory " + dir + " has neither " + base + " nor " + base + ".gz");
    }
}
