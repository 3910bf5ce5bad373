package io.github.backprop4j.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed: a big-endian magic
 * 0x0000 TT DD (TT = 0x08 for unsigned bytes, DD = number of dimensions), DD big-endian int32 sizes,
 * then the data. Only unsigned-byte files are supported.
 *
 * <p>Reads are bounded by the header: its sizes are checked against the file (raw: exactly; gzip:
 * against what deflate can expand the compressed bytes to) and against the heap before anything is
 * allocated, exactly the promised number of bytes is read, and a gzip stream that would decompress to
 * more is an error after one byte too many, not a gzip bomb.
 */
public final class Idx {

    /** Deflate expands at most ~1032:1, so a gzip file of n bytes holds at most this many times n. */
    static final long MAX_GZIP_RATIO = 1032;

    /** An unsigned-byte IDX array: its dimensions and its values (0..255). */
    public record Array(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        /** Values per item (product of the dimensions after the first; fits an int, checked when read). */
        public int itemSize() {
            long s = 1;
            for (int i = 1; i < dims.length; i++) s *= dims[i];
            return (int) s;
        }
    }

    private Idx() {
    }

    /** Reads {@code file}, gunzipping when its name ends in .gz; {@code dimensions} is the expected rank. */
    public static Array read(Path file, int dimensions) {
        boolean gzip = file.getFileName().toString().endsWith(".gz");
        try (InputStream raw = Files.newInputStream(file)) {
            long size = Files.size(file);
            InputStream in = gzip ? new GZIPInputStream(new BufferedInputStream(raw, 1 << 16), 1 << 16)
                    : new BufferedInputStream(raw, 1 << 16);
            return parse(file.toString(), in, dimensions, gzip ? -1 : size, gzip ? size : -1);
        } catch (EOFException e) {
            throw new CliException(file + ": " + (gzip ? "gzip stream is truncated" : "file is truncated"), e);
        } catch (ZipException e) {
            throw new CliException(file + ": not a valid gzip file (" + Errors.describe(e) + ")", e);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CliException(file + ": no such file");
        } catch (IOException e) {
            throw new CliException(file + ": cannot read: " + Errors.describe(e), e);
        }
    }

    /** Parses a whole IDX file held in memory. */
    static Array parse(String name, byte[] bytes, int dimensions) {
        try {
            return parse(name, new ByteArrayInputStream(bytes), dimensions, bytes.length, -1);
        } catch (IOException e) {
            throw new IllegalStateException("reading a byte array cannot fail", e);
        }
    }

    /**
     * {@code rawSize}: the exact size of an uncompressed file, or −1; {@code compressedSize}: the size
     * of a gzip file the stream decompresses, or −1.
     */
    private static Array parse(String name, InputStream in, int dimensions, long rawSize, long compressedSize)
            throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length < 4)
            throw new CliException(name + ": " + head.length + " bytes is too short for an IDX header");
        int magic = ByteBuffer.wrap(head).getInt();
        int type = (magic >>> 8) & 0xff, rank = magic & 0xff;
        if ((magic >>> 16) != 0 || type != 0x08 || rank != dimensions)
            throw new CliException(String.format("%s: bad IDX magic 0x%08X, expected 0x%08X (unsigned bytes, %d dimensions)",
                    name, magic, 0x0800 | dimensions, dimensions));
        byte[] sizes = in.readNBytes(4 * rank);
        if (sizes.length < 4 * rank)
            throw new CliException(name + ": truncated IDX header (" + (4 + sizes.length) + " bytes)");
        ByteBuffer b = ByteBuffer.wrap(sizes);
        int[] dims = new int[rank];
        long total = 1;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < rank; i++) {
            dims[i] = b.getInt();
            text.append(i == 0 ? "" : "×").append(Integer.toUnsignedString(dims[i]));
        }
        for (int i = 0; i < rank; i++) {
            if (dims[i] < 0) throw new CliException(name + ": IDX dimension " + Integer.toUnsignedString(dims[i])
                    + " is beyond 2^31 (header " + text + ")");
            total = Math.multiplyHigh(total, dims[i]) != 0 ? Long.MAX_VALUE : total * dims[i];
            if (total < 0) total = Long.MAX_VALUE;
        }
        long expected = 4 + 4L * rank + total;
        if (rawSize >= 0 && rawSize < expected)
            throw new CliException(name + ": truncated: header dimensions " + text + " promise " + total + " values ("
                    + expected + " bytes) but the file has " + rawSize + " bytes");
        if (rawSize > expected)
            throw new CliException(name + ": " + (rawSize - expected) + " unexpected bytes after the " + total
                    + " values the header promises (" + text + ")");
        if (compressedSize >= 0 && total > compressedSize * MAX_GZIP_RATIO)
            throw new CliException(name + ": header dimensions " + text + " promise " + total + " values, more than a "
                    + compressedSize + "-byte gzip file can hold (corrupt header)");
        if (total > io.github.backprop4j.core.Dataset.MAX_ARRAY_LENGTH)
            throw new CliException(name + ": header dimensions " + text + " promise " + total + " values; at most "
                    + io.github.backprop4j.core.Dataset.MAX_ARRAY_LENGTH + " fit one data set");
        HostMemory.require(5 * total, name + " (" + text + ")");   // the bytes, then their floats
        byte[] data = in.readNBytes((int) total);
        if (data.length < total)
            throw new CliException(name + ": truncated: header dimensions " + text + " promise " + total
                    + " values but only " + data.length + " follow");
        if (in.read() != -1)
            throw new CliException(name + ": the data goes on past the " + total + " values the header promises ("
                    + text + ")" + (compressedSize >= 0 ? " once decompressed" : ""));
        return new Array(dims, data);
    }

    /** Raw pixel values (0..255, not yet normalized) and their labels; the counts must match. */
    public record Labelled(float[] features, int featureCount, int[] labels) {
    }

    /** Pairs an images file with a labels file. */
    public static Labelled load(Path images, Path labels) {
        Array im = read(images, 3);
        Array lb = read(labels, 1);
        if (im.count() != lb.count())
            throw new CliException(images + " holds " + im.count() + " images but " + labels + " holds "
                    + lb.count() + " labels");
        if (im.count() == 0) throw new CliException(images + ": holds no images");
        if (im.itemSize() == 0) throw new CliException(images + ": images of 0 pixels (header " + im.dims()[1] + "×"
                + im.dims()[2] + ")");
        float[] x = new float[im.data().length];
        for (int i = 0; i < x.length; i++) x[i] = im.data()[i] & 0xff;
        int[] y = new int[lb.count()];
        for (int i = 0; i < y.length; i++) y[i] = lb.data()[i] & 0xff;
        return new Labelled(x, im.itemSize(), y);
    }

    /** {@code dir/base} or {@code dir/base.gz}, whichever exists as a regular file. */
    public static Path find(Path dir, String base) {
        Path raw = dir.resolve(base), gz = dir.resolve(base + ".gz");
        if (Files.isRegularFile(raw)) return raw;
        if (Files.isRegularFile(gz)) return gz;
        for (Path p : new Path[] {raw, gz})
            if (Files.exists(p)) throw new CliException(p + " is not a regular file");
        throw new CliException("data directory " + dir + " has neither " + base + " nor " + base + ".gz");
    }
}
