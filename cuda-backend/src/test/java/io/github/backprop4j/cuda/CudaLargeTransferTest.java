package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.conformance.BackendFixture;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A transfer of more than 2^31 bytes each way on the real device (skipped without a GPU unless
 * BACKPROP4J_REQUIRE names cuda): past the limit of a Java buffer, through the fixed pinned ring.
 * Needs about 2 GiB of heap and 2 GiB of device memory.
 */
class CudaLargeTransferTest {

    @Test
    void moreThanTwoGibibytesEachWay() {
        int floats = (1 << 29) + 3;   // 2 GiB + 12 bytes
        CudaDevice device = (CudaDevice) BackendFixture.provider("cuda").open(BackendFixture.options());
        try (Backend backend = Backend.of("cuda", BackendFixture.options().precision(), device);
             Matrix m = backend.allocate(1, floats)) {
            float[] host = new float[floats];
            for (int i = 0; i < floats; i++) host[i] = i % 1_000_003;
            backend.upload(host, m);
            Arrays.fill(host, -1f);
            backend.download(m, host);
            for (int i = 0; i < floats; i += 4093) assertEquals(i % 1_000_003, host[i], 0f, "element " + i);
            assertEquals((floats - 1) % 1_000_003, host[floats - 1], 0f, "last element");
            long pinned = device.pinnedStagingBytes();
            assertTrue(pinned <= PinnedStaging.SLOTS * PinnedStaging.DEFAULT_CHUNK_BYTES, pinned + " bytes pinned");
        }
    }
}
