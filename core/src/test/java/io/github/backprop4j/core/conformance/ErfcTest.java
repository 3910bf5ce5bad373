package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.spi.Erfc;
import org.junit.jupiter.api.Test;

/** The erfc approximation every backend shares, against the float64 series: the accuracy its comment claims. */
class ErfcTest {

    @Test
    void approximationIsWithinItsStatedErrorInDoubleAndInFloat() {
        double worstDouble = 0, worstFloat = 0;
        for (int i = -200_000; i <= 200_000; i++) {
            double x = i * 5e-5; // |x| <= 10: beyond, erfc(x) < 2e-45 is 0 in float
            double ref = ReferenceErfc.erfc(x);
            worstDouble = Math.max(worstDouble, Math.abs(Erfc.erfc(x) - ref) / ref);
            if (Math.abs(x) <= 4) {
                float xf = (float) x;
                double rf = ReferenceErfc.erfc(xf);
                worstFloat = Math.max(worstFloat, Math.abs(Erfc.erfc(xf) - rf) / rf);
            }
        }
        assertTrue(worstDouble < 7e-8, "relative error in double " + worstDouble);
        assertTrue(worstFloat < 2e-6, "relative error in float for |x| <= 4: " + worstFloat);
    }

    @Test
    void edgesAreExact() {
        assertEquals(1f, Erfc.erfc(0f), 1e-7f);
        assertEquals(0f, Erfc.erfc(Float.POSITIVE_INFINITY));
        assertEquals(2f, Erfc.erfc(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Erfc.erfc(Float.NaN)));
        assertEquals(0f, Erfc.erfc(20f));
    }

    /** Activation.GELU and its derivative (float64 statements of the kernels) against the exact function. */
    @Test
    void exactGeluAndItsDerivative() {
        for (double z = -8; z <= 8; z += 1.0 / 64) {
            assertEquals(ReferenceErfc.gelu(z), Activation.GELU.apply(z), 1e-7 * Math.max(1, Math.abs(z)), "GELU(" + z + ")");
            assertEquals(ReferenceErfc.geluDerivative(z), Activation.GELU.derivative(z), 1e-7, "GELU'(" + z + ")");
        }
        // the tanh form differs from the exact one by up to ~5e-4 (near |z| = 2): they are two functions
        double most = 0;
        for (double z = -6; z <= 6; z += 1.0 / 64)
            most = Math.max(most, Math.abs(Activation.GELU.apply(z) - Activation.GELU_TANH.apply(z)));
        assertTrue(most > 1e-4 && most < 1e-3, "exact vs tanh GELU differ by " + most);
    }
}
