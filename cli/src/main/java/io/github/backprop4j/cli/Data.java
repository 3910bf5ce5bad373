package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Dataset;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Loads a training and a test set from Fashion-MNIST-style IDX files or from a CSV file. */
final class Data {

    static final Path DEFAULT_IDX_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How raw features were turned into network inputs: IDX pixels ÷ 255, or CSV columns standardized. */
    record Normalization(String kind, float[] mean, float[] std) {
        static final Normalization PIXELS = new Normalization("pixels/255", null, null);

        ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode().put("kind", kind);
            if (mean != null) {
                var m = o.putArray("mean");
                for (float v : mean) m.add(v);
                var s = o.putArray("std");
                for (float v : std) s.add(v);
            }
            return o;
        }

        static Normalization fromJson(JsonNode o) {
            String kind = o.path("kind").asText();
            if (!o.has("mean")) return new Normalization(kind, null, null);
            JsonNode mean = o.get("mean"), std = o.path("std");
            if (!mean.isArray() || !std.isArray() || mean.size() != std.size())
                throw new IllegalArgumentException("normalization needs 'mean' and 'std' arrays of one length, got " + o);
            float[] m = new float[mean.size()], s = new float[std.size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = (float) mean.get(i).asDouble(Double.NaN);
                s[i] = (float) std.get(i).asDouble(Double.NaN);
                if (!Float.isFinite(m[i]) || !(s[i] > 0) || !Float.isFinite(s[i]))
                    throw new IllegalArgumentException("normalization of feature " + i + " is mean " + mean.get(i) + ", std "
                            + std.get(i) + ": must be finite with std > 0");
            }
            return new Normalization(kind, m, s);
        }

        /** The same normalization as per-feature {@code (raw − offset) / scale}, the form ONNX export puts into the model. */
        Affine affine(int width) {
            if (mean != null) {
                if (mean.length != width)
                    throw new CliException("the checkpoint's normalization has " + mean.length + " features but its network takes "
                            + width);
                return new Affine(mean, std);
            }
            if (!kind.equals(PIXELS.kind))
                throw new CliException("the checkpoint's normalization '" + kind + "' has no per-feature form (expected "
                        + PIXELS.kind + " or per-feature mean and std)");
            float[] offset = new float[width], scale = new float[width];
            Arrays.fill(scale, 255f);   // Idx.load: (byte & 0xff) / 255f
            return new Affine(offset, scale);
        }

        record Affine(float[] offset, float[] scale) {
        }

        void apply(float[] x, int width) {
            if (mean == null) return;
            if (mean.length != width)
                throw new CliException("the checkpoint's normalization has " + mean.length + " features but the data has "
                        + width);
            for (int i = 0; i < x.length; i++) x[i] = (x[i] - mean[i % width]) / std[i % width];
        }
    }

    /** Train and test sets plus what is needed to describe them (class names, normalization, source). */
    record Loaded(Dataset train, float[] trainX, Dataset test, float[] testX, int[] testLabels, List<String> classes,
                  Normalization normalization, ObjectNode source, String description) {
        int featureCount() {
            return test.featureCount();
        }
    }

    private Data() {
    }

    static Loaded idx(Path dir, boolean withTrain) {
        if (!Files.isDirectory(dir))
            throw new CliException("data directory " + dir + " does not exist (install Fashion-MNIST with "
                    + "'sudo apt-get install dataset-fashion-mnist', or pass --data DIR or --csv FILE)");
        Idx.Labelled train = withTrain ? Idx.load(Idx.find(dir, "train-images-idx3-ubyte"),
                Idx.find(dir, "train-labels-idx1-ubyte")) : null;
        Idx.Labelled test = Idx.load(Idx.find(dir, "t10k-images-idx3-ubyte"), Idx.find(dir, "t10k-labels-idx1-ubyte"));
        if (train != null && train.featureCount() != test.featureCount())
            throw new CliException(dir + ": training images have " + train.featureCount() + " pixels, test images "
                    + test.featureCount());
        int max = 1;
        for (int v : test.labels()) max = Math.max(max, v);
        if (train != null) for (int v : train.labels()) max = Math.max(max, v);
        int classes = max + 1;
        List<String> names = new ArrayList<>();
        boolean fashion = classes == 10 && dir.toString().toLowerCase().contains("fashion");
        for (int i = 0; i < classes; i++) names.add(fashion ? FASHION_CLASSES.get(i) : Integer.toString(i));
        ObjectNode source = JSON.createObjectNode().put("kind", "idx").put("dir", dir.toAbsolutePath().toString());
        return new Loaded(train == null ? null : Dataset.classification(train.features(), train.featureCount(),
                train.labels(), classes), train == null ? null : train.features(),
                Dataset.classification(test.features(), test.featureCount(), test.labels(), classes),
                test.features(), test.labels(), names, Normalization.PIXELS, source,
                dir + " (" + (train == null ? "" : train.labels().length + " train, ") + test.labels().length + " test, "
                        + test.featureCount() + " features, " + classes + " classes)");
    }

    /**
     * A CSV file split into train and test rows (shuffled with {@code seed}); features standardized with
     * the training rows' mean and standard deviation unless {@code normalization} is given (a checkpoint's).
     * {@code classes} fixes the label → class mapping (a checkpoint's), or null to derive it.
     * With {@code allRowsAreTest} every row goes to the test set (evaluation of a new file).
     */
    static Loaded csv(Path file, int labelColumn, double testFraction, long seed, List<String> classes,
                      Normalization normalization, boolean allRowsAreTest) {
        if (!(testFraction > 0 && testFraction < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + testFraction);
        Csv.Table t = Csv.read(file, labelColumn);
        List<String> names = classes != null ? classes : Csv.classNames(t);
        int[] y = Csv.classIndices(t, names);
        int n = t.rows(), w = t.featureCount();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Random rng = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        int testRows = allRowsAreTest ? n : (int) Math.round(n * testFraction);
        if (!allRowsAreTest && (testRows < 1 || testRows >= n))
            throw new CliException(file + ": " + n + " rows are too few to hold out a test fraction of " + testFraction);
        float[] testX = new float[testRows * w], trainX = new float[(n - testRows) * w];
        int[] testY = new int[testRows], trainY = new int[n - testRows];
        for (int i = 0; i < n; i++) {
            int r = order[i];
            if (i < testRows) {
                System.arraycopy(t.features(), r * w, testX, i * w, w);
                testY[i] = y[r];
            } else {
                System.arraycopy(t.features(), r * w, trainX, (i - testRows) * w, w);
                trainY[i - testRows] = y[r];
            }
        }
        Normalization norm = normalization != null ? normalization : standardize(trainX, w);
        norm.apply(trainX, w);
        norm.apply(testX, w);
        ObjectNode source = JSON.createObjectNode().put("kind", "csv").put("file", file.toAbsolutePath().toString())
                .put("label_column", labelColumn).put("test_fraction", testFraction);
        Dataset train = trainY.length == 0 ? null : Dataset.classification(trainX, w, trainY, names.size());
        return new Loaded(train, trainX, Dataset.classification(testX, w, testY, names.size()), testX, testY, names,
                norm, source, file + " (" + trainY.length + " train, " + testRows + " test, " + w + " features, "
                + names.size() + " classes)");
    }

    private static Normalization standardize(float[] x, int w) {
        int n = x.length / w;
        double[] sum = new double[w], sq = new double[w];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < w; j++) {
                double v = x[i * w + j];
                sum[j] += v;
                sq[j] += v * v;
            }
        float[] mean = new float[w], std = new float[w];
        for (int j = 0; j < w; j++) {
            double m = sum[j] / Math.max(n, 1);
            double var = Math.max(0, sq[j] / Math.max(n, 1) - m * m);
            mean[j] = (float) m;
            std[j] = var > 1e-12 ? (float) Math.sqrt(var) : 1f;
        }
        return new Normalization("standardize", mean, std);
    }
}
