package io.github.backprop4j.core;

/**
 * How to open a backend.
 *
 * @param device    index of the device among those the backend sees (0 = first)
 * @param precision GEMM arithmetic; a backend that cannot honour it refuses in {@code open}
 * @param threads   worker threads for host-side backends (0 = one per available core)
 */
public record BackendOptions(int device, Precision precision, int threads) {

    public BackendOptions {
        if (device < 0) throw new IllegalArgumentException("device index must be >= 0, got " + device);
        if (precision == null) throw new IllegalArgumentException("precision must not be null");
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    }

    public static BackendOptions defaults() {
        return new BackendOptions(0, Precision.FP32, 0);
    }

    public BackendOptions withPrecision(Precision p) {
        return new BackendOptions(device, p, threads);
    }

    public BackendOptions withDevice(int d) {
        return new BackendOptions(d, precision, threads);
    }

    public BackendOptions withThreads(int t) {
        return new BackendOptions(device, precision, t);
    }
}
