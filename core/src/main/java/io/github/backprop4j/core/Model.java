package io.github.backprop4j.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
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
    private volatile boolean closed;

    private Model(Network network, Backend backend) {
        this.network = Objects.requireNonNull(network, "network must not be null");
        this.backend = Objects.requireNonNull(backend, "backend must not be null");
        this.weights = new Matrix[network.depth()];
        this.biases = new Matrix[network.depth()];
        try {
            for (int l = 0; l < network.depth(); l++) {
                weights[l] = backend.allocate(network.fanIn(l), network.fanOut(l));
                biases[l] = backend.allocate(1, network.fanOut(l));
            }
        } catch (RuntimeException | Error e) {
            close();   // what was allocated before the failure
            throw e;
        }
    }

    /** Runs {@code fill} on a new model, closing it if filling fails. */
    private static Model filled(Network network, Backend backend, java.util.function.Consumer<Model> fill) {
        Objects.requireNonNull(backend, "backend must not be null");
        try (var _ = backend.enterHost("new Model")) {
            Model m = new Model(network, backend);
            try {
                fill.accept(m);
                return m;
            } catch (RuntimeException | Error e) {
                m.close();
                throw e;
            }
        }
    }

    /**
     * New parameters drawn from a seed: He-normal (σ = √(2/fan-in)) before ReLU-family and GELU layers (both
     * kinds), Glorot-normal (σ = √(2/(fan-in+fan-out))) before the others; biases zero.
     */
    public static Model initialize(Backend backend, Network network, long seed) {
        return filled(network, backend, m -> {
            SplittableRandom rng = new SplittableRandom(seed);
            for (int l = 0; l < network.depth(); l++) {
                int in = network.fanIn(l), out = network.fanOut(l);
                double sigma = switch (network.layers().get(l).activation()) {
                    case RELU, LEAKY_RELU, GELU, GELU_TANH -> Math.sqrt(2.0 / in);
                    default -> Math.sqrt(2.0 / ((double) in + out));
                };
                float[] w = new float[(int) m.weights[l].size()];   // the backend checked the size when allocating
                for (int i = 0; i < w.length; i++) w[i] = (float) (gaussian(rng) * sigma);
                backend.upload(w, m.weights[l]);
            }
        });
    }

    /**
     * Parameters given on the host (row-major W_l and b_l per layer), e.g. from a checkpoint or a test.
     * Every array must have its layer's size and hold finite values only; nothing is allocated on the
     * device before all of them are checked.
     */
    public static Model of(Backend backend, Network network, float[][] weights, float[][] biases) {
        Objects.requireNonNull(backend, "backend must not be null");
        Objects.requireNonNull(network, "network must not be null");
        Objects.requireNonNull(weights, "weights must not be null");
        Objects.requireNonNull(biases, "biases must not be null");
        if (weights.length != network.depth() || biases.length != network.depth())
            throw new ShapeException("network has " + network.depth() + " layers but " + weights.length
                    + " weight and " + biases.length + " bias arrays were given");
        for (int l = 0; l < network.depth(); l++) {
            checkParameter("weights", l, weights[l], (long) network.fanIn(l) * network.fanOut(l),
                    network.fanIn(l) + "×" + network.fanOut(l), network.fanOut(l));
            checkParameter("bias", l, biases[l], network.fanOut(l), "1×" + network.fanOut(l), network.fanOut(l));
        }
        return filled(network, backend, m -> {
            for (int l = 0; l < network.depth(); l++) {
                backend.upload(weights[l], m.weights[l]);
                backend.upload(biases[l], m.biases[l]);
            }
        });
    }

    private static void checkParameter(String what, int layer, float[] v, long size, String shape, int cols) {
        String name = "layer " + (layer + 1) + " " + what;
        if (v == null) throw new NullPointerException(name + " must not be null");
        if (v.length != size)
            throw new ShapeException(name + ": " + v.length + " floats given, " + shape + " needs " + size);
        for (int i = 0; i < v.length; i++)
            if (!Float.isFinite(v[i]))
                throw new IllegalArgumentException(name + " value " + v[i] + " at [" + (i / cols) + ", " + (i % cols)
                        + "] is not finite");
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
        checkOpen("downloadWeights");
        float[] w = new float[(int) weights[layer].size()];
        backend.download(weights[layer], w);
        return w;
    }

    public float[] downloadBias(int layer) {
        checkOpen("downloadBias");
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

    /** Whether {@link #close()} was called: its parameters are gone from the device. */
    public boolean isClosed() {
        return closed;
    }

    /** Throws when the model is closed, naming the operation that needed it. */
    void checkOpen(String op) {
        if (closed) throw new IllegalStateException(op + ": the model (" + network.describe() + ") is closed");
    }

    @Override
    public void close() {
        try (var _ = backend.enterRelease("close model")) {
            closed = true;
            for (Matrix m : weights) if (m != null) m.close();
            for (Matrix m : biases) if (m != null) m.close();
        }
    }
}
