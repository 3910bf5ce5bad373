package io.github.backprop4j.bench;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.conformance.BackendFixture;
import org.jocl.cl_platform_id;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The CLBlast yardstick runs on the backend's OpenCL device and computes the backend's product: its
 * set-up compares the two C matrices and throws on a difference (a wrong leading dimension or transpose
 * flag would).
 */
class ClBlastSgemmBenchmarkTest {

    @BeforeAll
    static void requireOpenCl() {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
    }

    @ParameterizedTest
    @ValueSource(strings = {"33", "65x20x67", "67x20x65:TN", "129x10x70:NT", "70x33x129:TT", "300x129x10"})
    void agreesWithTheBackendAtEveryTransposition(String size) {
        ClBlastSgemmBenchmark benchmark = new ClBlastSgemmBenchmark();
        benchmark.size = size;
        try {
            benchmark.setUp();
            benchmark.sgemm();
        } finally {
            benchmark.tearDown();
        }
    }

    @Test
    void aDeviceTheBackendDidNotChooseIsNamedInTheError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClBlastSgemmBenchmark.findDevice("no such device [no such platform, OpenCL 9.9, 1.0 GiB]",
                        new cl_platform_id[1]));
        assertTrue(e.getMessage().contains("no such device"), e.getMessage());
    }
}
