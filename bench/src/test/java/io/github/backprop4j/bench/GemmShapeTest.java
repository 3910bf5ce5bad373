package io.github.backprop4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GemmShapeTest {

    @Test
    void squareAndSkinnyShapesParse() {
        assertEquals(new GemmBenchmark.Shape(1024, 1024, 1024, false, false), GemmBenchmark.Shape.parse("1024"));
        assertEquals(new GemmBenchmark.Shape(784, 128, 256, true, false), GemmBenchmark.Shape.parse("784x128x256:TN"));
        assertEquals(new GemmBenchmark.Shape(128, 10, 128, false, true), GemmBenchmark.Shape.parse("128x10x128:NT"));
        assertEquals(2.0 * 128 * 784 * 256, GemmBenchmark.Shape.parse("128x784x256").flops());
    }

    @Test
    void badShapesAreRefusedWithTheSyntax() {
        for (String bad : new String[] {"", "12x34", "1x2x3:XY", "axbxc", "1x2x3:TN:NT"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmBenchmark.Shape.parse(bad));
            assertTrue(e.getMessage().contains("MxKxN"), e.getMessage());
        }
    }

    /** Three GEMMs per layer except the first layer's input gradient, at three batches. */
    @Test
    void fashionShapesAreTheStepsGemms() {
        var shapes = GemmBenchmark.fashionShapes();
        assertEquals(3 * 8, shapes.size());
        assertTrue(shapes.containsAll(java.util.List.of("128x784x256", "784x128x256:TN", "128x128x256:NT",
                "8192x128x10", "128x8192x10:TN", "8192x10x128:NT")), shapes.toString());
        shapes.forEach(GemmBenchmark.Shape::parse);
    }
}
