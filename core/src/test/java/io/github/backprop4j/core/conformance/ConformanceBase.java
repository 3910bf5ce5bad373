package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.opentest4j.TestAbortedException;

/**
 * One backend per test class: a backend module subclasses each suite and names its backend. When
 * the backend is unavailable (and not required), every test of the suite is reported as skipped with
 * the probe's reason, so test reports count what did not run instead of hiding it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class ConformanceBase {

    protected Backend backend;
    private String unavailable;

    /** "cpu", "opencl", "cuda". */
    protected abstract String backendName();

    /**
     * A new backend of the kind under test (the suite's own, and any second one a test needs):
     * {@link BackendFixture#open} by default; a module may open its backend another way (e.g. over a
     * host stand-in for the device).
     */
    protected Backend open() {
        return BackendFixture.open(backendName());
    }

    @BeforeAll
    void openBackend() {
        try {
            backend = open();
        } catch (TestAbortedException e) {
            unavailable = e.getMessage();
        }
    }

    @BeforeEach
    void requireBackend() {
        Assumptions.assumeTrue(backend != null, () -> unavailable);
    }

    @AfterAll
    void closeBackend() {
        if (backend != null) backend.close();
    }
}
