package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** One backend per test class: a backend module subclasses each suite and names its backend. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConformanceBase {

    protected Backend backend;

    /** "cpu", "opencl", "cuda". */
    protected abstract String backendName();

    @BeforeAll
    void openBackend() {
        backend = BackendFixture.open(backendName());
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) backend.close();
    }
}
