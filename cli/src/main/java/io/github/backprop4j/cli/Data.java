package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Normalization;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Loads a training and a test set from Fashion-MNIST-style IDX files or from a CSV file. The data sets
 * hold raw values (the model normalizes them); what the normalization will be is decided here, in one
 * place: a checkpoint's recorded one whenever there is a checkpoint, whatever the file format, else the
 * format's own (pixels ÷ 255 for IDX, standardization by the training rows for CSV). Every value is
 * checked against it here, so a value it cannot take is an error naming the file and the row.
 */
final class Data {

    static final Path DEFAULT_IDX_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Which rows a command needs. */
    enum Use {
        /** Training and test rows ({@code train}). */
        TRAINING,
        /** The test rows only: IDX t10k, or the CSV's held-out split ({@code eval}). */
        EVALUATION,
        /** Every CSV row as test rows ({@code eval --all-rows}). */
        EVALUATION_OF_ALL_ROWS
    }

    /**
     * What a checkpoint fixes about the data, for a run that has one: the label → class mapping and the
     * normalization. {@link #NONE} for a new run, where the data decides both.
     */
    record Recorded(List<String> classes, Normalization normalization) {
        static final Recorded NONE = new Recorded(null, null);
    }

    /** Train (null when not asked for) and test sets, raw, plus what is needed to describe them. */
    record Loaded(Dataset train, Dataset test, int[] testLabels, List<String> classes, Normalization normalization,
                  ObjectNode source, String description) {
        int featureCount() {
            return test.featureCount();
        }
    }

    private Data() {
    }

    /** IDX images and labels from {@code dir} (train and t10k, or t10k only). */
    static Loaded idx(Path dir, Use use, Recorded recorded) {
        if (!Files.isDirectory(dir))
            throw new CliException("data directory " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist")
                    + " (install Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist', or pass --data DIR or "
                    + "--csv FILE)");
        boolean withTrain = use == Use.TRAINING;
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
        if (recorded.classes() != null) {
            if (max >= recorded.classes().size())
                throw new CliException(dir + " has label " + max + " but the checkpoint knows " + recorded.classes().size()
                        + " classes (0.." + (recorded.classes().size() - 1) + ")");
            names = recorded.classes();
        } else {
            names = new ArrayList<>();
            boolean fashion = max == 9 && dir.toString().toLowerCase(Locale.ROOT).contains("fashion");
            for (int i = 0; i <= Math.max(max, 1); i++) names.add(fashion ? FASHION_CLASSES.get(i) : Integer.toString(i));
        }
        if (train != null) requireTwoClasses(train.labels(), names, trainImages + "'s labels");
        Normalization norm = recorded.normalization() != null ? recorded.normalization() : Normalization.pixels();
        if (train != null) check(norm, train.features(), train.featureCount(), i -> trainImages + ": image " + i);
        check(norm, test.features(), test.featureCount(), i -> testImages + ": image " + i);
        ObjectNode source = JSON.createObjectNode().put("kind", "idx").put("dir", dir.toAbsolutePath().toString());
        return new Loaded(train == null ? null : Dataset.classification(train.features(), train.featureCount(),
                train.labels(), names.size()),
                Dataset.classification(test.features(), test.featureCount(), test.labels(), names.size()),
                test.labels(), names, norm, source,
                dir + " (" + (train == null ? "" : train.labels().length + " train, ") + test.labels().length + " test, "
                        + test.featureCount() + " features, " + names.size() + " classes, " + norm.describe() + ")");
    }

    /**
     * A CSV file split into train and test rows (shuffled with {@code seed}); a new run standardizes the
     * features with the training rows' mean and standard deviation.
     */
    static Loaded csv(Path file, int labelColumn, double testFraction, long seed, Use use, Recorded recorded) {
        if (!(testFraction > 0 && testFraction < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + testFraction);
        Csv.Table t = Csv.read(file, labelColumn);
        List<String> names = recorded.classes() != null ? recorded.classes() : Csv.classNames(t);
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
        boolean allRowsAreTest = use == Use.EVALUATION_OF_ALL_ROWS;
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
        Dataset train = trainY.length == 0 ? null : Dataset.classification(trainX, w, trainY, names.size());
        Normalization norm = recorded.normalization() != null ? recorded.normalization() : Normalization.standardize(train);
        int tr = testRows;
        check(norm, trainX, w, i -> file + ":" + t.lines()[order[tr + i]]);
        check(norm, testX, w, i -> file + ":" + t.lines()[order[i]]);
        ObjectNode source = JSON.createObjectNode().put("kind", "csv").put("file", file.toAbsolutePath().toString())
                .put("label_column", labelColumn).put("test_fraction", testFraction);
        return new Loaded(train, Dataset.classification(testX, w, testY, names.size()), testY, names,
                norm, source, file + " (" + trainY.length + " train, " + testRows + " test, " + w + " features, "
                + names.size() + " classes, " + norm.describe() + ")");
    }

    /**
     * Raw values the normalization cannot take, named with {@code row}: a width it does not standardize,
     * pixel values outside 0..255, a value it would push past the float range.
     */
    static void check(Normalization norm, float[] x, int width, IntFunction<String> row) {
        if (!norm.fits(width))
            throw new CliException("the recorded normalization " + norm.describe() + " does not fit the data's " + width
                    + " features");
        boolean pixels = norm.kind().equals(Normalization.PIXELS_KIND);
        for (int i = 0; i < x.length; i++) {
            if (pixels && !(x[i] >= 0 && x[i] <= 255))
                throw new CliException(row.apply(i / width) + ": feature " + i % width + " is " + x[i] + ", outside 0..255, "
                        + "the pixel range of the " + Normalization.PIXELS_KIND + " normalization the network was trained "
                        + "with");
            if (!Float.isFinite(norm.apply(x[i], i % width)))
                throw new CliException(row.apply(i / width) + ": feature " + i % width + " = " + x[i] + " is beyond the "
                        + "float range once normalized (" + norm.describe() + ")");
        }
    }

    /** A classifier learns nothing from one class: refuse such training data, naming the class. */
    private static void requireTwoClasses(int[] labels, List<String> names, String what) {
        for (int v : labels)
            if (v != labels[0]) return;
        throw new CliException(what + " are all class '" + names.get(labels[0]) + "': a classifier needs at least 2 "
                + "classes to train on");
    }
}
