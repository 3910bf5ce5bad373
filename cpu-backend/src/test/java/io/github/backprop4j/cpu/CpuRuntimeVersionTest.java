package io.github.backprop4j.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import org.junit.jupiter.api.Test;

/** Benchmark reports record the JVM and the vector width the kernels ran with. */
class CpuRuntimeVersionTest {

    @Test
    void namesJvmAndVectorWidth() {
        try (Backend backend = Backends.open("cpu")) {
            String v = backend.runtimeVersion();
            assertTrue(v.contains(Runtime.version().toString()), v);
            assertTrue(v.contains("-bit"), v);
        }
    }
}
