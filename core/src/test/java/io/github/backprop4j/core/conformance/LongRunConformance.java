package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A long run of the {@code fashion} configuration (784-256-128-10 ReLU, softmax cross-entropy,
 * batch 256, Adam) on random data: after warm-up, the backend's device memory in use must not change
 * at all and the JVM heap after GC must stay within a small tolerance. CI runs a short form; the
 * full run is {@code -Dbackprop4j.longrun.steps=100000} (see README, Reliability).
 */
public abstract class LongRunConformance extends ConformanceBase {

    /** Heap growth tolerated between the first and the last sample (GC accounting is not exact). */
    static final long HEAP_TOLERANCE = 8L << 20;

    /** Steps when {@code backprop4j.longrun.steps} is not set: sized for a 2-core CI machine. */
    protected abstract int ciSteps();

    record Sample(long step, long deviceBytes, long heapBytes) {
    }

    @Test
    void deviceMemoryAndHeapAreFlatOverALongRun() {
        int steps = Integer.getInteger("backprop4j.longrun.steps", ciSteps());
        int batch = 256, rows = 2000;   // 7 full batches and one of 208: both workspaces are exercised
        Network fashion = Network.input(784).dense(256, Activation.RELU).dense(128, Activation.RELU)
                .output(10, Activation.SOFTMAX, Loss.CATEGORICAL_CROSS_ENTROPY);
        SplittableRandom rng = new SplittableRandom(17);
        float[] x = new float[rows * 784];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] label = new int[rows];
        for (int i = 0; i < rows; i++) label[i] = rng.nextInt(10);
        Dataset data = Dataset.classification(x, 784, label, 10);
        int stepsPerEpoch = (rows + batch - 1) / batch;
        int epochs = Math.max(4, (steps + stepsPerEpoch - 1) / stepsPerEpoch);
        int warmUpEpochs = Math.max(2, epochs / 10);
        int samples = Math.min(20, epochs - warmUpEpochs);
        int sampleEvery = Math.max(1, (epochs - warmUpEpochs) / samples);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        List<Sample> taken = new ArrayList<>();
        long t0 = 0, before = backend.memoryInUse();
        double lastLoss = Double.NaN;
        try (Model model = Model.initialize(backend, fashion, 3); Trainer t = new Trainer(model, Optimizer.adam(1e-3f), batch, 5)) {
            for (int e = 0; e < epochs; e++) {
                lastLoss = t.fit(data, 1).getFirst().loss();
                if (e == warmUpEpochs - 1) t0 = System.nanoTime();
                int sinceWarmUp = e - (warmUpEpochs - 1);
                if (sinceWarmUp >= 0 && (sinceWarmUp % sampleEvery == 0 || e == epochs - 1)) {
                    backend.synchronize();
                    taken.add(new Sample(t.weightState(0).step(), backend.memoryInUse(), heapAfterGc(memory)));
                }
            }
        }
        double msPerStep = (System.nanoTime() - t0) / 1e6 / ((long) (epochs - warmUpEpochs) * stepsPerEpoch);
        Sample first = taken.getFirst(), last = taken.getLast();
        long heapGrowth = last.heapBytes() - first.heapBytes();
        long maxHeap = taken.stream().mapToLong(Sample::heapBytes).max().orElseThrow();
        System.out.printf("%s long run: %d steps of fashion (batch %d), final loss %.4f, %.2f ms/step after warm-up; "
                        + "%d samples from step %d: device memory %d bytes, growth %d bytes; heap after GC %.1f → %.1f MiB "
                        + "(max %.1f), growth %+.2f MiB%n",
                backendName(), last.step(), batch, lastLoss, msPerStep, taken.size(), first.step(), first.deviceBytes(),
                last.deviceBytes() - first.deviceBytes(), first.heapBytes() / 1048576.0, last.heapBytes() / 1048576.0,
                maxHeap / 1048576.0, heapGrowth / 1048576.0);
        assertTrue(Double.isFinite(lastLoss));
        assertTrue(first.deviceBytes() > 0, "memoryInUse() reports nothing while a model is alive");
        for (Sample s : taken)
            assertEquals(first.deviceBytes(), s.deviceBytes(), "device memory in use changed after warm-up, at step "
                    + s.step() + ": " + taken);
        assertTrue(heapGrowth <= HEAP_TOLERANCE, "heap after GC grew by " + heapGrowth + " bytes: " + taken);
        // Closed trainer and model give everything back; the backend may keep a little scratch of its own.
        long kept = backend.memoryInUse() - before;
        assertTrue(kept >= 0 && kept < 1L << 20, "after closing the trainer and model the backend still holds "
                + kept + " more bytes than before (parameters alone are " + 4L * fashion.parameterCount() + ")");
    }

    private static long heapAfterGc(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
