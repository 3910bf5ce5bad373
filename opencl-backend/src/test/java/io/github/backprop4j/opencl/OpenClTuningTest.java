package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Precision;
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
        System.clearProperty(GemmKernels.TILING_PROPERTY);
    }

    private static OpenClDevice open() {
        return (OpenClDevice) new OpenClBackendProvider().open(BackendOptions.defaults());
    }

    @Test
    void tunesOnceThenReadsTheCache() throws java.io.IOException {
        System.setProperty(OpenClTuning.MODE_PROPERTY, "on");
        System.setProperty(OpenClTuning.CACHE_DIR_PROPERTY, cacheDir.toString());
        String first, second;
        GemmKernels.Tiling tuned;
        try (OpenClDevice b = open()) {
            first = b.runtimeVersion();
            tuned = b.tiling();
        }
        System.out.println("opencl tuning: " + first);
        assertTrue(first.contains("tuned at n="), first);
        Path cache = cacheDir.resolve(OpenClTuning.CACHE_FILE);
        assertTrue(Files.isRegularFile(cache), "the tuned tiling is cached");
        try (OpenClDevice b = open()) {
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
        System.setProperty(GemmKernels.TILING_PROPERTY, "32,4,16");
        try (OpenClDevice b = open()) {
            assertEquals(new GemmKernels.Tiling(32, 4, 16), b.tiling());
            assertTrue(b.runtimeVersion().contains("(forced)"), b.runtimeVersion());
        }
        System.clearProperty(GemmKernels.TILING_PROPERTY);
        System.setProperty(OpenClTuning.MODE_PROPERTY, "off");
        System.setProperty(OpenClTuning.CACHE_DIR_PROPERTY, cacheDir.toString());
        try (OpenClDevice b = open()) {
            OpenClDevices.Device d = OpenClDevices.choose(OpenClDevices.list(), 0);
            assertEquals(GemmKernels.heuristicTiling(d), b.tiling());
            assertTrue(b.runtimeVersion().contains("(heuristic)"), b.runtimeVersion());
            assertFalse(Files.exists(cacheDir.resolve(OpenClTuning.CACHE_FILE)), "off neither tunes nor caches");
        }
    }

    /** Tilings off the vector path (TSK not a multiple of 4) and odd ones on it give the same products. */
    @Test
    void everyTilingShapeMultipliesCorrectly() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(9);
        int m = 67, k = 29, n = 71; // wider than GemmKernels.NARROW both ways: the tiled kernel
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
        for (String tiling : new String[]{"36,4,6", "20,4,12", "16,2,4"}) {
            System.setProperty(GemmKernels.TILING_PROPERTY, tiling);
            try (Backend be = Backend.of("opencl", Precision.FP32, open())) {
                for (int t = 0; t < 4; t++) {
                    boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                    var ma = be.allocate(ta ? k : m, ta ? m : k);
                    var mb = be.allocate(tb ? n : k, tb ? k : n);
                    var mc = be.allocate(m, n);
                    float[] at = new float[a.length], bt = new float[b.length];
                    for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) at[ta ? p * m + i : i * k + p] = a[i * k + p];
                    for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[tb ? j * k + p : p * n + j] = b[p * n + j];
                    be.upload(at, ma);
                    be.upload(bt, mb);
                    be.gemm(ta, tb, 1f, ma, mb, 0f, mc);
                    float[] c = new float[m * n];
                    be.download(mc, c);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double ref = 0;
                            for (int p = 0; p < k; p++) ref += (double) a[i * k + p] * b[p * n + j];
                            assertEquals(ref, c[i * n + j], 1e-4, tiling + " transA=" + ta + " transB=" + tb + " C[" + i + "," + j + "]");
                        }
                }
            }
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
        var all = OpenClTuning.candidates(d, GemmKernels.heuristicTiling(d));
        assertFalse(all.isEmpty());
        for (GemmKernels.Tiling t : all) assertTrue(OpenClTuning.fits(t, d), t + " fits " + d.describe());
    }
}
