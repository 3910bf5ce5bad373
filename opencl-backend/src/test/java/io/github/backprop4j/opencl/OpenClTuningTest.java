package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.conformance.BackendFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SGEMM tiling choice: forced, heuristic (tuning off), tuned once and then read from the per-device cache. */
class OpenClTuningTest {

    @TempDir
    Path cacheDir;

    @BeforeEach
    void requireOpenCl() {
        clearProperties();
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
    }

    @AfterEach
    void clearProperties() {
        System.clearProperty(OpenClTuning.MODE_PROPERTY);
        System.clearProperty(OpenClTuning.CACHE_DIR_PROPERTY);
        System.clearProperty(OpenClBackend.TILING_PROPERTY);
    }

    private static OpenClBackend open() {
        return (OpenClBackend) new OpenClBackendProvider().open(BackendOptions.defaults());
    }

    @Test
    void tunesOnceThenReadsTheCache() throws java.io.IOException {
        System.setProperty(OpenClTuning.MODE_PROPERTY, "on");
        System.setProperty(OpenClTuning.CACHE_DIR_PROPERTY, cacheDir.toString());
        String first, second;
        OpenClBackend.GemmTiling tuned;
        try (OpenClBackend b = open()) {
            first = b.runtimeVersion();
            tuned = b.tiling();
        }
        System.out.println("opencl tuning: " + first);
        assertTrue(first.contains("tuned at n="), first);
        Path cache = cacheDir.resolve(OpenClTuning.CACHE_FILE);
        assertTrue(Files.isRegularFile(cache), "the tuned tiling is cached");
        try (OpenClBackend b = open()) {
            second = b.runtimeVersion();
            assertEquals(tuned, b.tiling());
        }
        assertTrue(second.contains("cached in " + cache), second);
        try (var files = Files.list(cacheDir)) {
            assertFalse(files.anyMatch(p -> p.toString().endsWith(".tmp")), "no temp file left behind");
        }
    }

    @Test
    void forcedTilingWinsAndOffKeepsTheHeuristic() {
        System.setProperty(OpenClBackend.TILING_PROPERTY, "32,4,16");
        try (OpenClBackend b = open()) {
            assertEquals(new OpenClBackend.GemmTiling(32, 4, 16), b.tiling());
            assertTrue(b.runtimeVersion().contains("(forced)"), b.runtimeVersion());
        }
        System.clearProperty(OpenClBackend.TILING_PROPERTY);
        System.setProperty(OpenClTuning.MODE_PROPERTY, "off");
        System.setProperty(OpenClTuning.CACHE_DIR_PROPERTY, cacheDir.toString());
        try (OpenClBackend b = open()) {
            OpenClDevices.Device d = OpenClDevices.choose(OpenClDevices.list(), 0);
            assertEquals(OpenClBackend.gemmTiling(d), b.tiling());
            assertTrue(b.runtimeVersion().contains("(heuristic)"), b.runtimeVersion());
            assertFalse(Files.exists(cacheDir.resolve(OpenClTuning.CACHE_FILE)), "off neither tunes nor caches");
        }
    }

    @Test
    void badModeIsRejectedByName() {
        System.setProperty(OpenClTuning.MODE_PROPERTY, "sometimes");
        BackendException e = assertThrows(BackendException.class,
                () -> new OpenClBackendProvider().open(BackendOptions.defaults()));
        assertTrue(e.getMessage().contains(OpenClTuning.MODE_PROPERTY), e.getMessage());
    }

    @Test
    void everyCandidateFitsTheDevice() {
        OpenClDevices.Device d = OpenClDevices.choose(OpenClDevices.list(), 0);
        var all = OpenClTuning.candidates(d, OpenClBackend.gemmTiling(d));
        assertFalse(all.isEmpty());
        for (OpenClBackend.GemmTiling t : all) assertTrue(OpenClTuning.fits(t, d), t + " fits " + d.describe());
    }
}
