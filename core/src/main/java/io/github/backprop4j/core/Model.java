package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * A network's parameters, resident on one backend: W_l (fan-in × fan-out) and b_l (1 × fan-out).
 * Host copies are made only on request (checkpoints, diagnostics, tests).
 */
public final class Model implements AutoCloseable {

    private final Network network;
    private final Backend backend;
    private final Matrix[] weights;
    private final Matrix[] biases;

    private Model(Network network, Backend backend) {
        this.network = network;
        this.backend = backend;
        this.weights = new Matrix[network.depth()];
        this.biases = new Matrix[network.depth()];
        for (int l = 0; l < network.depth(); l++) {
            weights[l] = backend.allocate(network.fanIn(l), network.fanOut(l));
            biases[l] = backend.allocate(1, network.fanOut(l));
        }
    }

    /**
     * New parameters drawn from a seed: He-normal (σ = √(2/fan-in)) before ReLU-family and GELU layers,
     * Glorot-normal (σ = √(2/(fan-in+fan-out))) before the others; biases zero.
     */
    public static Model initialize(Backend backend, Network network, long seed) {
        try (var _ = backend.enterHost("Model.initialize")) {
            Model m = new Model(network, backend);
            SplittableRandom rng = new SplittableRandom(seed);
            for (int l = 0; l < network.depth(); l++) {
                int in = network.fanIn(l), out = network.fanOut(l);
                double sigma = switch (network.layers().get(l).activation()) {
                    case RELU, LEAKY_RELU, GELU -> Math.sqrt(2.0 / in);
                    default -> Math.sqrt(2.0 / (in + out));
                };
                float[] w = new float[in * out];
                for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(rng) * sigma);
                backend.upload(w, m.weights[l]);
            }
            return m;
        }
    }

    /** Parameters given on the host (row-major W_l and b_l per layer), e.g. from a checkpoint or a test. */
    public static Model of(Backend backend, Network network, float[][] weights, float[][] biases) {
        if (weights.length != network.depth() || biases.length != network.depth())
            throw new ShapeException("network has " + network.depth() + " layers but " + weights.length
                    + " weight and " + biases.length + " bias arrays were given");
        try (var _ = backend.enterHost("Model.of")) {
            Model m = new Model(network, backend);
            for (int l = 0; l < network.depth(); l++) {
                backend.upload(weights[l], m.weights[l]);
                backend.upload(biases[l], m.biases[l]);
            }
            return m;
        }
    }

    private static double gaussian(SplittableRandom rng) {
        // Box–Muller: SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default.
        double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    public Network network() {
        return network;
    }

    public Backend backend() {
        return backend;
    }

    public Matrix weights(int layer) {
        return weights[layer];
    }

    public Matrix bias(int layer) {
        return biases[layer];
    }

    public float[] downloadWeights(int layer) {
        float[] w = new float[(int) weights[layer].size()];
        backend.download(weights[layer], w);
        return w;
    }

    public float[] downloadBias(int layer) {
        float[] b = new float[(int) biases[layer].size()];
        backend.download(biases[layer], b);
        return b;
    }

    /**
     * Writes this model as a standard ONNX file, atomically, for serving in ONNX Runtime or another ONNX
     * runtime: the graph takes the features as this model takes them. {@link OnnxExport} adds an input
     * normalization, class names and metadata.
     *
     * @param file the ONNX file to write; missing parent directories are created
     * @throws IOException if it cannot be written
     * @throws IllegalArgumentException if a parameter is not finite (a diverged model)
     */
    public void exportOnnx(Path file) throws IOException {
        OnnxExport.of(this).write(file);
    }

    @Override
    public void close() {
        try (var _ = backend.enterRelease("close model")) {
            for (Matrix m : weights) m.close();
            for (Matrix m : biases) m.close();
        }
    }
}
