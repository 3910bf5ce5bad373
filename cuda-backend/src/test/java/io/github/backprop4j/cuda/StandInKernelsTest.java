package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.conformance.TestLaunch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The host stand-in checks every launch's arguments against {@link StandInKernels#SIGNATURES}; this
 * checks those signatures against the extern "C" kernels in kernels/src/main/cuda, and that the
 * native driver loads exactly those kernels ({@link CudaKernels#FAMILIES}).
 */
class StandInKernelsTest {

    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)");

    /** kernel → parameter kinds (P pointer, L long long, i int, f float) as the .cu files declare them. */
    private static Map<String, String> cudaSignatures() throws IOException {
        Map<String, String> signatures = new TreeMap<>();
        try (Stream<Path> files = Files.list(TestLaunch.projectPath("kernels/src/main/cuda"))) {
            for (Path cu : files.filter(p -> p.toString().endsWith(".cu")).toList()) {
                Matcher m = KERNEL.matcher(Files.readString(cu).replaceAll("\\s+", " "));
                while (m.find()) {
                    StringBuilder kinds = new StringBuilder();
                    for (String parameter : m.group(2).split(",")) {
                        String type = parameter.trim().replaceAll("\\s*\\w+$", "").replace("const ", "").trim();
                        kinds.append(switch (type) {
                            case "float*", "int*" -> 'P';
                            case "long long" -> 'L';
                            case "int" -> 'i';
                            case "float" -> 'f';
                            default -> throw new AssertionError(cu + ": kernel " + m.group(1) + " has a parameter of type '"
                                    + type + "' the stand-in does not know");
                        });
                    }
                    signatures.put(m.group(1), kinds.toString());
                }
            }
        }
        return signatures;
    }

    @Test
    void standInSignaturesAreTheCudaKernelSignatures() throws IOException {
        assertEquals(cudaSignatures(), new TreeMap<>(StandInKernels.SIGNATURES));
    }

    @Test
    void theNativeDriverLoadsEveryKernelThereIs() throws IOException {
        assertEquals(cudaSignatures().keySet(), CudaKernels.FAMILIES.stream().flatMap(f -> f.entryPoints().stream())
                .collect(Collectors.toCollection(java.util.TreeSet::new)));
    }
}
