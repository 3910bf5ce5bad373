package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.conformance.BackendFixture;
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
 * Every entry point a typed launcher declares resolves (clCreateKernel) in the program built from
 * the kernels module, and the program holds no entry point that no launcher uses; every .cl file of
 * the kernels module is part of that program.
 */
class OpenClKernelResolutionTest {

    /** The launchers, one per kernel family: each is the only code that knows its kernels' arguments. */
    static final List<List<String>> LAUNCHERS = List.of(GemmKernels.ENTRY_POINTS, ActivationKernels.ENTRY_POINTS,
            ColumnSumKernels.ENTRY_POINTS, LossKernels.ENTRY_POINTS, OptimizerKernels.ENTRY_POINTS,
            GatherKernels.ENTRY_POINTS);

    @Test
    void everyDeclaredKernelResolvesAndEveryKernelIsDeclared() {
        BackendFixture.open("opencl").close(); // skips (or fails under BACKPROP4J_REQUIRE) without OpenCL
        Set<String> declared = new TreeSet<>();
        for (List<String> names : LAUNCHERS)
            for (String n : names) assertTrue(declared.add(n), n + " is declared by two launchers");
        try (OpenClDevice device = (OpenClDevice) new OpenClBackendProvider().open(BackendOptions.defaults())) {
            OpenClProgram program = device.program();
            for (String name : declared) program.kernel(name); // throws, naming the kernel, when it does not resolve
            Set<String> built = program.entryPoints();
            Set<String> unused = new TreeSet<>(built);
            unused.removeAll(declared);
            Set<String> missing = new TreeSet<>(declared);
            missing.removeAll(built);
            assertTrue(unused.isEmpty(), "kernels no launcher uses: " + unused);
            assertTrue(missing.isEmpty(), "declared but not in the program: " + missing);
            System.out.println("opencl: " + built.size() + " kernel entry points resolved: " + built);
        }
    }

    @Test
    void everyClFileIsBuilt() throws IOException {
        Path dir = Path.of("..", "kernels", "src", "main", "opencl");
        Set<String> files;
        try (Stream<Path> all = Files.list(dir)) {
            files = all.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cl"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, new TreeSet<>(Arrays.asList(OpenClDevice.SOURCES)), "kernel files vs the device's program");
    }
}
