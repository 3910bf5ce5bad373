package io.github.backprop4j.core;

/**
 * Fixed device buffers for one batch size: inputs X, targets Y, and per layer Z, A and δ, plus the host
 * arrays a batch is staged in. A training workspace ({@link Trainer}) has all of them, and for a layer with
 * dropout its masked activation A ⊙ M (what the next layer reads in training) and the mask M; an inference
 * workspace ({@link Model}) computes each layer in place (Z is A) and keeps δ for the output layer
 * only, where the loss writes it.
 */
final class Workspace implements AutoCloseable {

    private final Backend backend;
    final int rows;
    final Matrix x;
    final Matrix y;
    final Matrix[] z;
    final Matrix[] a;
    final Matrix[] delta;
    /** Per layer with dropout, in training (else null): A ⊙ mask and the mask. */
    final Matrix[] dropped;
    final Matrix[] mask;
    private final float[] xHost;
    private final float[] yHost;
    /** The output layer's activations on the host, for inference. */
    final float[] outHost;
    /** The training step on these buffers, which the backend may record ({@link Backend#replay}). */
    Runnable stepBody;

    private Workspace(Backend backend, Network net, int rows, boolean training) {
        this.backend = backend;
        this.rows = rows;
        int depth = net.depth(), last = depth - 1;
        z = new Matrix[depth];
        a = new Matrix[depth];
        delta = new Matrix[depth];
        dropped = new Matrix[depth];
        mask = new Matrix[depth];
        Matrix xm = null, ym = null;
        try (var _ = backend.enterHost("workspace")) {
            xm = backend.allocate(rows, net.inputs());
            ym = backend.allocate(rows, net.outputs());
            for (int l = 0; l < depth; l++) {
                a[l] = backend.allocate(rows, net.fanOut(l));
                z[l] = training ? backend.allocate(rows, net.fanOut(l)) : a[l];
                if (training || l == last) delta[l] = backend.allocate(rows, net.fanOut(l));
                if (training && net.layers().get(l).dropout() > 0) {
                    dropped[l] = backend.allocate(rows, net.fanOut(l));
                    mask[l] = backend.allocate(rows, net.fanOut(l));
                }
            }
        } catch (RuntimeException | Error e) {
            closeAll(xm, ym);
            throw e;
        }
        x = xm;
        y = ym;
        // the backend has refused any of these shapes beyond one array's reach, so the products fit an int
        xHost = new float[(int) x.size()];
        yHost = new float[(int) y.size()];
        outHost = training ? null : new float[(int) a[last].size()];
    }

    /** Buffers for forward and backward passes (Z, A and δ of every layer). */
    static Workspace forTraining(Backend backend, Network net, int rows) {
        return new Workspace(backend, net, rows, true);
    }

    /** Buffers for forward passes and the loss only. */
    static Workspace forInference(Backend backend, Network net, int rows) {
        return new Workspace(backend, net, rows, false);
    }

    /**
     * Gathers rows order[from..from+rows) (or from..from+rows when order is null) on the host,
     * normalizes their features and targets and uploads them: the step's only transfer.
     */
    void load(Dataset data, int[] order, int from, Normalization normalization, Normalization targetNormalization) {
        if (order == null) data.copyRows(from, rows, xHost, yHost);
        else data.gather(order, from, rows, xHost, yHost);
        normalization.applyInPlace(xHost, rows, data.featureCount());
        targetNormalization.applyInPlace(yHost, rows, data.targetCount());
        try (var _ = backend.enterHost("load")) {
            backend.upload(xHost, x);
            backend.upload(yHost, y);
        }
    }

    /**
     * Uploads rows from..from+rows of {@code features} (row-major, {@code width} wide), normalized; a
     * value that is not finite, raw or normalized, is refused naming its row and column.
     */
    void loadFeatures(float[] features, int width, int from, Normalization normalization, String op) {
        System.arraycopy(features, from * width, xHost, 0, rows * width);
        for (int i = 0; i < rows * width; i++) {
            float v = normalization.apply(xHost[i], i % width);
            if (!Float.isFinite(v))
                throw new IllegalArgumentException(op + ": feature value " + xHost[i] + " at row " + (from + i / width)
                        + ", column " + i % width + (Float.isFinite(xHost[i]) ? " is beyond the float range once "
                        + "normalized (" + normalization.describe() + ")" : " is not finite"));
            xHost[i] = v;
        }
        backend.upload(xHost, x);
    }

    /** The output layer's activations of the last forward pass, downloaded into {@link #outHost}. */
    float[] downloadOutput() {
        backend.download(a[a.length - 1], outHost);
        return outHost;
    }

    @Override
    public void close() {
        try (var _ = backend.enterRelease("close workspace")) {
            closeAll(x, y);
        }
    }

    private void closeAll(Matrix xm, Matrix ym) {
        for (Matrix m : new Matrix[] {xm, ym}) if (m != null) m.close();
        for (Matrix[] layerBuffers : new Matrix[][] {z, a, delta, dropped, mask})
            for (Matrix m : layerBuffers) if (m != null) m.close();   // Z is A in inference: closing twice is a no-op
    }
}
