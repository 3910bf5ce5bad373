package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.BackendException;
import io.github.backprop4j.core.conformance.BackendFixture;
import io.github.backprop4j.core.conformance.OpsConformance;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Split K: which products the heuristic splits, and split products (forced here, since a 2-core PoCL
 * device never leaves a compute unit idle) against float64 at every transposition, with ragged K ranges,
 * alpha and beta, through both kernels.
 */
class OpenClSplitKTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(GemmKernels.SPLIT_PROPERTY);
    }

    @Test
    void autoSplitsOnlyProductsThatLeaveComputeUnitsIdle() {
        // an H100's 132 multiprocessors: 128x8192x10 with A transposed is one narrow work-group
        assertEquals(32, GemmKernels.splits(0, 1, 8192, 128 * 10, 132));
        // 784x8192x256 with A transposed, 14 work-groups at the 128-wide tiling: ten ranges fill the device
        assertEquals(10, GemmKernels.splits(0, 14, 8192, 784 * 256, 132));
        assertEquals(1, GemmKernels.splits(0, 132, 8192, 1280, 132), "the device is already full");
        assertEquals(1, GemmKernels.splits(0, 1, 2 * GemmKernels.MIN_SPLIT_DEPTH - 1, 1280, 132), "K too short for two");
        assertEquals(1, GemmKernels.splits(0, 2, 8192, 1280, 2), "PoCL on two cores, two work-groups");
        assertEquals(2, GemmKernels.splits(0, 1, 8192, GemmKernels.MAX_PARTIAL_FLOATS / 2, 132), "partials capped");
        assertEquals(1, GemmKernels.splits(-1, 1, 8192, 1280, 132), "off");
        assertEquals(5, GemmKernels.splits(5, 1000, 8192, 1280, 132), "forced, even on a full device");
        assertEquals(3, GemmKernels.splits(5, 1, 3, 1280, 132), "never more ranges than K");
        assertEquals(1, GemmKernels.splits(5, 1, 8192, Integer.MAX_VALUE / 2 + 1, 132), "partials indexed by int");
    }

    @Test
    void propertyIsParsedStrictly() {
        assertEquals(0, GemmKernels.parseSplits(null));
        assertEquals(0, GemmKernels.parseSplits(" auto"));
        assertEquals(-1, GemmKernels.parseSplits("off"));
        assertEquals(4, GemmKernels.parseSplits("4"));
        for (String bad : new String[] {"0", "-2", "two", "1.5"}) {
            BackendException e = assertThrows(BackendException.class, () -> GemmKernels.parseSplits(bad));
            assertTrue(e.getMessage().contains(GemmKernels.SPLIT_PROPERTY) && e.getMessage().contains(bad), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0} K ranges")
    @ValueSource(ints = {2, 3, 7})
    void splitProductsMatchFloat64(int splits) {
        System.setProperty(GemmKernels.SPLIT_PROPERTY, Integer.toString(splits));
        // tiled (both sides of C over 64) and narrow (one side at most 64), K shorter and longer than a slice
        int[][] shapes = {{65, 20, 65}, {129, 1001, 70}, {257, 257, 257}, {300, 129, 10}, {10, 300, 129}, {5, 3000, 3},
                {70, 5, 90}};
        float[][] alphaBeta = {{1f, 0f}, {-1.5f, 0.25f}};
        try (Backend backend = BackendFixture.open("opencl")) {
            for (int[] shape : shapes)
                for (int t = 0; t < 4; t++)
                    for (float[] ab : alphaBeta)
                        OpsConformance.checkGemm(backend, shape[0], shape[1], shape[2], (t & 1) != 0, (t & 2) != 0,
                                ab[0], ab[1]);
        }
    }
}
