package io.github.backprop4j.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

/**
 * Our kernels, one fatbin per op family (kernels/src/main/cuda/NAME.cu → NAME.fatbin on the class
 * path), loaded once per backend with cuModuleLoadData, with exactly the entry points the typed
 * launchers declare. The driver picks the SASS for the device or JIT-compiles the bundled PTX on newer
 * GPUs.
 */
final class CudaKernels implements AutoCloseable {

    static final String RESOURCE_DIR = "/io/github/backprop4j/kernels/cuda/";

    /** Every launcher's kernel family. */
    static final List<KernelLauncher.Family> FAMILIES = List.of(ActivationKernels.FAMILY, ColumnSumKernels.FAMILY,
            LossKernels.FAMILY, OptimizerKernels.FAMILY, GatherKernels.FAMILY, DropoutKernels.FAMILY,
            SumOfSquaresKernels.FAMILY);

    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    CudaKernels() {
        for (KernelLauncher.Family family : FAMILIES) {
            CUmodule module = new CUmodule();
            CudaDevice.check(cuModuleLoadData(module, fatbin(family.file())), "cuModuleLoadData(" + family.file() + ".fatbin)");
            modules.put(family.file(), module);
            for (String name : family.entryPoints()) {
                CUfunction f = new CUfunction();
                CudaDevice.check(cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
                functions.put(name, f);
            }
        }
    }

    CUfunction get(String name) {
        CUfunction f = functions.get(name);
        if (f == null) throw new IllegalStateException("no CUDA kernel named " + name);
        return f;
    }

    /**
     * Why the kernels cannot be used, or null when they were built: the kernels module writes
     * build.properties whether or not nvcc was there.
     */
    static String unavailableReason() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE_DIR + "build.properties")) {
            if (in == null)
                return "kernels were not built: backprop4j-kernels (with its CUDA build.properties) is not on the class path";
            Properties p = new Properties();
            p.load(in);
            if (!"true".equals(p.getProperty("built")))
                return p.getProperty("reason", "kernels were not built");
            for (KernelLauncher.Family family : FAMILIES)
                if (CudaKernels.class.getResource(RESOURCE_DIR + family.file() + ".fatbin") == null)
                    return "kernels were not built: " + family.file() + ".fatbin is missing from the class path";
            return null;
        } catch (IOException e) {
            return "kernels were not built: cannot read build.properties (" + e.getMessage() + ")";
        }
    }

    /** "nvcc 13.0, sm_80..sm_90 + PTX" for descriptions. */
    static String buildInfo() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE_DIR + "build.properties")) {
            if (in == null) return "none";
            Properties p = new Properties();
            p.load(in);
            return "nvcc " + p.getProperty("nvcc", "?") + " (" + p.getProperty("architectures", "?") + ")";
        } catch (IOException e) {
            return "unreadable";
        }
    }

    private static byte[] fatbin(String family) {
        try (InputStream in = CudaKernels.class.getResourceAsStream(RESOURCE_DIR + family + ".fatbin")) {
            if (in == null) throw new IllegalStateException(family + ".fatbin is missing from the class path");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + family + ".fatbin", e);
        }
    }

    @Override
    public void close() {
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        modules.clear();
        functions.clear();
    }
}
