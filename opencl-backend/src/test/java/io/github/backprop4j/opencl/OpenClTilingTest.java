package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.BackendException;
import org.junit.jupiter.api.Test;

/** The tiling override is parsed strictly; the error names the property and the expected form. */
class OpenClTilingTest {

    @Test
    void parsesThreeIntegers() {
        assertEquals(new GemmKernels.Tiling(128, 8, 16), GemmKernels.parseTiling("128, 8,16"));
        assertEquals(16, GemmKernels.parseTiling("128,8,16").side());
    }

    @Test
    void rejectsMalformedTiling() {
        for (String bad : new String[]{"128,8", "a,b,c", "100,8,16", "0,1,1", "64,4,16,2"}) {
            BackendException e = assertThrows(BackendException.class, () -> GemmKernels.parseTiling(bad));
            assertTrue(e.getMessage().contains(GemmKernels.TILING_PROPERTY), e.getMessage());
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }
}
