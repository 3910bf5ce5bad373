package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.Precision;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Uploads and downloads through the pinned staging ring, on the host stand-in (host logic only, no
 * GPU): 64-byte chunks make every test cross many chunk boundaries and wrap the ring of four. The
 * stand-in runs a copy only when the host waits, so reusing a chunk (or the caller's array) too early
 * shows up as wrong data.
 */
class CudaTransferTest {

    private static final long CHUNK = 64;

    private static float[] pattern(int n, int seed) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = seed * 100_000 + i;
        return v;
    }

    @ParameterizedTest(name = "{0} floats")
    @ValueSource(ints = {1, 15, 16, 17, 63, 64, 65, 100, 1000})
    void roundTripsAcrossChunkBoundariesThroughAFixedRing(int floats) {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        CudaDevice device = driver.openDevice(CHUNK);
        try (Backend cuda = Backend.of("cuda", Precision.FP32, device); Matrix m = cuda.allocate(1, floats)) {
            float[] src = pattern(floats, 1), back = new float[floats];
            cuda.upload(src, m);
            cuda.download(m, back);
            assertArrayEquals(src, back);
            assertEquals(CHUNK, driver.largestPinnedBlock(), "every pinned block is one chunk");
            assertTrue(device.pinnedStagingBytes() <= PinnedStaging.SLOTS * CHUNK, device.pinnedStagingBytes() + " bytes pinned");
        }
        assertEquals(List.of(), driver.violations());
        assertEquals(List.of(), driver.leaks());
    }

    @Test
    void stagingStaysAtAFewDefaultChunksWhateverTheTransferSize() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        int floats = 3_000_001;   // 12 MB: three default chunks and a bit
        try (Backend cuda = driver.open(); Matrix big = cuda.allocate(1, floats); Matrix small = cuda.allocate(1, 3)) {
            float[] src = pattern(floats, 2), back = new float[floats];
            cuda.upload(src, big);
            cuda.upload(new float[]{1, 2, 3}, small);
            cuda.download(big, back);
            assertArrayEquals(src, back);
            assertEquals(PinnedStaging.DEFAULT_CHUNK_BYTES, driver.largestPinnedBlock());
            assertTrue(driver.peakPinnedBytes() <= PinnedStaging.SLOTS * PinnedStaging.DEFAULT_CHUNK_BYTES,
                    driver.peakPinnedBytes() + " bytes pinned at the peak");
        }
        assertEquals(List.of(), driver.leaks());
    }

    @Test
    void theCallerMayReuseItsArrayAsSoonAsUploadReturns() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open(CHUNK); Matrix first = cuda.allocate(10, 100); Matrix second = cuda.allocate(10, 100)) {
            float[] array = pattern(1000, 3), expected = array.clone();
            cuda.upload(array, first);
            Arrays.fill(array, -7f);          // the caller reuses its array at once
            cuda.upload(array, second);       // and the ring wraps many times over
            float[] back = new float[1000];
            cuda.download(first, back);
            assertArrayEquals(expected, back, "the first upload must not see the array's later contents");
            cuda.download(second, back);
            assertTrue(Arrays.stream(toDouble(back)).allMatch(v -> v == -7), "second upload");
        }
        assertEquals(List.of(), driver.violations());
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Test
    void aCopyFailingMidTransferLeavesNothingBehindAndTheBackendUsable() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        try (Backend cuda = driver.open(CHUNK); Matrix m = cuda.allocate(1, 1000); Matrix other = cuda.allocate(1, 1000)) {
            driver.failCall("cuMemcpyHtoDAsync", 3, CUresult.CUDA_ERROR_LAUNCH_FAILED);
            BackendException up = assertThrows(BackendException.class, () -> cuda.upload(pattern(1000, 4), m));
            assertTrue(up.getMessage().contains("cuMemcpyHtoDAsync") && up.getMessage().contains("offset 128"), up.getMessage());

            float[] src = pattern(1000, 5), back = new float[1000];
            cuda.upload(src, m);
            driver.failCall("cuMemcpyDtoHAsync", 2, CUresult.CUDA_ERROR_LAUNCH_FAILED);
            float[] abandoned = new float[1000];
            Arrays.fill(abandoned, 42f);
            assertThrows(BackendException.class, () -> cuda.download(m, abandoned));
            cuda.upload(pattern(1000, 6), other);
            cuda.download(other, back);       // every chunk of the ring is reused, and drained
            cuda.download(m, back);
            assertArrayEquals(src, back);
            for (float v : abandoned) assertEquals(42f, v, "a failed download's array was written after it failed");
        }
        assertEquals(List.of(), driver.violations());
        assertEquals(List.of(), driver.leaks());
    }

    @Test
    void aChunkWhoseEventCannotBeCreatedFreesItsPinnedBlock() {
        HostStandInDriver driver = new HostStandInDriver(1L << 30);
        CudaDevice device = driver.openDevice(CHUNK);
        try (Backend cuda = Backend.of("cuda", Precision.FP32, device); Matrix m = cuda.allocate(1, 1000)) {
            driver.failCall("cuEventCreate", 2, CUresult.CUDA_ERROR_OUT_OF_MEMORY);
            BackendException e = assertThrows(BackendException.class, () -> cuda.upload(pattern(1000, 7), m));
            assertTrue(e.getMessage().contains("cuEventCreate"), e.getMessage());
            assertEquals(device.pinnedStagingBytes(), driver.pinnedBytesInUse(), "pinned memory the ring does not hold");
            float[] src = pattern(1000, 8), back = new float[1000];
            cuda.upload(src, m);
            cuda.download(m, back);
            assertArrayEquals(src, back);
        }
        assertEquals(List.of(), driver.leaks());
    }

    /** The chunk walk for the largest matrix (2^31 − 9 floats, 8 GiB) ends without overflow: no memory needed. */
    @Test
    void chunkWalkOfTheLargestArrayCoversItExactlyOnce() {
        int largest = Integer.MAX_VALUE - 8, perChunk = (int) (PinnedStaging.DEFAULT_CHUNK_BYTES / Float.BYTES);
        List<int[]> chunks = new ArrayList<>();
        PinnedStaging.forEachChunk(largest, perChunk, (from, count) -> chunks.add(new int[]{from, count}));
        long covered = 0;
        for (int[] c : chunks) {
            assertEquals(covered, c[0], "chunks are contiguous");
            assertTrue(c[1] > 0 && c[1] <= perChunk);
            covered += c[1];
        }
        assertEquals(largest, covered);
        assertEquals(((long) largest + perChunk - 1) / perChunk, chunks.size());
        assertTrue((long) chunks.getLast()[0] * Float.BYTES > 1L << 32, "the last chunk starts past 4 GiB");
    }
}
