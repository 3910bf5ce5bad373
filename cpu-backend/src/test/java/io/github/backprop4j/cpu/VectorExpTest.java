package io.github.backprop4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.conformance.TestLaunch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * {@link ActivationMath#exp(FloatVector)}: within 2 ulp of e^x over the whole float range, the right
 * limits (0 and subnormals below, ∞ above, NaN through), and the same bits in an interpreted JVM as
 * after C2 compiled it, so that training never depends on when the JIT gets to the GELU loops.
 */
class VectorExpTest {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** e^x of every x, through the vector function a vector at a time. */
    static float[] exp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += S.length())
            ActivationMath.exp(FloatVector.fromArray(S, x, i)).intoArray(y, i);
        return y;
    }

    /** The inputs both JVMs digest: the exponent's range densely, the erfc path's arguments too. */
    static float[] inputs() {
        SplittableRandom rng = new SplittableRandom(11);
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-110, 92);
        return x;
    }

    /** A digest of exp and erfc over {@link #inputs()}. */
    static long digest() {
        float[] x = inputs();
        float[] e = exp(x);
        long h = 1;
        for (int i = 0; i < x.length; i++) h = h * 1_000_003 + Float.floatToRawIntBits(e[i]);
        for (int i = 0; i < x.length; i += S.length()) {
            float[] lanes = ActivationMath.erfc(FloatVector.fromArray(S, x, i).mul(0.05f)).toArray();
            for (float v : lanes) h = h * 1_000_003 + Float.floatToRawIntBits(v);
        }
        return h;
    }

    /** The child JVM's side: prints {@link #digest()} computed by the interpreter. */
    public static void main(String[] args) {
        System.out.println("digest " + digest());
    }

    @Test
    void withinTwoUlpOfTheExactValueAcrossTheRange() {
        SplittableRandom rng = new SplittableRandom(5);
        float[] x = new float[1 << 20];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble(-103.9, 88.7);
        float[] y = exp(x);
        int worst = 0;
        for (int i = 0; i < x.length; i++) {
            float exact = (float) StrictMath.exp(x[i]);
            int ulps = Math.abs(Float.floatToRawIntBits(y[i]) - Float.floatToRawIntBits(exact));
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= 2, "exp(" + x[i] + ") = " + y[i] + ", exactly " + exact + ": " + ulps + " ulp");
        }
        System.out.println("vector exp: at most " + worst + " ulp from e^x over 2^20 points in [-103.9, 88.7]");
    }

    @Test
    void limitsAndNaN() {
        float[] x = new float[S.length()];
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 89f, 200f, -104f, -1000f,
                1f, -1f, 88.72f, -87.33f, -100f};
        float[] expected = {Float.NaN, Float.POSITIVE_INFINITY, 0f, 1f, 1f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY,
                0f, 0f, (float) Math.E, (float) (1 / Math.E), (float) StrictMath.exp(88.72f), (float) StrictMath.exp(-87.33f),
                (float) StrictMath.exp(-100f)};
        for (int i = 0; i < special.length; i++) {
            x[i % x.length] = special[i];
            float got = exp(x)[i % x.length];
            if (Float.isNaN(expected[i])) assertTrue(Float.isNaN(got), "exp(NaN) = " + got);
            else assertTrue(Math.abs(Float.floatToRawIntBits(got) - Float.floatToRawIntBits(expected[i])) <= 2,
                    "exp(" + special[i] + ") = " + got + ", expected " + expected[i]);
        }
    }

    @Test
    void theInterpreterComputesTheSameBitsAsCompiledCode() throws IOException, InterruptedException {
        for (int i = 0; i < 300; i++) digest();   // C2 compiles exp and erfc's loops
        long compiled = digest();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xint",
                "--add-modules", "jdk.incubator.vector", "-cp", TestLaunch.childClassPath(VectorExpTest.class),
                VectorExpTest.class.getName()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the interpreted child did not finish");
        assertEquals(0, child.exitValue(), out);
        String line = out.lines().filter(l -> l.startsWith("digest ")).findFirst().orElse("none in: " + out);
        assertEquals("digest " + compiled, line, "exp and erfc in the interpreter vs after C2");
    }
}
