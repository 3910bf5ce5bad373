package io.github.backprop4j.core.conformance;

import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Loss;
import io.github.backprop4j.core.Network;

/**
 * A float64 MLP written from the seeds' equations with plain loops, independent of every backend:
 * the reference that whole-network gradients are checked against. With dropout masks (per layer, null
 * where a layer has none) a layer passes a ⊙ mask on, and δ flows back through the same mask.
 */
final class ReferenceMlp {

    final Network net;
    final double[][] w; // w[l][i * fanOut + j]
    final double[][] b;
    private final float[][] masks;

    ReferenceMlp(Network net, float[][] w, float[][] b) {
        this(net, w, b, new float[net.depth()][]);
    }

    ReferenceMlp(Network net, float[][] w, float[][] b, float[][] masks) {
        this.net = net;
        this.masks = masks;
        this.w = new double[w.length][];
        this.b = new double[b.length][];
        for (int l = 0; l < w.length; l++) {
            this.w[l] = Check.toDouble(w[l]);
            this.b[l] = Check.toDouble(b[l]);
        }
    }

    /** What the layer after l reads: a[l], or a[l] ⊙ mask. */
    private double[] passedOn(double[][] a, int l) {
        if (masks[l] == null) return a[l];
        double[] out = new double[a[l].length];
        for (int i = 0; i < out.length; i++) out[i] = a[l][i] * masks[l][i];
        return out;
    }

    record Result(double loss, double[][] dW, double[][] db) {
    }

    /** Mean loss over the n rows of x (row-major) against targets y. */
    double loss(double[] x, double[] y, int n) {
        return run(x, y, n, false).loss();
    }

    Result gradients(double[] x, double[] y, int n) {
        return run(x, y, n, true);
    }

    /** The network's outputs for the n rows of x (row-major). */
    double[] predict(double[] x, int n) {
        int depth = net.depth();
        double[][] z = new double[depth][], a = new double[depth][];
        forward(x, n, z, a);
        return a[depth - 1];
    }

    /** Fills z[l] and a[l], each n × fanOut(l), for every layer l. */
    private void forward(double[] x, int n, double[][] z, double[][] a) {
        int depth = net.depth();
        double[] in = x;
        for (int l = 0; l < depth; l++) {
            int fi = net.fanIn(l), fo = net.fanOut(l);
            Activation act = net.layers().get(l).activation();
            z[l] = new double[n * fo];
            a[l] = new double[n * fo];
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < fo; j++) {
                    double s = b[l][j];
                    for (int i = 0; i < fi; i++) s += in[r * fi + i] * w[l][i * fo + j];
                    z[l][r * fo + j] = s;
                }
                if (act == Activation.SOFTMAX) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < fo; j++) max = Math.max(max, z[l][r * fo + j]);
                    for (int j = 0; j < fo; j++) sum += Math.exp(z[l][r * fo + j] - max);
                    for (int j = 0; j < fo; j++) a[l][r * fo + j] = Math.exp(z[l][r * fo + j] - max) / sum;
                } else {
                    for (int j = 0; j < fo; j++) a[l][r * fo + j] = OpsConformance.f(act, z[l][r * fo + j]);
                }
            }
            in = passedOn(a, l);
        }
    }

    private Result run(double[] x, double[] y, int n, boolean backward) {
        int depth = net.depth();
        double[][] z = new double[depth][], a = new double[depth][];
        forward(x, n, z, a);
        int out = net.outputs();
        double[] yh = a[depth - 1];
        double loss = 0;
        double[] delta = new double[n * out];
        Activation outAct = net.outputActivation();
        for (int i = 0; i < n * out; i++) {
            double p = yh[i], t = y[i];
            loss += switch (net.loss()) {
                case MSE -> 0.5 * (p - t) * (p - t);
                case BINARY_CROSS_ENTROPY -> -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
                case CATEGORICAL_CROSS_ENTROPY -> -t * Math.log(p);
            };
            // dJ/dZ at the output: the cross-entropies simplify to (p - t)/n on their activations;
            // MSE is dJ/dA (p - t)/n times f'(z).
            delta[i] = (p - t) / n;
            if (net.loss() == Loss.MSE) delta[i] *= OpsConformance.df(outAct, z[depth - 1][i]);
        }
        loss /= n;
        if (!backward) return new Result(loss, null, null);
        double[][] dW = new double[depth][], db = new double[depth][];
        for (int l = depth - 1; l >= 0; l--) {
            int fi = net.fanIn(l), fo = net.fanOut(l);
            double[] prev = l == 0 ? x : passedOn(a, l - 1);
            dW[l] = new double[fi * fo];
            db[l] = new double[fo];
            for (int r = 0; r < n; r++)
                for (int j = 0; j < fo; j++) {
                    double d = delta[r * fo + j];
                    db[l][j] += d;
                    for (int i = 0; i < fi; i++) dW[l][i * fo + j] += prev[r * fi + i] * d;
                }
            if (l > 0) {
                Activation act = net.layers().get(l - 1).activation();
                double[] next = new double[n * fi];
                for (int r = 0; r < n; r++)
                    for (int i = 0; i < fi; i++) {
                        double s = 0;
                        for (int j = 0; j < fo; j++) s += delta[r * fo + j] * w[l][i * fo + j];
                        if (masks[l - 1] != null) s *= masks[l - 1][r * fi + i];
                        next[r * fi + i] = s * OpsConformance.df(act, z[l - 1][r * fi + i]);
                    }
                delta = next;
            }
        }
        return new Result(loss, dW, db);
    }
}
