package io.github.backprop4j.core.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Model;
import io.github.backprop4j.core.Network;
import io.github.backprop4j.core.Optimizer;
import io.github.backprop4j.core.Trainer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Central finite differences: (1) in float64 on the reference network, which checks the backward
 * equations themselves (h = 1e-6, tight); (2) on the backend's own loss, perturbing fp32 weights
 * (h = 1e-2, loose), which checks that the backend's analytic gradients are gradients of its loss. Nets
 * with dropout are checked with their masks fixed (no update runs, so the step count, and with it every
 * mask, stays the same).
 */
public abstract class FiniteDifferenceGradientCheck extends ConformanceBase {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> caseArgs() {
        return NetworkGradientConformance.caseArgs();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseArgs")
    void referenceGradientsAreDerivativesOfTheLoss(NetworkGradientConformance.Case c) {
        int n = 5;
        Object[] p = NetworkGradientConformance.problem(c, n);
        ReferenceMlp ref = new ReferenceMlp(c.net(), (float[][]) p[0], (float[][]) p[1],
                NetworkGradientConformance.masks(c.net(), n, c.seed()));
        double[] x = Check.toDouble((float[]) p[2]), y = Check.toDouble((float[]) p[3]);
        ReferenceMlp.Result g = ref.gradients(x, y, n);
        double h = 1e-6;
        for (int l = 0; l < c.net().depth(); l++) {
            for (double[][] pair : new double[][][]{{ref.w[l], g.dW()[l]}, {ref.b[l], g.db()[l]}}) {
                double[] param = pair[0], grad = pair[1];
                for (int i = 0; i < param.length; i += Math.max(1, param.length / 7)) {
                    double keep = param[i];
                    param[i] = keep + h;
                    double up = ref.loss(x, y, n);
                    param[i] = keep - h;
                    double down = ref.loss(x, y, n);
                    param[i] = keep;
                    double numeric = (up - down) / (2 * h);
                    assertTrue(Math.abs(numeric - grad[i]) <= 1e-6 * Math.max(1, Math.abs(numeric)),
                            c + " layer " + (l + 1) + " param " + i + ": numeric " + numeric + " vs analytic " + grad[i]);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("caseArgs")
    void backendGradientsAreDerivativesOfBackendLoss(NetworkGradientConformance.Case c) {
        int n = 5;
        Network net = c.net();
        Object[] p = NetworkGradientConformance.problem(c, n);
        float[][] w = (float[][]) p[0], b = (float[][]) p[1];
        Dataset batch = new Dataset((float[]) p[2], net.inputs(), (float[]) p[3], net.outputs());
        ReferenceMlp ref = new ReferenceMlp(net, w, b, NetworkGradientConformance.masks(net, n, c.seed()));
        double[] xd = Check.toDouble((float[]) p[2]), yd = Check.toDouble((float[]) p[3]);
        ReferenceMlp.Result refGrad = ref.gradients(xd, yd, n);
        int checked = 0;
        try (Model model = Model.of(backend, net, w, b); Trainer t = new Trainer(model, Optimizer.sgd(0.1f), n)) {
            t.setDropoutSeed(c.seed()); // no update runs: every loss below sees the same masks
            Trainer.Gradients analytic = t.gradients(batch);
            float h = 1e-2f;
            for (int l = 0; l < net.depth(); l++) {
                float[] wl = w[l];
                for (int i = 0; i < wl.length; i += Math.max(1, wl.length / 3)) {
                    // A ReLU unit crossing zero inside ±h makes any difference quotient disagree with the
                    // derivative; the float64 reference tells such points apart, and they are skipped.
                    double keepRef = ref.w[l][i];
                    ref.w[l][i] = keepRef + h;
                    double refUp = ref.loss(xd, yd, n);
                    ref.w[l][i] = keepRef - h;
                    double refDown = ref.loss(xd, yd, n);
                    ref.w[l][i] = keepRef;
                    double refNumeric = (refUp - refDown) / (2 * h);
                    if (Math.abs(refNumeric - refGrad.dW()[l][i]) > 1e-2 * Math.max(0.1, Math.abs(refNumeric))) continue;
                    float keep = wl[i];
                    wl[i] = keep + h;
                    backend.upload(wl, model.weights(l));
                    double up = t.gradients(batch).loss();
                    wl[i] = keep - h;
                    backend.upload(wl, model.weights(l));
                    double down = t.gradients(batch).loss();
                    wl[i] = keep;
                    backend.upload(wl, model.weights(l));
                    double numeric = (up - down) / (2 * h);
                    double a = analytic.dW()[l][i];
                    assertTrue(Math.abs(numeric - a) <= 3e-2 * Math.max(0.1, Math.abs(numeric)) * BackendFixture.toleranceScale(),
                            c + " layer " + (l + 1) + " weight " + i + ": numeric " + numeric + " vs backend " + a);
                    checked++;
                }
            }
        }
        assertTrue(checked > 0, c + ": every sampled weight sat at a kink; no finite difference was checked");
    }
}
