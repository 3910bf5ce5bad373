package io.github.backprop4j.core;

import java.util.Objects;

/**
 * A {@link Dataset} copied to a model's device once, normalized as that model normalizes its features (and,
 * for regression, its targets), for training
 * without a host-to-device copy per step: each epoch uploads only the shuffled row order (one float per
 * row) and every batch is gathered on the device ({@link Backend#gatherRows}).
 *
 * <pre>
 * try (DeviceDataset resident = DeviceDataset.upload(model, train)) {
 *     trainer.fit(resident, test, 15);
 * }
 * </pre>
 */
public final class DeviceDataset implements AutoCloseable {

    /** Row indices travel as floats; they are exact up to 2^24. */
    public static final int MAX_ROWS = 1 << 24;

    private final Backend backend;
    private final Normalization normalization;
    private final Normalization targetNormalization;
    private final Matrix x;
    private final Matrix y;
    private final Matrix order;
    private final float[] orderHost;
    /** Rows spread over the set, raw, kept on the host for the trainer's collapse check. */
    private final Dataset collapseProbe;

    private DeviceDataset(Backend backend, Normalization normalization, Normalization targetNormalization, Matrix x,
                          Matrix y, Matrix order, Dataset collapseProbe) {
        this.backend = backend;
        this.collapseProbe = collapseProbe;
        this.normalization = normalization;
        this.targetNormalization = targetNormalization;
        this.x = x;
        this.y = y;
        this.order = order;
        this.orderHost = new float[x.rows()];
    }

    /**
     * Uploads the whole of {@code data} to {@code model}'s backend, its features normalized with the
     * model's normalization and its targets with the model's target normalization (set them first).
     *
     * @param model the model it will train
     * @param data  raw features and targets
     * @return the resident copy, to close when done
     */
    public static DeviceDataset upload(Model model, Dataset data) {
        Objects.requireNonNull(model, "model must not be null");
        Objects.requireNonNull(data, "data must not be null");
        model.checkOpen("DeviceDataset.upload");
        model.checkNormalizable(data, "DeviceDataset.upload");
        if (data.rows() > MAX_ROWS)
            throw new IllegalArgumentException("a device-resident data set holds at most " + MAX_ROWS
                    + " rows (indices are gathered as floats); this one has " + data.rows());
        Normalization normalization = model.normalization(), targetNormalization = model.targetNormalization();
        float[] features = data.features(), targets = data.targets();
        if (!normalization.isIdentity()) {
            features = features.clone();
            normalization.applyInPlace(features, data.rows(), data.featureCount());
        }
        if (!targetNormalization.isIdentity()) {
            targets = targets.clone();
            targetNormalization.applyInPlace(targets, data.rows(), data.targetCount());
        }
        Backend backend = model.backend();
        Matrix x = null, y = null, order = null;
        try (var _ = backend.enterHost("DeviceDataset.upload")) {
            x = backend.allocate(data.rows(), data.featureCount());
            y = backend.allocate(data.rows(), data.targetCount());
            order = backend.allocate(1, data.rows());
            backend.upload(features, x);
            backend.upload(targets, y);
            return new DeviceDataset(backend, normalization, targetNormalization, x, y, order,
                    Collapse.probe(data));
        } catch (RuntimeException e) {
            if (x != null) x.close();
            if (y != null) y.close();
            if (order != null) order.close();
            throw e;
        }
    }

    /** The rows the trainer's collapse check forwards ({@link Collapse#probe}). */
    Dataset collapseProbe() {
        return collapseProbe;
    }

    /**
     * The backend holding the rows.
     *
     * @return the backend
     */
    public Backend backend() {
        return backend;
    }

    /**
     * How the features were normalized before upload.
     *
     * @return the model's normalization at upload time
     */
    public Normalization normalization() {
        return normalization;
    }

    /**
     * How the targets were normalized before upload.
     *
     * @return the model's target normalization at upload time
     */
    public Normalization targetNormalization() {
        return targetNormalization;
    }

    /**
     * The number of samples.
     *
     * @return rows
     */
    public int rows() {
        return x.rows();
    }

    /**
     * Features per row.
     *
     * @return the input width
     */
    public int featureCount() {
        return x.cols();
    }

    /**
     * Targets per row.
     *
     * @return the output width
     */
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

    /** Frees the device copy. */
    @Override
    public void close() {
        try (var _ = backend.enterRelease("close device data set")) {
            x.close();
            y.close();
            order.close();
        }
    }
}
