package io.github.backprop4j.core;

/**
 * How to open a backend.
 *
 * <pre>
 * Backend second = Backends.open("opencl", BackendOptions.defaults().withDevice(1));
 * Backend fourThreads = Backends.open("cpu", BackendOptions.defaults().withThreads(4));
 * </pre>
 *
 * @param device    index of the device among those the backend sees (0 = first)
 * @param precision GEMM arithmetic; a backend that cannot honour it refuses in {@code open}
 * @param threads   worker threads for host-side backends (0 = one per available core)
 */
public record BackendOptions(int device, Precision precision, int threads) {

    /** Validates the components. */
    public BackendOptions {
        if (device < 0) throw new IllegalArgumentException("device index must be >= 0, got " + device);
        if (precision == null) throw new IllegalArgumentException("precision must not be null");
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    }

    /**
     * The first device, fp32, one thread per core.
     *
     * @return the defaults
     */
    public static BackendOptions defaults() {
        return new BackendOptions(0, Precision.FP32, 0);
    }

    /**
     * These options with another precision.
     *
     * @param p the precision
     * @return new options
     */
    public BackendOptions withPrecision(Precision p) {
        return new BackendOptions(device, p, threads);
    }

    /**
     * These options with another device index.
     *
     * @param d the device index, ≥ 0
     * @return new options
     */
    public BackendOptions withDevice(int d) {
        return new BackendOptions(d, precision, threads);
    }

    /**
     * These options with another thread count.
     *
     * @param t worker threads, 0 for one per core
     * @return new options
     */
    public BackendOptions withThreads(int t) {
        return new BackendOptions(device, precision, t);
    }
}
