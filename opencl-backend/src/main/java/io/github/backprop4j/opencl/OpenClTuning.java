package io.github.backprop4j.opencl;

import io.github.backprop4j.core.AtomicFiles;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.opencl.GemmKernels.Tiling;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_mem;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;

import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_TRUE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseMemObject;

/**
 * Chooses the SGEMM tiling for a device: forced ({@code -Dbackprop4j.opencl.gemmTiling}), else
 * cached from an earlier tuning of the same device and driver, else tuned on first use, else the
 * device-info heuristic ({@link GemmKernels#heuristicTiling}).
 *
 * <p>Tuning builds a small program (gemm.cl) per candidate tiling that fits the device's
 * work-group and local-memory limits, checks each candidate's result against a float64 reference on
 * sampled entries, times it on a square SGEMM, and keeps a candidate only if it beats the heuristic
 * by at least 5% (otherwise the heuristic stays: tuning must pay). The winner is cached in
 * {@code ~/.cache/backprop4j/opencl-gemm-tiling.properties} (or {@code -Dbackprop4j.cache.dir}).
 * It can pay on CPUs too, whose best tiling depends on their vector width and caches.
 * {@code -Dbackprop4j.opencl.tune=on} (default) tunes once per device and driver, {@code off} never.
 */
final class OpenClTuning {

    static final String MODE_PROPERTY = "backprop4j.opencl.tune";
    static final String CACHE_DIR_PROPERTY = "backprop4j.cache.dir";
    static final String CACHE_FILE = "opencl-gemm-tiling.properties";
    /** A candidate must be this much faster than the heuristic to replace it. */
    static final double MIN_GAIN = 1.05;

    /** The tiling and where it came from ("heuristic", "forced", "cached", "tuned: …"). */
    record Choice(Tiling tiling, String source) {
    }

    private static final Tiling[] CANDIDATES = {
            new Tiling(128, 8, 16), new Tiling(128, 8, 8), new Tiling(64, 4, 16), new Tiling(64, 8, 16),
            new Tiling(64, 8, 32), new Tiling(64, 16, 32), new Tiling(32, 4, 16), new Tiling(32, 2, 16),
            new Tiling(128, 16, 16)};

    private OpenClTuning() {
    }

    static Choice choose(OpenClDevices.Device device, cl_context context, cl_command_queue queue) {
        String forced = System.getProperty(GemmKernels.TILING_PROPERTY);
        if (forced != null && !forced.isBlank()) return new Choice(GemmKernels.parseTiling(forced), "forced");
        Tiling heuristic = GemmKernels.heuristicTiling(device);
        String mode = System.getProperty(MODE_PROPERTY, "on").trim().toLowerCase(Locale.ROOT);
        if (!mode.equals("on") && !mode.equals("off"))
            throw new BackendException("opencl: " + MODE_PROPERTY + "='" + mode + "' must be on or off");
        if (mode.equals("off")) return new Choice(heuristic, "heuristic");
        Path cache = cacheFile();
        String key = cacheKey(device);
        Tiling cached = readCache(cache, key);
        if (cached != null && fits(cached, device)) return new Choice(cached, "cached in " + cache);
        System.getLogger("backprop4j.opencl").log(System.Logger.Level.INFO, "tuning the SGEMM tiling for "
                + device.describe() + " (once per device and driver; cached in " + cache + ")");
        Choice tuned = tune(device, context, queue, heuristic);
        writeCache(cache, key, tuned.tiling());
        return tuned;
    }

    /** Candidates that fit the device (work-group size and local memory), the heuristic first. */
    static List<Tiling> candidates(OpenClDevices.Device device, Tiling heuristic) {
        LinkedHashSet<Tiling> all = new LinkedHashSet<>();
        all.add(heuristic);
        for (Tiling t : CANDIDATES) if (fits(t, device)) all.add(t);
        return new ArrayList<>(all);
    }

    static boolean fits(Tiling t, OpenClDevices.Device device) {
        long groupSize = (long) t.side() * t.side();
        long local = 2L * t.tsk() * (t.ts() + 1) * Float.BYTES;
        return t.ts() % t.wpt() == 0 && groupSize <= device.maxWorkGroup() && local <= device.localMemory();
    }

    private static Choice tune(OpenClDevices.Device device, cl_context context, cl_command_queue queue,
                               Tiling heuristic) {
        boolean cpu = (device.type() & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) == 0;
        int n = cpu ? 384 : 1024;
        Problem problem = new Problem(context, queue, n);
        try {
            double heuristicRate = problem.gflops(device, heuristic);
            Tiling best = heuristic;
            double bestRate = heuristicRate;
            for (Tiling t : candidates(device, heuristic)) {
                if (t.equals(heuristic)) continue;
                double rate = problem.gflops(device, t);
                if (rate > bestRate) {
                    best = t;
                    bestRate = rate;
                }
            }
            if (!best.equals(heuristic) && bestRate < heuristicRate * MIN_GAIN) best = heuristic;
            String how = String.format(Locale.ROOT, "tuned at n=%d: %.1f GFLOP/s against %.1f for the heuristic %d/%d/%d",
                    n, best.equals(heuristic) ? heuristicRate : bestRate, heuristicRate, heuristic.ts(), heuristic.wpt(),
                    heuristic.tsk());
            return new Choice(best, how);
        } finally {
            problem.release();
        }
    }

    /** One square SGEMM on the device, with inputs whose product is checked on sampled entries. */
    private static final class Problem {
        final int n;
        final float[] a, b;
        final cl_mem ma, mb, mc;
        final cl_context context;
        final cl_command_queue queue;

        Problem(cl_context context, cl_command_queue queue, int n) {
            this.context = context;
            this.queue = queue;
            this.n = n;
            SplittableRandom r = new SplittableRandom(42);
            a = new float[n * n];
            b = new float[n * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextDouble(-1, 1);
                b[i] = (float) r.nextDouble(-1, 1);
            }
            int[] rc = new int[1];
            ma = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) a.length * Sizeof.cl_float, Pointer.to(a), rc);
            OpenClProgram.check(rc[0], "clCreateBuffer(tuning A)");
            mb = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) b.length * Sizeof.cl_float, Pointer.to(b), rc);
            OpenClProgram.check(rc[0], "clCreateBuffer(tuning B)");
            mc = clCreateBuffer(context, CL_MEM_READ_WRITE, (long) a.length * Sizeof.cl_float, null, rc);
            OpenClProgram.check(rc[0], "clCreateBuffer(tuning C)");
        }

        /** GFLOP/s of the best of three runs after a warm-up; 0 when the tiling fails to build, launch or is wrong. */
        double gflops(OpenClDevices.Device device, Tiling t) {
            try (OpenClProgram program = OpenClProgram.build(context, device, queue, t.options(), GemmKernels.SOURCE);
                 // the tiling, not the split: at n = 1024 a GPU's widest tiling would be split, at 4096 not
                 GemmKernels kernels = new GemmKernels(program, t, device, context, -1)) {
                kernels.gemm(false, false, n, n, n, 1f, ma, mb, 0f, mc);
                clFinish(queue);
                if (!correct()) return 0;
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) {
                    long t0 = System.nanoTime();
                    kernels.gemm(false, false, n, n, n, 1f, ma, mb, 0f, mc);
                    clFinish(queue);
                    best = Math.min(best, System.nanoTime() - t0);
                }
                return 2.0 * n * n * n / best;
            } catch (BackendException e) {
                return 0;
            }
        }

        /** 64 sampled entries of C against float64 dot products. */
        private boolean correct() {
            float[] c = new float[n * n];
            OpenClProgram.check(clEnqueueReadBuffer(queue, mc, CL_TRUE, 0, (long) c.length * Sizeof.cl_float,
                    Pointer.to(c), 0, null, null), "clEnqueueReadBuffer(tuning C)");
            SplittableRandom r = new SplittableRandom(7);
            for (int s = 0; s < 64; s++) {
                int i = r.nextInt(n), j = r.nextInt(n);
                double dot = 0, mag = 0;
                for (int p = 0; p < n; p++) {
                    dot += (double) a[i * n + p] * b[p * n + j];
                    mag += Math.abs((double) a[i * n + p] * b[p * n + j]);
                }
                if (!(Math.abs(c[i * n + j] - dot) <= 1e-5 * mag + 1e-6)) return false;
            }
            return true;
        }

        void release() {
            clReleaseMemObject(ma);
            clReleaseMemObject(mb);
            clReleaseMemObject(mc);
        }
    }

    // ---- the cache: one line per device and driver ----

    static Path cacheFile() {
        String dir = System.getProperty(CACHE_DIR_PROPERTY);
        Path base = dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".cache", "backprop4j");
        return base.resolve(CACHE_FILE);
    }

    /** Platform, device, driver and a checksum of gemm.cl: a changed kernel is tuned afresh. */
    static String cacheKey(OpenClDevices.Device d) {
        String raw = d.platformName().trim() + "|" + d.name().trim() + "|"
                + OpenClDevices.deviceString(d.id(), CL_DRIVER_VERSION).trim() + "|gemm-" + kernelChecksum();
        return raw.replaceAll("[^A-Za-z0-9._|-]", "_");
    }

    private static String kernelChecksum() {
        try (InputStream in = OpenClTuning.class.getResourceAsStream(OpenClProgram.KERNEL_PATH + GemmKernels.SOURCE)) {
            if (in == null) return "missing";
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(in.readAllBytes());
            return Long.toHexString(crc.getValue());
        } catch (IOException e) {
            return "unreadable";
        }
    }

    static Tiling readCache(Path file, String key) {
        if (!Files.isRegularFile(file)) return null;
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
            String v = p.getProperty(key);
            return v == null ? null : GemmKernels.parseTiling(v);
        } catch (IOException | RuntimeException e) {
            return null; // an unreadable or stale cache only costs a new tuning
        }
    }

    /** Best effort and atomic: a read-only home directory must not stop training. */
    static void writeCache(Path file, String key, Tiling t) {
        try {
            Properties p = new Properties();
            if (Files.isRegularFile(file)) try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
            p.setProperty(key, t.ts() + "," + t.wpt() + "," + t.tsk());
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            p.store(bytes, "backprop4j OpenCL SGEMM tiling per device and driver: TS,WPT,TSK");
            AtomicFiles.write(file, bytes.toByteArray());
        } catch (IOException | RuntimeException e) {
            System.getLogger("backprop4j.opencl").log(System.Logger.Level.WARNING,
                    "could not cache the tuned SGEMM tiling in " + file + ": " + e.getMessage());
        }
    }
}
