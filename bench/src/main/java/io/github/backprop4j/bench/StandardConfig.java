package io.github.backprop4j.bench;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Network;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * The standard benchmark configurations (DESIGN.md's table, the same as the PyTorch anchor's):
 * <pre>
 * fashion      784-256-128-10, ReLU hidden, softmax + cross-entropy, batch 256
 * fashion-8k   784-256-128-10, ReLU hidden, softmax + cross-entropy, batch 8192
 * wide         1024-4096-4096-4096-1024, ReLU hidden, identity + MSE, batch 4096
 * </pre>
 * Shared by the JMH benchmarks and any other tool that times training steps.
 */
public enum StandardConfig {
    FASHION("fashion", new int[] {784, 256, 128, 10}, 256, Loss.CATEGORICAL_CROSS_ENTROPY),
    FASHION_8K("fashion-8k", new int[] {784, 256, 128, 10}, 8192, Loss.CATEGORICAL_CROSS_ENTROPY),
    WIDE("wide", new int[] {1024, 4096, 4096, 4096, 1024}, 4096, Loss.MSE);

    private final String id;
    private final int[] widths;
    private final int batch;
    private final Loss loss;

    StandardConfig(String id, int[] widths, int batch, Loss loss) {
        this.id = id;
        this.widths = widths;
        this.batch = batch;
        this.loss = loss;
    }

    /** The configuration's name as written in reports and on command lines, e.g. "fashion-8k". */
    public String id() {
        return id;
    }

    /** Layer widths f_0..f_L, input first. */
    public int[] widths() {
        return widths.clone();
    }

    public int batch() {
        return batch;
    }

    public Loss loss() {
        return loss;
    }

    /** ReLU on every hidden layer; softmax for cross-entropy, identity for MSE on the output layer. */
    public Network network() {
        Network.Builder b = Network.input(widths[0]);
        for (int l = 1; l < widths.length - 1; l++) b.dense(widths[l], Activation.RELU);
        Activation out = loss == Loss.CATEGORICAL_CROSS_ENTROPY ? Activation.SOFTMAX : Activation.IDENTITY;
        return b.output(widths[widths.length - 1], out, loss);
    }

    /** FLOPs of one training step at this configuration's batch: 6·n·Σ f_{l−1}·f_l. */
    public double flopsPerStep() {
        return network().flopsPerStep(batch);
    }

    /**
     * {@code rows} random samples that fit the network: features uniform in [−1, 1); one-hot targets
     * for cross-entropy, standard-uniform regression targets for MSE.
     */
    public Dataset randomData(int rows, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int in = widths[0], out = widths[widths.length - 1];
        float[] x = new float[rows * in];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        if (loss == Loss.CATEGORICAL_CROSS_ENTROPY) {
            int[] labels = new int[rows];
            for (int i = 0; i < rows; i++) labels[i] = rng.nextInt(out);
            return Dataset.classification(x, in, labels, out);
        }
        float[] y = new float[rows * out];
        for (int i = 0; i < y.length; i++) y[i] = (float) rng.nextDouble();
        return new Dataset(x, in, y, out);
    }

    /** Looks a configuration up by its id ("fashion", "fashion-8k", "wide"), case-insensitively. */
    public static StandardConfig parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (StandardConfig c : values()) if (c.id.equals(t) || c.name().equalsIgnoreCase(t)) return c;
        throw new IllegalArgumentException("unknown configuration '" + text + "': expected "
                + Arrays.stream(values()).map(StandardConfig::id).collect(Collectors.joining(", ")));
    }

    /** "wide: 1024-4096-4096-4096-1024 relu,relu,relu,identity mse, batch 4096". */
    public String describe() {
        return id + ": " + network().describe() + ", batch " + batch;
    }
}
