package io.github.backprop4j.core;

/**
 * Finds where a non-finite loss came from, after the fact: downloads and scans the last step's
 * buffers only once divergence has been detected, so healthy steps pay nothing for it.
 */
final class Divergence {

    /** The first layer (1-based, 0 = none) holding a non-finite value, and which buffer it was. */
    record Origin(int layer, String buffer) {
    }

    private Divergence() {
    }

    /**
     * Forward activations first, in layer order: the first non-finite Z or A is where the blow-up
     * appeared in the forward pass. If the forward pass was finite, the loss gradient produced it:
     * look at gradients, then parameters, from the output layer back.
     *
     * <p>Only buffers the SPI guarantees to be written are read: {@link Backend#denseForward} may leave
     * Z unwritten where {@link Activation#derivativeFromOutput()} holds (a GEMM epilogue that applies
     * the activation), so for those layers A alone is looked at, on every backend alike.
     */
    static Origin locate(Backend backend, Model model, Workspace ws, Matrix[] dW, Matrix[] db) {
        int depth = model.network().depth();
        for (int l = 0; l < depth; l++) {
            boolean zWritten = !model.network().layers().get(l).activation().derivativeFromOutput();
            if (zWritten && !finite(backend, ws.z[l])) return new Origin(l + 1, "pre-activation Z");
            if (!finite(backend, ws.a[l])) return new Origin(l + 1, "activation A");
        }
        for (int l = depth - 1; l >= 0; l--) {
            if (!finite(backend, ws.delta[l])) return new Origin(l + 1, "error δ");
            if (!finite(backend, dW[l])) return new Origin(l + 1, "weight gradient dW");
            if (!finite(backend, db[l])) return new Origin(l + 1, "bias gradient db");
        }
        for (int l = depth - 1; l >= 0; l--) {
            if (!finite(backend, model.weights(l))) return new Origin(l + 1, "weights W");
            if (!finite(backend, model.bias(l))) return new Origin(l + 1, "bias b");
        }
        return new Origin(0, "loss");
    }

    /** The first layer (from the input on) whose weights or bias hold a non-finite value, or null. */
    static Origin firstNonFiniteParameter(Backend backend, Model model) {
        for (int l = 0; l < model.network().depth(); l++) {
            if (!finite(backend, model.weights(l))) return new Origin(l + 1, "weights W");
            if (!finite(backend, model.bias(l))) return new Origin(l + 1, "bias b");
        }
        return null;
    }

    private static boolean finite(Backend backend, Matrix m) {
        float[] host = new float[(int) m.size()];
        backend.download(m, host);
        for (float v : host)
            if (!Float.isFinite(v)) return false;
        return true;
    }
}
