package io.github.backprop4j.cuda;

import io.github.backprop4j.core.BackendException;
import jcuda.driver.CUevent;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Host↔device copies through a ring of a few fixed-size pinned (page-locked) chunks, each guarded by
 * the event of the last copy that used it. A transfer of any size walks the ring chunk by chunk, so
 * the pinned memory held never exceeds {@code SLOTS × chunkBytes} whatever the transfer size, and
 * the host fills (or drains) one chunk while the copy engine moves another.
 *
 * <p>An upload returns once every chunk of the caller's array has been copied into pinned memory and
 * its copy enqueued: the caller may reuse the array at once, while the device copies go on. A
 * download returns once every chunk has arrived and been copied out.
 */
final class PinnedStaging implements AutoCloseable {

    /** 4 MiB: long enough to keep the copy engine busy, short enough to overlap host and device work. */
    static final long DEFAULT_CHUNK_BYTES = 4L << 20;
    static final int SLOTS = 4;
    private static final int CU_EVENT_DISABLE_TIMING = 2;

    private final CudaDriver driver;
    private final CudaDriver.Stream stream;
    private final long chunkBytes;
    private final Slot[] slots = new Slot[SLOTS];
    private int next;

    /** One pinned chunk and the event of the last copy that used it. */
    private static final class Slot {
        long host;
        MemorySegment memory;
        final CUevent done = new CUevent();
        /** The last copy through this chunk is enqueued but its event is not recorded: wait for the stream. */
        boolean unguarded;
        /** A download chunk still to be copied out of this slot: dst[index .. index + floats). */
        float[] pendingDst;
        int pendingIndex;
        int pendingFloats;
    }

    PinnedStaging(CudaDriver driver, CudaDriver.Stream stream, long chunkBytes) {
        if (chunkBytes <= 0 || chunkBytes % Float.BYTES != 0)
            throw new IllegalArgumentException("staging chunk of " + chunkBytes + " bytes: must be a positive multiple of 4");
        this.driver = driver;
        this.stream = stream;
        this.chunkBytes = chunkBytes;
    }

    /** Pinned host memory held now (lazily allocated chunks). */
    long pinnedBytes() {
        long bytes = 0;
        for (Slot s : slots) if (s != null) bytes += chunkBytes;
        return bytes;
    }

    /** What a transfer does with one chunk: floats [from, from + count) of the array. */
    @FunctionalInterface
    interface ChunkAction {
        void chunk(int from, int count);
    }

    /**
     * Splits {@code floats} into chunks of at most {@code floatsPerChunk}, in order. The walk counts
     * in long, so the largest array (2^31 − 9 floats, 8 GiB) ends without overflowing an int.
     */
    static void forEachChunk(int floats, int floatsPerChunk, ChunkAction action) {
        for (long from = 0; from < floats; from += floatsPerChunk)
            action.chunk((int) from, (int) Math.min(floatsPerChunk, floats - from));
    }

    private int floatsPerChunk() {
        return (int) Math.min(Integer.MAX_VALUE, chunkBytes / Float.BYTES);
    }

    /** device[0 .. src.length) ← src, enqueued on the stream; src may be reused once this returns. */
    void upload(float[] src, long device) {
        try {
            forEachChunk(src.length, floatsPerChunk(), (from, count) -> {
                Slot s = acquire();
                MemorySegment.copy(src, from, s.memory, JAVA_FLOAT, 0, count);
                long bytes = (long) count * Float.BYTES, offset = (long) from * Float.BYTES;
                s.unguarded = true;
                CudaDevice.check(driver.memcpyHtoDAsync(device + offset, s.host, bytes, stream),
                        "cuMemcpyHtoDAsync(" + bytes + " bytes at offset " + offset + ")");
                guard(s);
            });
        } catch (RuntimeException | Error e) {
            abandonDownloads();
            throw e;
        }
    }

    /** dst ← device[0 .. dst.length), after every op queued before it on the stream. */
    void download(long device, float[] dst) {
        try {
            forEachChunk(dst.length, floatsPerChunk(), (from, count) -> {
                Slot s = acquire();
                long bytes = (long) count * Float.BYTES, offset = (long) from * Float.BYTES;
                s.unguarded = true;
                CudaDevice.check(driver.memcpyDtoHAsync(s.host, device + offset, bytes, stream),
                        "cuMemcpyDtoHAsync(" + bytes + " bytes at offset " + offset + ")");
                guard(s);
                s.pendingDst = dst;
                s.pendingIndex = from;
                s.pendingFloats = count;
            });
            // the chunks still in the ring, oldest first
            for (int i = 0; i < SLOTS; i++) {
                Slot s = slots[(next + i) % SLOTS];
                if (s != null && s.pendingDst != null) finish(s);
            }
        } catch (RuntimeException | Error e) {
            abandonDownloads();
            throw e;
        }
    }

    /** The next chunk of the ring, free to be overwritten: its last copy has finished and been drained. */
    private Slot acquire() {
        int i = next;
        Slot s = slots[i];
        if (s == null) {
            s = allocate();
            slots[i] = s;
        } else {
            finish(s);
        }
        next = (i + 1) % SLOTS;
        return s;
    }

    /** Waits for the slot's last copy; copies a finished download chunk out to its array. */
    private void finish(Slot s) {
        if (s.unguarded) {
            CudaDevice.check(driver.streamSynchronize(stream), "cuStreamSynchronize (staging)");
            s.unguarded = false;
        } else {
            CudaDevice.check(driver.eventSynchronize(s.done), "cuEventSynchronize (staging)");
        }
        if (s.pendingDst != null) {
            MemorySegment.copy(s.memory, JAVA_FLOAT, 0, s.pendingDst, s.pendingIndex, s.pendingFloats);
            s.pendingDst = null;
        }
    }

    private void guard(Slot s) {
        CudaDevice.check(driver.eventRecord(s.done, stream), "cuEventRecord (staging)");
        s.unguarded = false;
    }

    /** After a failed transfer nothing may be copied out later into the caller's array. */
    private void abandonDownloads() {
        for (Slot s : slots) if (s != null) s.pendingDst = null;
    }

    /** A pinned chunk with its event; nothing is kept if either call fails. */
    private Slot allocate() {
        Slot s = new Slot();
        long[] address = new long[1];
        CudaDevice.check(driver.memAllocHost(address, chunkBytes), "cuMemAllocHost(" + chunkBytes + " bytes, staging)");
        s.host = address[0];
        int rc = driver.eventCreate(s.done, CU_EVENT_DISABLE_TIMING);
        if (rc != 0) {
            int freed = driver.memFreeHost(s.host);
            BackendException e = new BackendException("cuda: cuEventCreate (staging) failed: " + CudaDevice.errorName(rc));
            if (freed != 0) e.addSuppressed(new BackendException("cuda: cuMemFreeHost failed: " + CudaDevice.errorName(freed)));
            throw e;
        }
        s.memory = MemorySegment.ofAddress(s.host).reinterpret(chunkBytes);
        return s;
    }

    /**
     * Waits for the chunks' last copies and frees them; returns the first failure's description, or
     * null. Every chunk is freed even when a call fails.
     */
    String release() {
        String first = null;
        for (int i = 0; i < SLOTS; i++) {
            Slot s = slots[i];
            if (s == null) continue;
            slots[i] = null;
            int rc = s.unguarded ? driver.streamSynchronize(stream) : driver.eventSynchronize(s.done);
            if (rc != 0 && first == null) first = "cuEventSynchronize (staging): " + CudaDevice.errorName(rc);
            rc = driver.eventDestroy(s.done);
            if (rc != 0 && first == null) first = "cuEventDestroy (staging): " + CudaDevice.errorName(rc);
            rc = driver.memFreeHost(s.host);
            if (rc != 0 && first == null) first = "cuMemFreeHost (staging): " + CudaDevice.errorName(rc);
        }
        return first;
    }

    @Override
    public void close() {
        String failure = release();
        if (failure != null) throw new BackendException("cuda: releasing the staging buffers: " + failure + " failed");
    }
}
