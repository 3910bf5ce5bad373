package io.github.backprop4j.cuda;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

/**
 * Our kernels, one fatbin per op family (kernels/src/main/cuda/NAME.cu → NAME.fatbin on the class
 * path), loaded once per backend with cuModuleLoadData. The driver picks the SASS for the device
 * or JIT-compiles the bundled PTX on newer GPUs.
 */
final class CudaKernels implements AutoCloseable {

    static final String RESOURCE_DIR = "/io/github/backprop4j/kernels/cuda/";

    /** Family file → the kernels it defines. */
    static final Map<String, String[]> FAMILIES = Map.of(
            "activation", new String[]{"bias_activation_forward", "bias_softmax_forward", "activation_backward"},
            "loss", new String[]{"loss_gradient"},
            "column_sum", new String[]{"column_sum"},
            "optimizer", new String[]{"sgd_update", "momentum_update", "adam_advance_step", "adam_update"},
            "gather", new String[]{"gather_rows"});

    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    CudaKernels() {
        for (Map.Entry<String, String[]> family : FAMILIES.entrySet()) {
            CUmodule module = new CUmodule();
            CudaBackend.check(cuModuleLoadData(module, fatbin(family.getKey())),
                    "cuModuleLoadData(" + family.getKey() + ".fatbin)");
            modules.put(family.getKey(), module);
            for (String name : family.getValue()) {
                CUfunction f = new CUfunction();
                CudaBackend.check(cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
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
            for (String family : FAMILIES.keySet())
                if (CudaKernels.class.getResource(RESOURCE_DIR + family + ".fatbin") == null)
                    return "kernels were not built: " + family + ".fatbin is missing from the class path";
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
