package io.github.backprop4j.core;

/**
 * A {@link Dataset} copied to a backend's device once, for training without a host-to-device copy
 * per step: each epoch uploads only the shuffled row order (one float per row) and every batch is
 * gathered on the device ({@link Backend#gatherRows}).
 */
public final class DeviceDataset implements AutoCloseable {

    /** Row indices travel as floats; they are exact up to 2^24. */
    public static final int MAX_ROWS = 1 << 24;

    private final Backend backend;
    private final Matrix x;
    private final Matrix y;
    private final Matrix order;
    private final float[] orderHost;

    private DeviceDataset(Backend backend, Matrix x, Matrix y, Matrix order) {
        this.backend = backend;
        this.x = x;
        this.y = y;
        this.order = order;
        this.orderHost = new float[x.rows()];
    }

    /** Uploads the whole of {@code data} to {@code backend}. */
    public static DeviceDataset upload(Backend backend, Dataset data) {
        java.util.Objects.requireNonNull(backend, "backend must not be null");
        java.util.Objects.requireNonNull(data, "data must not be null");
        if (data.rows() > MAX_ROWS)
            throw new IllegalArgumentException("a device-resident data set holds at most " + MAX_ROWS
                    + " rows (indices are gathered as floats); this one has " + data.rows());
        Matrix x = null, y = null, order = null;
        try (var _ = backend.enterHost("DeviceDataset.upload")) {
            x = backend.allocate(data.rows(), data.featureCount());
            y = backend.allocate(data.rows(), data.targetCount());
            order = backend.allocate(1, data.rows());
            backend.upload(data.features(), x);
            backend.upload(data.targets(), y);
            return new DeviceDataset(backend, x, y, order);
        } catch (RuntimeException e) {
            if (x != null) x.close();
            if (y != null) y.close();
            if (order != null) order.close();
            throw e;
        }
    }

    public Backend backend() {
        return backend;
    }

    public int rows() {
        return x.rows();
    }

    public int featureCount() {
        return x.cols();
    }

    public int targetCount() {
        return y.cols();
    }

    /** Uploads a new epoch order (a permutation of 0..rows-1). */
    void shuffle(int[] permutation) {
        for (int i = 0; i < permutation.length; i++) orderHost[i] = permutation[i];
        backend.upload(orderHost, order);
    }

    /** Gathers rows order[from .. from + xBatch.rows()) into the batch buffers. */
    void gather(int from, Matrix xBatch, Matrix yBatch) {
        try (var _ = backend.enter("gather")) {
            backend.gatherRows(x, order, from, xBatch);
            backend.gatherRows(y, order, from, yBatch);
        }
    }

    @Override
    public void close() {
        try (var _ = backend.enterRelease("close device data set")) {
            x.close();
            y.close();
            order.close();
        }
    }
}
