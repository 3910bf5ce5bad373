package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestLaunchTest {

    @TempDir
    Path dir;

    @Test
    void projectPathsResolveFromAModuleDirectory() {
        // Maven runs this module's tests in core/: the kernels module is found through the parent
        Path kernels = TestLaunch.projectPath("kernels/src/main/opencl");
        assertTrue(Files.isDirectory(kernels), kernels.toString());
        assertTrue(kernels.endsWith(Path.of("kernels", "src", "main", "opencl")), kernels.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TestLaunch.projectPath("no/such/dir"));
        assertTrue(e.getMessage().startsWith("no/such/dir is neither under "), e.getMessage());
    }

    @Test
    void childClassPathAddsWhatALaunchersClassLoaderHolds() throws Exception {
        // Under Maven that is java.class.path; under the JUnit console, its class path follows
        List<String> plain = Arrays.asList(TestLaunch.childClassPath(TestLaunchTest.class).split(File.pathSeparator));
        assertEquals(Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator)),
                plain.subList(0, System.getProperty("java.class.path").split(File.pathSeparator).length));
        assertEquals(plain.size(), new java.util.HashSet<>(plain).size(), "no entry twice: " + plain);

        // As the JUnit console launcher does: the test classes come from a URL class loader of their own
        URL ours = TestLaunch.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader launcher = new URLClassLoader(new URL[]{dir.toUri().toURL(), ours},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> loaded = launcher.loadClass(TestLaunch.class.getName());
            List<String> child = Arrays.asList(TestLaunch.childClassPath(loaded).split(File.pathSeparator));
            assertTrue(child.containsAll(Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator))),
                    child.toString());
            assertTrue(child.contains(dir.toString()) && child.contains(Path.of(ours.toURI()).toString()), child.toString());
        }
    }
}
