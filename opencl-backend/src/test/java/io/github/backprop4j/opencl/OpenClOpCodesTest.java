package io.github.backprop4j.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Loss;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The kernels' op codes (op_codes.h, shared by CUDA and OpenCL) are the Java enums' ordinals. */
class OpenClOpCodesTest {

    @Test
    void codesAreTheEnumOrdinals() throws IOException {
        Map<String, Integer> defines = new HashMap<>();
        try (InputStream in = OpenClOpCodesTest.class.getResourceAsStream(OpenClProgram.KERNEL_PATH + "op_codes.h")) {
            assertNotNull(in, "op_codes.h is packed with the OpenCL kernels");
            Matcher m = Pattern.compile("#define (ACT_\\w+|LOSS_\\w+)\\s+(\\d+)")
                    .matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            while (m.find()) defines.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertEquals(Activation.values().length, defines.keySet().stream().filter(k -> k.startsWith("ACT_")).count());
        for (Activation a : Activation.values()) assertEquals(a.ordinal(), defines.get("ACT_" + a.name()), a.name());
        assertEquals(Loss.MSE.ordinal(), defines.get("LOSS_MSE"));
        assertEquals(Loss.BINARY_CROSS_ENTROPY.ordinal(), defines.get("LOSS_BCE"));
        assertEquals(Loss.CATEGORICAL_CROSS_ENTROPY.ordinal(), defines.get("LOSS_CCE"));
        assertEquals(Loss.values().length, defines.keySet().stream().filter(k -> k.startsWith("LOSS_")).count());
    }
}
