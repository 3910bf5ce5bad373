package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Activation;
import io.github.backprop4j.core.Backend;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Trainer;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * Per-layer health after an epoch: ‖dW‖ of the epoch's last batch, mean |W|, and for ReLU-family
 * hidden layers the fraction of active units (positive activations) on a fixed batch of training rows.
 */
final class Diagnostics {

    static final double VANISHING = 1e-7;
    static final double EXPLODING = 1e3;

    private Diagnostics() {
    }

    static void report(Trainer trainer, Dataset train, int diagnosticRows, PrintWriter out, ArrayNode json) {
        Model model = trainer.model();
        Network net = model.network();
        Backend b = model.backend();
        int rows = Math.min(Math.max(diagnosticRows, 0), train.rows());
        boolean reluHidden = false;
        for (int l = 0; l < net.depth() - 1; l++) {
            Activation act = net.layers().get(l).activation();
            reluHidden |= act == Activation.RELU || act == Activation.LEAKY_RELU;
        }
        float[][] activations = null;
        if (rows > 0 && reluHidden) {
            int[] first = new int[rows];
            for (int i = 0; i < rows; i++) first[i] = i;
            float[] x = new float[rows * net.inputs()], y = new float[rows * net.outputs()];
            train.gather(first, 0, rows, x, y);
            activations = model.activations(x, rows);
        }
        for (int l = 0; l < net.depth(); l++) {
            float[] g = new float[(int) trainer.weightGradient(l).size()];
            b.download(trainer.weightGradient(l), g);
            double sq = 0;
            for (float v : g) sq += (double) v * v;
            double norm = Math.sqrt(sq);
            float[] w = model.downloadWeights(l);
            double abs = 0;
            for (float v : w) abs += Math.abs(v);
            abs /= w.length;
            Activation act = net.layers().get(l).activation();
            boolean hidden = l < net.depth() - 1;
            ObjectNode o = json.addObject().put("layer", l + 1).put("grad_norm", norm).put("mean_abs_weight", abs);
            String active = "";
            if (activations != null && hidden && (act == Activation.RELU || act == Activation.LEAKY_RELU)) {
                int units = net.fanOut(l);
                float[] a = activations[l];
                long positive = 0;
                boolean[] ever = new boolean[units];
                for (int i = 0; i < a.length; i++)
                    if (a[i] > 0) {
                        positive++;
                        ever[i % units] = true;
                    }
                int dead = 0;
                for (boolean e : ever) if (!e) dead++;
                double fraction = (double) positive / a.length;
                o.put("active_fraction", fraction).put("dead_units", dead);
                active = String.format(Locale.ROOT, "  active %5.1f%% (dead units %d/%d)", 100 * fraction, dead, units);
            }
            out.printf(Locale.ROOT, "  layer %d %4d→%-4d %-8s ‖dW‖ %.3e  mean|W| %.4f%s%n", l + 1, net.fanIn(l),
                    net.fanOut(l), act.name().toLowerCase(Locale.ROOT), norm, abs, active);
            if (!Double.isFinite(norm) || norm > EXPLODING)
                out.printf(Locale.ROOT, "  warning: layer %d gradient is exploding (‖dW‖ = %.3e > %.0e): lower --lr%n",
                        l + 1, norm, EXPLODING);
            else if (norm < VANISHING)
                out.printf(Locale.ROOT, "  warning: layer %d gradient is vanishing (‖dW‖ = %.3e < %.0e)%n",
                        l + 1, norm, VANISHING);
        }
    }
}
