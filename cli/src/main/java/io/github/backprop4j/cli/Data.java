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
import java.util.Locale;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Loads a training and a test set from Fashion-MNIST-style IDX files or from a CSV file. The readers
 * return raw values; the normalization is applied here, in one place: a checkpoint's recorded one
 * whenever there is a checkpoint, whatever the file format, else the format's own (pixels ÷ 255 for
 * IDX, standardization by the training rows for CSV).
 */
final class Data {

    static final Path DEFAULT_IDX_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How raw features are turned into network inputs: pixels ÷ 255, or per-column standardization. */
    record Normalization(String kind, float[] mean, float[] std) {
        static final String PIXELS_KIND = "pixels/255";
        static final String STANDARDIZE_KIND = "standardize";
        static final Normalization PIXELS = new Normalization(PIXELS_KIND, null, null);

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
            if (kind.equals(PIXELS_KIND)) {
                if (o.has("mean") || o.has("std"))
                    throw new IllegalArgumentException("normalization " + PIXELS_KIND + " takes no mean or std, got " + o);
                return PIXELS;
            }
            if (!kind.equals(STANDARDIZE_KIND))
                throw new IllegalArgumentException("unknown normalization '" + kind + "' (expected " + PIXELS_KIND
                        + " or " + STANDARDIZE_KIND + ")");
            JsonNode mean = o.path("mean"), std = o.path("std");
            if (!mean.isArray() || !std.isArray() || mean.size() != std.size() || mean.isEmpty())
                throw new IllegalArgumentException("normalization needs 'mean' and 'std' arrays of one length, got " + o);
            float[] m = new float[mean.size()], s = new float[std.size()];
            for (int i = 0; i < m.length; i++) {
                m[i] = (float) mean.get(i).asDouble(Double.NaN);
                s[i] = (float) std.get(i).asDouble(Double.NaN);
                if (!mean.get(i).isNumber() || !std.get(i).isNumber() || !Float.isFinite(m[i]) || !(s[i] > 0)
                        || !Float.isFinite(s[i]))
                    throw new IllegalArgumentException("normalization of feature " + i + " is mean " + mean.get(i)
                            + ", std " + std.get(i) + ": must be finite with std > 0");
            }
            return new Normalization(STANDARDIZE_KIND, m, s);
        }

        /** The same normalization as per-feature {@code (raw − offset) / scale}, the form ONNX export puts into the model. */
        Affine affine(int width) {
            if (mean != null) {
                if (mean.length != width)
                    throw new CliException("the checkpoint's normalization has " + mean.length + " features but its network takes "
                            + width);
                return new Affine(mean, std);
            }
            if (!kind.equals(PIXELS_KIND))
                throw new CliException("the checkpoint's normalization '" + kind + "' has no per-feature form (expected "
                        + PIXELS_KIND + " or per-feature mean and std)");
            float[] offset = new float[width], scale = new float[width];
            Arrays.fill(scale, 255f);   // pixels ÷ 255, as apply() does
            return new Affine(offset, scale);
        }

        record Affine(float[] offset, float[] scale) {
        }

        /**
         * Normalizes {@code x} (rows of {@code width}) in place; {@code row} names a row for messages. Data
         * that does not fit (width, or pixel values outside 0..255) is refused, as is a value the
         * normalization would push past the float range.
         */
        void apply(float[] x, int width, IntFunction<String> row) {
            if (kind.equals(PIXELS_KIND)) {
                for (int i = 0; i < x.length; i++) {
                    if (!(x[i] >= 0 && x[i] <= 255))
                        throw new CliException(row.apply(i / width) + ": feature " + i % width + " is " + x[i]
                                + ", outside 0..255, the pixel range of the " + PIXELS_KIND + " normalization the "
                                + "network was trained with");
                    x[i] /= 255f;
                }
                return;
            }
            if (mean.length != width)
                throw new CliException("the recorded normalization standardizes " + mean.length + " features but the data has "
                        + width);
            for (int i = 0; i < x.length; i++) {
                float v = (x[i] - mean[i % width]) / std[i % width];
                if (!Float.isFinite(v))
                    throw new CliException(row.apply(i / width) + ": feature " + i % width + " = " + x[i]
                            + " is beyond the float range once standardized (mean " + mean[i % width] + ", std "
                            + std[i % width] + ")");
                x[i] = v;
            }
        }

        String describe() {
            return kind.equals(PIXELS_KIND) ? kind : kind + " (" + mean.length + " features)";
        }
    }

    /** Train (null when not asked for) and test sets plus what is needed to describe them. */
    record Loaded(Dataset train, Dataset test, int[] testLabels, List<String> classes, Normalization normalization,
                  ObjectNode source, String description) {
        int featureCount() {
            return test.featureCount();
        }
    }

    private Data() {
    }

    /**
     * IDX images and labels from {@code dir} (train and t10k, or t10k only). {@code classes} and
     * {@code normalization} are a checkpoint's, or null for the data's own.
     */
    static Loaded idx(Path dir, boolean withTrain, List<String> classes, Normalization normalization) {
        if (!Files.isDirectory(dir))
            throw new CliException("data directory " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist")
                    + " (install Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist', or pass --data DIR or "
                    + "--csv FILE)");
        Path trainImages = withTrain ? Idx.find(dir, "train-images-idx3-ubyte") : null;
        Idx.Labelled train = withTrain ? Idx.load(trainImages, Idx.find(dir, "train-labels-idx1-ubyte")) : null;
        Path testImages = Idx.find(dir, "t10k-images-idx3-ubyte");
        Idx.Labelled test = Idx.load(testImages, Idx.find(dir, "t10k-labels-idx1-ubyte"));
        if (train != null && train.featureCount() != test.featureCount())
            throw new CliException(dir + ": training images have " + train.featureCount() + " pixels, test images "
                    + test.featureCount());
        int max = 0;
        for (int v : test.labels()) max = Math.max(max, v);
        if (train != null) for (int v : train.labels()) max = Math.max(max, v);
        List<String> names;
        if (classes != null) {
            if (max >= classes.size())
                throw new CliException(dir + " has label " + max + " but the checkpoint knows " + classes.size()
                        + " classes (0.." + (classes.size() - 1) + ")");
            names = classes;
        } else {
            names = new ArrayList<>();
            boolean fashion = max == 9 && dir.toString().toLowerCase(Locale.ROOT).contains("fashion");
            for (int i = 0; i <= Math.max(max, 1); i++) names.add(fashion ? FASHION_CLASSES.get(i) : Integer.toString(i));
        }
        if (train != null) requireTwoClasses(train.labels(), names, trainImages + "'s labels");
        Normalization norm = normalization != null ? normalization : Normalization.PIXELS;
        if (train != null) norm.apply(train.features(), train.featureCount(), i -> trainImages + ": image " + i);
        norm.apply(test.features(), test.featureCount(), i -> testImages + ": image " + i);
        ObjectNode source = JSON.createObjectNode().put("kind", "idx").put("dir", dir.toAbsolutePath().toString());
        return new Loaded(train == null ? null : Dataset.classification(train.features(), train.featureCount(),
                train.labels(), names.size()),
                Dataset.classification(test.features(), test.featureCount(), test.labels(), names.size()),
                test.labels(), names, norm, source,
                dir + " (" + (train == null ? "" : train.labels().length + " train, ") + test.labels().length + " test, "
                        + test.featureCount() + " features, " + names.size() + " classes, " + norm.describe() + ")");
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
        float[] features = t.features();
        // the sizes fit: the reader checked rows × featureCount against one array's limit
        float[] testX = new float[testRows * w], trainX = new float[(n - testRows) * w];
        int[] testY = new int[testRows], trainY = new int[n - testRows];
        for (int i = 0; i < n; i++) {
            int r = order[i];
            if (i < testRows) {
                System.arraycopy(features, r * w, testX, i * w, w);
                testY[i] = y[r];
            } else {
                System.arraycopy(features, r * w, trainX, (i - testRows) * w, w);
                trainY[i - testRows] = y[r];
            }
        }
        if (trainY.length > 0) requireTwoClasses(trainY, names, file + "'s training rows");
        Normalization norm = normalization != null ? normalization : standardize(trainX, w);
        int tr = testRows;
        norm.apply(trainX, w, i -> file + ":" + t.lines()[order[tr + i]]);
        norm.apply(testX, w, i -> file + ":" + t.lines()[order[i]]);
        ObjectNode source = JSON.createObjectNode().put("kind", "csv").put("file", file.toAbsolutePath().toString())
                .put("label_column", labelColumn).put("test_fraction", testFraction);
        Dataset train = trainY.length == 0 ? null : Dataset.classification(trainX, w, trainY, names.size());
        return new Loaded(train, Dataset.classification(testX, w, testY, names.size()), testY, names,
                norm, source, file + " (" + trainY.length + " train, " + testRows + " test, " + w + " features, "
                + names.size() + " classes, " + norm.describe() + ")");
    }

    /** A classifier learns nothing from one class: refuse such training data, naming the class. */
    private static void requireTwoClasses(int[] labels, List<String> names, String what) {
        for (int v : labels)
            if (v != labels[0]) return;
        throw new CliException(what + " are all class '" + names.get(labels[0]) + "': a classifier needs at least 2 "
                + "classes to train on");
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
            // a constant column keeps std 1; a float mean of huge values may round to ±Inf: clamp
            std[j] = var > 1e-12 && Double.isFinite(var) ? (float) Math.min(Math.sqrt(var), Float.MAX_VALUE) : 1f;
            if (!Float.isFinite(mean[j])) mean[j] = Math.copySign(Float.MAX_VALUE, mean[j]);
        }
        return new Normalization(Normalization.STANDARDIZE_KIND, mean, std);
    }
}
