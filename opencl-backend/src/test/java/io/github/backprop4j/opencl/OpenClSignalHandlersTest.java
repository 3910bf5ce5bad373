package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Backends;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Matrix;
import io.github.backprop4j.core.conformance.BackendFixture;
import io.github.backprop4j.core.spi.JvmSignalHandlers;
import io.github.backprop4j.core.conformance.TestLaunch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PoCL's LLVM replaces the JVM's SIGSEGV/SIGBUS/SIGFPE/SIGUSR2/… handlers the first time it runs; with
 * them gone, two threads reaching a safepoint poll together killed the JVM (exit 139, no hs_err: seen
 * about once in 30 {@code train --backend cpu} runs, since choosing a backend probes OpenCL). The
 * backend puts the JVM's handlers back after each driver call that may have replaced them.
 */
class OpenClSignalHandlersTest {

    @Test
    void theJvmsHandlersAreInPlaceAfterEveryKindOfDriverCall() {
        try (Backend backend = BackendFixture.open("opencl")) {
            exercise(backend);
            if (JvmSignalHandlers.chainedByLibjsig()) {
                // the build preloads libjsig into test JVMs: the JVM keeps its handlers first by itself, and
                // the guard stands aside (restoring the chained handlers libjsig reports would mean nothing)
                assertTrue(System.getenv("LD_PRELOAD") != null && System.getenv("LD_PRELOAD").contains("libjsig"));
                assertEquals(List.of(), JvmSignalHandlers.restore());
                assertEquals(List.of(), JvmSignalHandlers.restoredSoFar());
                return;
            }
            assertTrue(JvmSignalHandlers.snapshotIsJvms(), "the snapshot holds the JVM's own SIGSEGV handler");
            assertEquals(List.of(), JvmSignalHandlers.changed(), "handlers differing from the JVM's");
        }
    }

    /**
     * The same in a fresh JVM started without libjsig, where the driver certainly runs for the first
     * time: it replaced the handlers (else this test would prove nothing) and they were put back.
     */
    @Test
    void aJvmWithoutLibjsigNeverSeesItsHandlersReplaced() throws Exception {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", TestLaunch.childClassPath(OpenClSignalHandlersTest.class),
                Child.class.getName()).redirectErrorStream(true);
        pb.environment().remove("LD_PRELOAD");
        Process child = pb.start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("libjsig: false") && out.contains("handlers after OpenCL: []"), out);
        assertTrue(out.contains("restored: [") && out.contains("SIGSEGV"), "PoCL no longer replaces the handlers? " + out);
    }

    /** Probe, open (context, tuning, program build), first launches of each kernel family, download. */
    static void exercise(Backend backend) {
        try (Matrix x = backend.allocate(33, 20); Matrix w = backend.allocate(20, 10); Matrix b = backend.allocate(1, 10);
             Matrix z = backend.allocate(33, 10); Matrix a = backend.allocate(33, 10); Matrix y = backend.allocate(33, 10);
             Matrix delta = backend.allocate(33, 10); Matrix loss = backend.allocate(1, 1)) {
            float[] data = new float[33 * 20];
            for (int i = 0; i < data.length; i++) data[i] = (i % 7) * 0.1f;
            backend.upload(data, x);
            backend.denseForward(Activation.SOFTMAX, x, w, b, z, a);
            backend.lossGradient(Loss.CATEGORICAL_CROSS_ENTROPY, a, y, delta, loss);
            backend.columnSum(delta, 1f, 0f, b);
            backend.download(loss, new float[1]);
        }
    }

    /** Runs in a child JVM: uses the OpenCL backend, then reports which handlers differ from the JVM's. */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            try (Backend backend = Backends.open("opencl")) {
                exercise(backend);
                backend.synchronize();
            }
            System.out.println("libjsig: " + JvmSignalHandlers.chainedByLibjsig());
            System.out.println("handlers after OpenCL: " + JvmSignalHandlers.changed());
            System.out.println("restored: " + JvmSignalHandlers.restoredSoFar());
        }
    }
}
