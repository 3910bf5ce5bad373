package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.spi.Availability;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.BackendOptions;
import io.github.backprop4j.core.Backends;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The probe runs everywhere: on a machine without a GPU it must say precisely why, never throw. */
class CudaProbeTest {

    @Test
    void providerIsFoundAndRanksAboveTheOthers() {
        assertEquals("cuda", Backends.provider("cuda").name());
        assertTrue(new CudaBackendProvider().priority() > 20, "cuda ranks above opencl (20) and cpu (10)");
    }

    @Test
    void probeExplainsItself() {
        Availability a = new CudaBackendProvider().probe();
        System.out.println("cuda probe: " + (a.available() ? "available on " + a.device() : "unavailable: " + a.reason()));
        if (a.available()) {
            assertTrue(a.device().contains("compute") && a.device().contains("GiB"), a.device());
        } else {
            String r = a.reason().toLowerCase(Locale.ROOT);
            assertTrue(r.contains("kernels were not built") || r.contains("no cuda driver") || r.contains("no cuda device")
                    || r.contains("libcublas") || r.contains("compute capability") || r.contains("cuinit"),
                    "the reason names what is missing: " + a.reason());
            BackendException e = assertThrows(BackendException.class,
                    () -> new CudaBackendProvider().open(BackendOptions.defaults()));
            assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
        }
    }

    @Test
    void kernelBuildIsRecorded() {
        String reason = CudaKernels.unavailableReason();
        String info = CudaKernels.buildInfo();
        assertFalse(info.isBlank());
        if (reason != null) assertTrue(reason.startsWith("kernels were not built"), reason);
    }
}
