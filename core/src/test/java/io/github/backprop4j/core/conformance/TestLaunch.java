package io.github.backprop4j.core.conformance;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a test needs from the way it was launched, the same under Maven (one module's directory, the
 * class path on {@code java.class.path}) and under the JUnit console launcher on the GPU machine
 * (the project root, the class path in the launcher's own class loader).
 */
public final class TestLaunch {

    private TestLaunch() {
    }

    /**
     * A path of the project's source tree, given from the project root (e.g. {@code
     * kernels/src/main/cuda}): looked up from the working directory and its parent.
     */
    public static Path projectPath(String fromRoot) {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path dir : new Path[]{cwd, cwd.getParent()})
            if (dir != null && Files.exists(dir.resolve(fromRoot))) return dir.resolve(fromRoot);
        throw new IllegalStateException(fromRoot + " is neither under " + cwd + " nor under its parent: run the tests "
                + "from the project root or from a module's directory");
    }

    /**
     * The class path for a child JVM that runs this test's classes: {@code java.class.path}, then the
     * entries of every URL class loader between the test's class loader and the application's (the
     * JUnit console launcher loads {@code --class-path} through one).
     */
    public static String childClassPath(Class<?> testClass) {
        Set<String> entries = new LinkedHashSet<>(Arrays.asList(System.getProperty("java.class.path").split(File.pathSeparator)));
        for (ClassLoader l = testClass.getClassLoader(); l != null; l = l.getParent()) {
            if (!(l instanceof URLClassLoader u)) continue;
            for (URL url : u.getURLs()) {
                try {
                    entries.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException | IllegalArgumentException e) {
                    throw new IllegalStateException("class path entry " + url + " is not a file", e);
                }
            }
        }
        entries.remove("");
        return String.join(File.pathSeparator, entries);
    }
}
