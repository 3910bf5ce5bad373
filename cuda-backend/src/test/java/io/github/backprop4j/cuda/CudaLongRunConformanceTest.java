package io.github.backprop4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import io.github.backprop4j.core.conformance.BackendFixture;
import io.github.backprop4j.core.conformance.LongRunConformance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The shared long-run suite against cuda (memory this backend tracks), plus the driver's own view:
 * cuMemGetInfo's used memory must not move once the step has been captured as a graph.
 */
class CudaLongRunConformanceTest extends LongRunConformance {
    @Override
    protected String backendName() {
        return "cuda";
    }

    @Override
    protected int ciSteps() {
        return 5000;
    }

    /** The device under the suite's backend, for the driver's own count of memory in use. */
    private CudaDevice device;

    @Override
    protected Backend open() {
        device = (CudaDevice) BackendFixture.provider("cuda").open(BackendFixture.options());
        return Backend.of("cuda", BackendFixture.options().precision(), device);
    }

    @Test
    void driverReportedMemoryIsFlatAfterWarmUp() {
        int steps = Integer.getInteger("backprop4j.longrun.steps", ciSteps());
        Network fashion = Network.input(784).dense(256, Activation.RELU).dense(128, Activation.RELU)
                .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        SplittableRandom rng = new SplittableRandom(3);
        float[] x = new float[256 * 784];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] labels = new int[256];
        for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(10);
        Dataset batch = Dataset.classification(x, 784, labels, 10);
        List<Long> used = new ArrayList<>();
        try (Model model = Model.initialize(backend, fashion, 1); Trainer t = new Trainer(model, Optimizer.adam(1e-3f), 256)) {
            Trainer.Batch resident = t.load(batch);
            for (int s = 1; s <= steps; s++) {
                t.step(resident);
                if (s >= 100 && s % Math.max(1, steps / 20) == 0) {
                    backend.synchronize();
                    used.add(device.driverMemoryInUse());
                }
            }
        }
        System.out.printf("cuda long run: %d steps, driver-reported device memory in use %s bytes%n", steps, used);
        for (long u : used) assertEquals(used.get(0), u, "device memory in use moved after warm-up: " + used);
    }
}
