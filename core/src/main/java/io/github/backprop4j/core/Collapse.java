package io.github.backprop4j.core;

/**
 * Tells a network that a learning rate far too high left finite but unable to learn (dead ReLUs,
 * saturated units) from one that is still training, after each epoch of {@link Trainer#fit}: the check
 * behind {@link TrainingCollapsedException}, kept beside {@link Divergence} so the trainer reads as the
 * step it runs.
 */
final class Collapse {

    private Collapse() {
    }

    /** Most training rows forwarded after an epoch to tell a collapsed network from a healthy one. */
    static final int PROBE_ROWS = 512;
    /** Fewest: a data set smaller than this (a unit test's handful of rows) gets no collapse check. */
    static final int MIN_PROBE_ROWS = 16;

    /**
     * The rows the collapse check forwards after every epoch: up to {@link #PROBE_ROWS}, spread
     * over the set, and at most an eighth of it (all of it below 64 rows), so the check costs at most
     * about 4% of an epoch's arithmetic; on Fashion-MNIST the whole check measured 1.5-2.4 ms against
     * epochs of 218-312 ms (0.6-0.9%, batch 128 and 8192, cpu backend).
     */
    static Dataset probe(Dataset data) {
        return data.spread(Math.min(PROBE_ROWS, Math.max(64, data.rows() / 8)));
    }

    /**
     * The exception for a network that stayed finite but has stopped learning, or null. The probe rows
     * are forwarded after the epoch (when some hidden layer is a ReLU, or no gradient reached the first
     * layer), and the network has collapsed when either
     * <ul>
     * <li>in at least 90% of them every ReLU of some hidden layer is 0, so the network gives them one
     * output per such layer, and at least 10% of them it therefore necessarily gets wrong (rows whose
     * first all-0 layer is the same but whose targets differ: a dead layer that stands for a majority
     * class is a model, not a collapse); or</li>
     * <li>no gradient reached the first layer in the epoch's last step (its largest element at most
     * {@link #STOPPED_GRADIENT} of the largest error at the output) though the loss had one (that error
     * is not 0: a saturated perfect fit does not count), and in at least 99% of the rows some hidden
     * layer has every unit dead or saturated (sigmoid 0 or 1, tanh ±1, within {@link #SATURATED}): no
     * gradient from them reaches the layers below.</li>
     * </ul>
     * Activations whose derivative is never 0 (leaky ReLU, GELU, identity) never block a row. Probe rows
     * that are all the same (all zeros, say), or fewer than {@link #MIN_PROBE_ROWS}, say too little about
     * the network and give no verdict.
     */
    static TrainingCollapsedException check(Model model, Matrix firstWeightGradient, Matrix outputError, Dataset probe,
                                            int epoch, long step, int stepInEpoch) {
        Network net = model.network();
        int depth = net.depth(), rows = probe.rows();
        float[] x = probe.features();
        if (depth < 2 || rows < MIN_PROBE_ROWS || !varies(x, rows, net.inputs())) return null;
        boolean relu = false;
        for (int l = 0; l < depth - 1; l++) relu |= net.layers().get(l).activation() == Activation.RELU;
        double firstGradient = maxAbs(model.backend(), firstWeightGradient);
        double error = maxAbs(model.backend(), outputError);
        boolean gradientStopped = error > 0 && firstGradient <= STOPPED_GRADIENT * error;
        if (!relu && !gradientStopped) return null;
        float[][] a = model.activations(x, rows);
        int[] deadAt = new int[depth - 1], blockedAt = new int[depth - 1], firstDead = new int[rows];
        int dead = 0, blocked = 0;
        for (int r = 0; r < rows; r++) {
            firstDead[r] = -1;
            for (int l = 0; l < depth - 1; l++)
                if (net.layers().get(l).activation() == Activation.RELU && blocks(Activation.RELU, a[l], r, net.fanOut(l))) {
                    deadAt[l]++;
                    dead++;
                    firstDead[r] = l;
                    break;
                }
            for (int l = 0; l < depth - 1; l++)
                if (blocks(net.layers().get(l).activation(), a[l], r, net.fanOut(l))) {
                    blockedAt[l]++;
                    blocked++;
                    break;
                }
        }
        String cause;
        int layer;
        if (dead >= SAME_OUTPUT_FRACTION * rows
                && necessarilyWrong(probe, firstDead, depth - 1) >= (1 - SAME_OUTPUT_FRACTION) * dead) {
            layer = mostOf(deadAt);
            int outputs = 0;
            StringBuilder where = new StringBuilder();
            for (int l = 0; l < depth - 1; l++)
                if (deadAt[l] > 0) {
                    outputs++;
                    where.append(where.isEmpty() ? "" : ", ").append("layer ").append(l + 1).append(" on ").append(deadAt[l]);
                }
            cause = String.format(java.util.Locale.ROOT, "on %d of the %d training rows checked every ReLU of a hidden "
                    + "layer is 0 (%s), so the network gives them %s, and their targets differ: it no longer tells "
                    + "those inputs apart", dead, rows, where, outputs == 1 ? "one and the same output"
                            : "at most " + outputs + " different outputs");
        } else if (gradientStopped && blocked >= COLLAPSED_FRACTION * rows) {
            layer = mostOf(blockedAt);
            Activation act = net.layers().get(layer).activation();
            cause = String.format(java.util.Locale.ROOT, "in %d of the %d training rows checked, a hidden layer has "
                    + "every unit %s (layer %d, with %d %s units, in %d rows), so no gradient from those rows reaches "
                    + "the layers below it: in the epoch's last step (%d) layer 1's weight gradient was at most %.2g, "
                    + "against %.2g for the error at the output, and the network has stopped learning", blocked, rows,
                    act == Activation.RELU ? "at 0 (dead)" : "saturated", layer + 1, net.fanOut(layer),
                    act.name().toLowerCase(java.util.Locale.ROOT), blockedAt[layer], step, firstGradient, error);
        } else {
            return null;
        }
        double meanAbs = 0;
        float[] weights = model.downloadWeights(layer);
        for (float v : weights) meanAbs += Math.abs(v);
        meanAbs /= weights.length;
        return new TrainingCollapsedException(String.format(java.util.Locale.ROOT, "training collapsed in epoch %d: %s "
                + "(%s; mean |W| of layer %d is %.3g); lower the learning rate", epoch, cause, net.describe(), layer + 1,
                meanAbs), epoch, step, stepInEpoch, layer + 1);
    }

    private static int mostOf(int[] counts) {
        int most = 0;
        for (int i = 1; i < counts.length; i++) if (counts[i] > counts[most]) most = i;
        return most;
    }

    /**
     * How many of the dead rows a network cannot get right: the rows whose first all-0 ReLU layer is the
     * same get the same output, so in each such group every row whose target is not the group's most
     * common one is wrong, whatever that output is. Few of them means one output per group may be what
     * the network learned (a majority class that a dead layer stands for), not a collapse.
     */
    private static int necessarilyWrong(Dataset probe, int[] firstDead, int layers) {
        int[] stratum = probe.targetStrata();
        int strata = 0;
        for (int s : stratum) strata = Math.max(strata, s + 1);
        int wrong = 0;
        for (int l = 0; l < layers; l++) {
            int[] count = new int[strata];
            int n = 0, most = 0;
            for (int r = 0; r < firstDead.length; r++) {
                if (firstDead[r] != l) continue;
                most = Math.max(most, ++count[stratum[r]]);
                n++;
            }
            wrong += n - most;
        }
        return wrong;
    }

    /** The share of the probe rows a blocking layer must cover for a collapse with a stopped gradient. */
    private static final double COLLAPSED_FRACTION = 0.99;
    /**
     * The share of the probe rows on which a ReLU layer must be all 0 for a collapse (and 1 minus it, the
     * share of those rows the network must necessarily get wrong): a healthy 256-unit layer is never all
     * 0 on a row, while a learning rate 6× too high (momentum 0.3 on Fashion-MNIST) leaves 0 on most rows
     * at 0.2 accuracy.
     */
    private static final double SAME_OUTPUT_FRACTION = 0.9;

    /** Whether row r of a layer's outputs has every unit's derivative 0 or as good as 0 (dead or saturated). */
    private static boolean blocks(Activation act, float[] a, int r, int width) {
        for (int u = r * width; u < (r + 1) * width; u++) {
            float v = a[u];
            boolean flat = switch (act) {
                case RELU -> v <= 0;
                case SIGMOID -> v <= SATURATED || v >= 1 - SATURATED;
                case TANH -> Math.abs(v) >= 1 - SATURATED;
                default -> false;
            };
            if (!flat) return false;
        }
        return true;
    }

    /** Whether some column of the rows × width values differs between rows. */
    private static boolean varies(float[] values, int rows, int width) {
        for (int i = 1; i < rows; i++)
            for (int c = 0; c < width; c++)
                if (values[i * width + c] != values[c]) return true;
        return false;
    }

    private static double maxAbs(Backend backend, Matrix m) {
        float[] host = new float[(int) m.size()];
        backend.download(m, host);
        double max = 0;
        for (float v : host) max = Math.max(max, Math.abs(v));
        return max;
    }

    /**
     * The first layer's largest weight gradient, relative to the largest error at the output, at or below
     * which no learning signal reaches it: exactly 0 behind dead ReLUs; behind saturated tanh or sigmoid
     * units a backend whose tanh stops an ulp short of 1 leaves about 1e-6.
     */
    private static final double STOPPED_GRADIENT = 1e-5;

    /** 1 − |a| (tanh) or the distance from 0 or 1 (sigmoid) at or below which a unit counts as saturated. */
    private static final float SATURATED = 0x1p-21f;
}
