package io.github.backprop4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Activation;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sgemm's blocking edges that the shared conformance shapes do not reach: several k blocks with a
 * column block narrower than n (packed op(B) capped), ragged row tasks, column sweeps, transposes (Aᵀ
 * packed and read where it lies), beta, the fused bias + activation epilogue, alpha 1 (as the training
 * step passes it) and not, and outputs of at most one vector of columns (the narrow paths), against a
 * float64 reference, on one thread and on a team; with beta 0, C starts as NaN.
 */
class SgemmBlockingTest {

    @ParameterizedTest(name = "m={0} k={1} n={2} transA={3} transB={4} beta={5} threads={6} epilogue={7}")
    @CsvSource({
            "5, 2100, 1100, false, false, 0, 2, true",
            "5, 2100, 1100, true, true, 0.5, 2, false",
            "30, 2100, 1100, false, false, 0, 2, false",
            "301, 777, 45, true, false, 0, 3, true",
            "301, 777, 45, false, true, -1, 1, false",
            "25, 10, 2090, false, false, 0, 2, true",
            // at most one vector of columns (AVX2: 8, AVX-512: 16): the narrow path, any number of rows
            "301, 777, 10, true, false, 0, 2, true",
            "301, 777, 10, false, true, 0.5, 3, false",
            "1000, 130, 7, false, false, -1, 2, true",
            "1000, 130, 1, true, true, 0, 2, true",
            "37, 5, 16, false, false, 1, 1, true",
            "3, 2000, 8, true, false, 0, 2, false",
            "2500, 130, 10, false, false, 0, 2, true",
            "1030, 400, 3, false, true, 0.5, 3, false",
            "77, 900, 16, true, false, 0.5, 2, true",
            "45, 30, 13, true, true, -1, 1, true",
            // Aᵀ with at most MR columns (AVX2: 4, AVX-512: 12): Cᵀ = op(B)ᵀ·A in strips of m, ragged last
            // strips, several k blocks, tasks of several strips
            "130, 5, 12, true, false, 0, 2, false",
            "77, 900, 4, true, true, 0.5, 2, true",
            "700, 1000, 11, true, false, -1, 3, true",
            "33, 64, 3, true, true, 0, 1, false",
            // Aᵀ with several k blocks: taller tasks (two per worker here), the last one ending in a short panel
            "700, 1000, 70, true, false, 0.5, 2, true",
            "700, 1000, 70, true, true, 0, 3, false",
            // Aᵀ read where it lies with a long k takes shorter blocks with AVX-512 (k = 2100: nine of 234 instead
            // of five of 420; AVX2 keeps the five)
            "97, 2100, 96, true, false, 0, 2, true",
            // slivers of A sweeping a k block's panels a few hundred columns at a time, the last sweep and
            // panel ragged; with NN, with Aᵀ read where it lies (at most eight panels: n = 256 with
            // AVX-512, 128 with AVX2) and with Aᵀ packed (n = 257)
            "50, 1100, 900, false, false, 0.5, 2, true",
            "61, 1100, 900, false, true, 0, 1, false",
            "61, 600, 256, true, false, 0, 2, true",
            "61, 600, 128, true, true, -1, 1, false",
            "61, 600, 257, true, false, 0.5, 3, true",
            // one k block, beta 0, no epilogue: at alpha 1 whole tiles are written to C by the kernel, the
            // ragged last rows and panel through the tile; NN, k = 10 NT, Aᵀ read where it lies and packed
            "61, 300, 100, false, false, 0, 2, false",
            "61, 10, 130, false, true, 0, 1, false",
            "100, 200, 64, true, true, 0, 2, false",
            "100, 200, 257, true, false, 0, 3, false",
            // op(B) of at most 256K floats packed and at least 64 rows per member: each member packs its own
            // copy; two k blocks with Aᵀ, and a ragged panel with Bᵀ on three threads
            "300, 900, 20, true, false, 0.5, 2, true",
            "400, 120, 200, false, true, 0, 3, true",
    })
    void matchesFloat64(int m, int k, int n, boolean ta, boolean tb, float beta, int threads, boolean epilogue) {
        // alpha = 1 is what the training step passes; 0.75 checks that alpha is applied everywhere
        for (float alpha : new float[] {0.75f, 1f}) check(m, k, n, ta, tb, alpha, beta, threads, epilogue);
    }

    /**
     * One Sgemm through a sequence of products, as a training step uses it: op(B)s packed by each member into
     * its own copy change contents and shape between calls; between them come ones packed once for the whole
     * team (op(B) too large, or too few rows per member), a narrow one and a product too small for the team.
     * Each result must come from its own B, never from a copy packed for an earlier call.
     */
    @ParameterizedTest(name = "threads={0}")
    @CsvSource({"2", "3"})
    void reusedAcrossCallsPacksEachCallsB(int threads) {
        int[][] shapes = { // m, k, n, transA, transB
                {256, 128, 128, 1, 0}, {256, 128, 128, 1, 0}, {300, 128, 256, 0, 1}, {256, 128, 128, 1, 0},
                {200, 784, 256, 0, 0}, {256, 128, 128, 1, 0}, {200, 1100, 300, 0, 0}, {256, 128, 128, 1, 0},
                {100, 128, 128, 1, 0}, {300, 10, 128, 0, 1}, {300, 128, 10, 0, 0}, {40, 10, 30, 0, 0},
                {300, 10, 128, 0, 1}, {784, 128, 256, 1, 0},
        };
        try (ParallelRows team = new ParallelRows(threads)) {
            Sgemm sgemm = new Sgemm(team);
            SplittableRandom rng = new SplittableRandom(threads);
            for (int[] s : shapes)
                check(sgemm, rng, s[0], s[1], s[2], s[3] == 1, s[4] == 1, 1f, 0f, s[2] % 2 == 0);
        }
    }

    private static void check(int m, int k, int n, boolean ta, boolean tb, float alpha, float beta, int threads,
                              boolean epilogue) {
        try (ParallelRows team = new ParallelRows(threads)) {
            check(new Sgemm(team), new SplittableRandom(m * 31L + k + n), m, k, n, ta, tb, alpha, beta, epilogue);
        }
    }

    private static void check(Sgemm sgemm, SplittableRandom rng, int m, int k, int n, boolean ta, boolean tb,
                              float alpha, float beta, boolean epilogue) {
        float[] a = random(rng, m * k), b = random(rng, k * n), c = random(rng, m * n), bias = random(rng, n);
        // beta 0 must overwrite C without reading it: stale NaNs there must not leak into the result
        if (beta == 0f) java.util.Arrays.fill(c, Float.NaN);
        float[] c0 = c.clone(), out = new float[m * n];
        if (epilogue) sgemm.multiply(ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, Activation.RELU, bias, out);
        else sgemm.multiply(ta, tb, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double acc = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                    acc += prod;
                    mag += Math.abs(prod);
                }
                double old = beta == 0f ? 0 : beta * c0[i * n + j];
                double z = alpha * acc + old + (epilogue ? bias[j] : 0);
                double tol = 1e-5 * (Math.abs(alpha) * mag + Math.abs(old) + 1);
                assertEquals(z, c[i * n + j], tol, "alpha " + alpha + ": C[" + i + "][" + j + "]");
                if (epilogue) assertEquals(Math.max(0, c[i * n + j]), out[i * n + j], 0.0, "out[" + i + "][" + j + "]");
            }
    }

    private static float[] random(SplittableRandom rng, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) rng.nextDouble(-1, 1);
        return v;
    }
}
