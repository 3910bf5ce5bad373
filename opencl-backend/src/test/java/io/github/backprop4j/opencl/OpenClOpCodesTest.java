package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.LearningRateSchedule;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.spi.Erfc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The kernels' op codes (op_codes.h, shared by CUDA and OpenCL) are the Java enums' ordinals, and its
 * constants are the ones the Java side computes with.
 */
class OpenClOpCodesTest {

    private static String opCodes() throws IOException {
        try (InputStream in = OpenClOpCodesTest.class.getResourceAsStream(OpenClProgram.KERNEL_PATH + "op_codes.h")) {
            assertNotNull(in, "op_codes.h is packed with the OpenCL kernels");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void codesAreTheEnumOrdinals() throws IOException {
        Map<String, Integer> defines = new HashMap<>();
        Matcher m = Pattern.compile("#define (ACT_\\w+|LOSS_\\w+|SCHEDULE_[A-Z]+)\\s+(\\d+)\\s").matcher(opCodes());
        while (m.find()) defines.put(m.group(1), Integer.parseInt(m.group(2)));
        assertEquals(Activation.values().length, defines.keySet().stream().filter(k -> k.startsWith("ACT_")).count());
        for (Activation a : Activation.values()) assertEquals(a.ordinal(), defines.get("ACT_" + a.name()), a.name());
        assertEquals(Loss.MSE.ordinal(), defines.get("LOSS_MSE"));
        assertEquals(Loss.BINARY_CROSS_ENTROPY.ordinal(), defines.get("LOSS_BCE"));
        assertEquals(Loss.CATEGORICAL_CROSS_ENTROPY.ordinal(), defines.get("LOSS_CCE"));
        assertEquals(Loss.values().length, defines.keySet().stream().filter(k -> k.startsWith("LOSS_")).count());
        for (LearningRateSchedule.Kind k : LearningRateSchedule.Kind.values())
            assertEquals(k.ordinal(), defines.get("SCHEDULE_" + k.name()), k.name());
        assertEquals(LearningRateSchedule.Kind.values().length,
                defines.keySet().stream().filter(k -> k.startsWith("SCHEDULE_")).count());
    }

    @Test
    void constantsAreTheJavaOnes() throws IOException {
        Map<String, Float> defines = new HashMap<>();
        Matcher m = Pattern.compile("#define (\\w+) (-?[0-9.e-]+)f\\b").matcher(opCodes());
        while (m.find()) defines.put(m.group(1), Float.parseFloat(m.group(2)));
        assertEquals((float) Activation.LEAKY_SLOPE, defines.get("LEAKY_SLOPE"));
        assertEquals((float) Activation.GELU_C, defines.get("GELU_C"));
        assertEquals((float) Activation.GELU_K, defines.get("GELU_K"));
        assertEquals((float) Activation.SQRT_HALF, defines.get("SQRT_HALF"));
        assertEquals((float) Activation.INV_SQRT_2PI, defines.get("INV_SQRT_2PI"));
        assertEquals((float) Loss.LOG_EPS, defines.get("LOG_EPS"));
        assertEquals((float) Math.PI, defines.get("SCHEDULE_PI"));
        assertEquals(Erfc.T_SCALE, defines.get("ERFC_T_SCALE"));
        for (int k = 0; k <= Erfc.degree(); k++) assertEquals(Erfc.coefficient(k), defines.get("ERFC_C" + k), "ERFC_C" + k);
        assertEquals(null, defines.get("ERFC_C" + (Erfc.degree() + 1)), "op_codes.h has more coefficients than Erfc");
    }
}
