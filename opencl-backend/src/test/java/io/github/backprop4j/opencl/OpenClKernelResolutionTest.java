package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.conformance.BackendFixture;
import io.github.backprop4j.core.conformance.TestLaunch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every entry point the typed launchers use resolves (clCreateKernel, when the device builds them) in
 * the program built from the kernels module, and the program holds no entry point that no launcher
 * uses; every .cl file of the kernels module is part of that program.
 */
class OpenClKernelResolutionTest {

    @Test
    void everyLauncherKernelResolvesAndEveryKernelHasALauncher() {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        try (OpenClDevice device = (OpenClDevice) new OpenClBackendProvider().open(BackendOptions.defaults())) {
            OpenClProgram program = device.program();
            Set<String> used = program.launcherEntryPoints(), built = program.entryPoints();
            Set<String> unused = new TreeSet<>(built);
            unused.removeAll(used);
            Set<String> missing = new TreeSet<>(used);
            missing.removeAll(built);
            assertTrue(unused.isEmpty(), "kernels no launcher uses: " + unused);
            assertTrue(missing.isEmpty(), "launched but not listed by the program: " + missing);
            assertTrue(used.containsAll(List.of("gemm", "gemm_narrow_along_k", "gemm_narrow_along_r", "activation_forward",
                    "activation_backward", "column_sum", "loss_gradient", "optimizer_update_adam", "gather_rows",
                    "dropout_forward", "dropout_backward")),
                    "the SPI ops' kernels: " + used);
            System.out.println("opencl: " + built.size() + " kernel entry points, each used by a launcher: " + built);
        }
    }
    @Test
    void everyClFileIsBuilt() throws IOException {
        Path dir = TestLaunch.projectPath("kernels/src/main/opencl");
        Set<String> files;
        try (Stream<Path> all = Files.list(dir)) {
            files = all.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cl"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, new TreeSet<>(Arrays.asList(OpenClDevice.SOURCES)), "kernel files vs the device's program");
    }
}
