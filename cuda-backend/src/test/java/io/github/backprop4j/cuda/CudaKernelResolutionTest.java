package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.conformance.TestLaunch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every entry point a typed launcher declares is an extern "C" kernel of its family's .cu file, every
 * such kernel is declared by a launcher, every .cu file has a launcher, and, when nvcc built the
 * fatbins, each fatbin holds the symbol of every entry point its launcher declares. Without nvcc the
 * fatbin half cannot run and the test says so (the sources are still checked).
 */
class CudaKernelResolutionTest {

    private static final Path SOURCES = TestLaunch.projectPath("kernels/src/main/cuda");
    private static final Pattern ENTRY = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(");

    private static Set<String> entryPoints(Path cu) throws IOException {
        Matcher m = ENTRY.matcher(Files.readString(cu));
        Set<String> names = new TreeSet<>();
        while (m.find()) names.add(m.group(1));
        return names;
    }

    @Test
    void launchersAndCudaSourcesDeclareTheSameKernels() throws IOException {
        Set<String> files;
        try (Stream<Path> all = Files.list(SOURCES)) {
            files = all.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu"))
                    .map(n -> n.substring(0, n.length() - 3)).collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(files, CudaKernels.FAMILIES.stream().map(KernelLauncher.Family::file)
                .collect(Collectors.toCollection(TreeSet::new)), ".cu files vs the launchers' families");
        for (KernelLauncher.Family family : CudaKernels.FAMILIES)
            assertEquals(entryPoints(SOURCES.resolve(family.file() + ".cu")), new TreeSet<>(family.entryPoints()),
                    family.file() + ".cu's kernels vs its launcher's entry points");
    }

    @Test
    void everyFatbinHoldsItsLauncherEntryPoints() throws IOException {
        Properties build = new Properties();
        try (InputStream in = CudaKernels.class.getResourceAsStream(CudaKernels.RESOURCE_DIR + "build.properties")) {
            assertNotNull(in, "the kernels module writes build.properties with or without nvcc");
            build.load(in);
        }
        if (!"true".equals(build.getProperty("built"))) {
            System.out.println("cuda: fatbins not built (" + build.getProperty("reason")
                    + "): checked the .cu sources only");
            return;
        }
        List<String> missing = new ArrayList<>();
        int found = 0;
        for (KernelLauncher.Family family : CudaKernels.FAMILIES) {
            byte[] fatbin;
            try (InputStream in = CudaKernels.class.getResourceAsStream(CudaKernels.RESOURCE_DIR + family.file() + ".fatbin")) {
                assertNotNull(in, family.file() + ".fatbin is missing although build.properties says built=true");
                fatbin = in.readAllBytes();
            }
            String bytes = new String(fatbin, StandardCharsets.ISO_8859_1);
            for (String name : family.entryPoints()) {
                // the symbol as a whole C string of an ELF string table (not a prefix of a longer name)
                if (bytes.contains("\0" + name + "\0") || bytes.contains("." + name + "\0")) found++;
                else missing.add(family.file() + ".fatbin: " + name);
            }
        }
        assertTrue(missing.isEmpty(), "entry points not in the built fatbins: " + missing);
        System.out.println("cuda: " + found + " entry points found in the fatbins (nvcc " + build.getProperty("nvcc") + ")");
    }
}
