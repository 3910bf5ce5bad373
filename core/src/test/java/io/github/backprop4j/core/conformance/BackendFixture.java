package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.spi.BackendProvider;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Precision;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Opens the backend under test. An unavailable backend skips its suite with the probe's reason,
 * unless {@code BACKPROP4J_REQUIRE} (comma-separated names) lists it: then the suite fails.
 * {@code -Dbackprop4j.test.precision=tf32} runs a suite at TF32 with tolerances scaled by
 * {@code backprop4j.test.tolerance} (default 1).
 */
public final class BackendFixture {

    private BackendFixture() {
    }

    /** The provider of a backend that is available here (else the test is skipped, or fails when required). */
    public static BackendProvider provider(String name) {
        BackendProvider provider = Backends.provider(name);
        Availability a = provider.probe();
        if (!a.available()) {
            String required = System.getenv("BACKPROP4J_REQUIRE");
            boolean mustRun = required != null && Arrays.stream(required.split(","))
                    .map(s -> s.trim().toLowerCase(Locale.ROOT)).anyMatch(name::equals);
            String msg = "backend '" + name + "' unavailable: " + a.reason();
            if (mustRun) Assertions.fail(msg + " (BACKPROP4J_REQUIRE=" + required + ")");
            System.out.println("SKIPPED: " + msg);
            Assumptions.abort(msg);
        }
        return provider;
    }

    public static Backend open(String name) {
        return Backends.open(provider(name), options());
    }

    /** The options the suites open backends with: the default ones at the precision under test. */
    public static BackendOptions options() {
        return BackendOptions.defaults().withPrecision(Precision.parse(System.getProperty("backprop4j.test.precision", "fp32")));
    }

    /** Multiplier on every tolerance (e.g. 50 for a TF32 run). */
    public static double toleranceScale() {
        return Double.parseDouble(System.getProperty("backprop4j.test.tolerance", "1"));
    }
}
