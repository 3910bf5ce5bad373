package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.conformance.BackendFixture;
import org.junit.jupiter.api.Test;

/**
 * Benchmark reports record what the driver says about itself (platform, driver and OpenCL C versions) and
 * how the backend runs its GEMMs (tiling, split K), so that an A/B run says which side it was.
 */
class OpenClRuntimeVersionTest {

    @Test
    void namesPlatformDriverAndOpenClC() {
        try (Backend backend = BackendFixture.open("opencl")) {
            String v = backend.runtimeVersion();
            assertTrue(v.contains("OpenCL "), v);
            assertTrue(v.contains("driver "), v);
            assertTrue(v.contains("OpenCL C "), v);
            assertTrue(v.contains("SGEMM tiles ") && v.contains("split K auto ("), v);
        }
    }

    @Test
    void namesAForcedOrDisabledSplit() {
        try {
            System.setProperty(GemmKernels.SPLIT_PROPERTY, "off");
            try (Backend backend = BackendFixture.open("opencl")) {
                assertTrue(backend.runtimeVersion().endsWith("split K off"), backend.runtimeVersion());
            }
            System.setProperty(GemmKernels.SPLIT_PROPERTY, "3");
            try (Backend backend = BackendFixture.open("opencl")) {
                assertTrue(backend.runtimeVersion().endsWith("split K forced to 3 ranges"), backend.runtimeVersion());
            }
        } finally {
            System.clearProperty(GemmKernels.SPLIT_PROPERTY);
        }
    }
}
