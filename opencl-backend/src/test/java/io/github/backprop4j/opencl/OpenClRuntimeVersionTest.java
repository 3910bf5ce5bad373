package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.conformance.BackendFixture;
import org.junit.jupiter.api.Test;

/** Benchmark reports record what the driver says about itself: platform, driver and OpenCL C versions. */
class OpenClRuntimeVersionTest {

    @Test
    void namesPlatformDriverAndOpenClC() {
        try (Backend backend = BackendFixture.open("opencl")) {
            String v = backend.runtimeVersion();
            assertTrue(v.contains("OpenCL "), v);
            assertTrue(v.contains("driver "), v);
            assertTrue(v.contains("OpenCL C "), v);
        }
    }
}
