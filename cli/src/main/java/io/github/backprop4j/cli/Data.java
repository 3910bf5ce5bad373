package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.backprop4j.core.Dataset;
import io.github.backprop4j.core.Normalization;
import io.github.backprop4j.core.Task;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Loads training, validation and test sets from Fashion-MNIST-style IDX files or from a CSV file. The
 * data sets hold raw values (the model normalizes them); what the normalizations will be is decided
 * here, in one place: a checkpoint's recorded ones whenever there is a checkpoint, whatever the file
 * format, else the format's own (pixels ÷ 255 for IDX, standardization of the features, and of a
 * regression's targets, by the training rows for CSV). Every value is checked against them here, so a
 * value they cannot take is an error naming the file and the row.
 */
final class Data {

    static final Path DEFAULT_IDX_DIR = Path.of("/usr/share/datasets/fashion-mnist");
    static final List<String> FASHION_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Which rows a command needs. */
    enum Use {
        /** Training (with validation, if asked for) and test rows ({@code train}). */
        TRAINING,
        /** The test rows only: IDX t10k, or the CSV's held-out split ({@code eval}). */
        EVALUATION,
        /** Every CSV row as test rows ({@code eval --all-rows}). */
        EVALUATION_OF_ALL_ROWS
    }

    /**
     * What a checkpoint fixes about the data, for a run that has one: the task (its network's), the
     * label → class mapping and the normalizations. {@link #NONE} for a new run, where the data decides.
     */
    record Recorded(Task task, List<String> classes, Normalization normalization, Normalization targetNormalization,
                    boolean stratified) {
        /** A new run: nothing recorded, and its class-labelled splits are stratified. */
        static final Recorded NONE = new Recorded(null, null, null, null, true);
    }

    /**
     * The source metadata's name for how the held-out rows were drawn: {@code stratified} (each class in
     * its share, {@link Dataset#stratifiedOrder}); runs saved before it drew them at random, which a
     * checkpoint without it gets again, so that its eval and resume see the rows it held out.
     */
    static final String SPLIT_KEY = "split", STRATIFIED = "stratified";

    /**
     * A CSV file and how to read it: the target columns (0-based, −1 the last), the task (null: inferred
     * from the targets), the fractions held out for testing and, of the rest, for validation (0: none),
     * the seed of the split and which rows are needed.
     */
    record CsvRequest(Path file, List<Integer> targetColumns, Task task, double testFraction, double validationFraction,
                      long seed, Use use) {
    }

    /**
     * Train (null when not asked for), validation (null without) and test sets, raw, plus what is needed
     * to describe them: the task (and why, when it was inferred), each test row's class (null for
     * regression), the class names (empty for regression), the normalizations, the source to record, the
     * CSV's column layout to record (null for IDX).
     */
    record Loaded(Task task, String inferredBecause, Dataset train, Dataset validation, Dataset test, int[] testLabels,
                  List<String> classes, Normalization normalization, Normalization targetNormalization, ObjectNode source,
                  ObjectNode columns, String description) {
        int featureCount() {
            return test.featureCount();
        }
    }

    private Data() {
    }

    /** IDX images and labels from {@code dir} (train and t10k, or t10k only), no validation split. */
    static Loaded idx(Path dir, Use use, Recorded recorded) {
        return idx(dir, use, 0, 0, recorded);
    }

    /**
     * IDX images and labels from {@code dir} (train and t10k, or t10k only); a {@code validationFraction}
     * of the training images, drawn with {@code seed}, is held out for validation.
     */
    static Loaded idx(Path dir, Use use, double validationFraction, long seed, Recorded recorded) {
        if (recorded.task() != null && recorded.task() != Task.CLASSIFY)
            throw new CliException("IDX data holds class labels, but the checkpoint's network is a "
                    + recorded.task().id() + " network; give it CSV data (--csv)");
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
        int w = test.featureCount(), k = names.size();
        Dataset trainSet = train == null ? null : Dataset.classification(train.features(), w, train.labels(), k);
        Dataset.Split split = validationSplit(trainSet, validationFraction, seed, recorded.stratified(),
                trainImages + "'s images");
        Dataset validationSet = split == null ? null : split.validation();
        if (split != null) trainSet = split.train();
        int validationRows = validationSet == null ? 0 : validationSet.rows();
        ObjectNode source = JSON.createObjectNode().put("kind", "idx").put("dir", dir.toAbsolutePath().toString())
                .put("validation_fraction", validationFraction);
        if (recorded.stratified()) source.put(SPLIT_KEY, STRATIFIED);
        return new Loaded(Task.CLASSIFY, null, trainSet, validationSet,
                Dataset.classification(test.features(), w, test.labels(), k), test.labels(), names, norm,
                Normalization.none(), source, null,
                dir + " (" + (trainSet == null ? "" : trainSet.rows() + " train, ")
                        + (validationRows > 0 ? validationRows + " validation, " : "") + test.labels().length + " test, "
                        + w + " features, " + k + " classes, " + norm.describe() + ")");
    }

    /** One label column, split into train and test rows as {@link #csv(CsvRequest, Recorded)} does. */
    static Loaded csv(Path file, int labelColumn, double testFraction, long seed, Use use, Recorded recorded) {
        return csv(new CsvRequest(file, List.of(labelColumn), null, testFraction, 0, seed, use), recorded);
    }

    /**
     * A CSV file split into test, validation and training rows, drawn with the seed: a test-fraction of
     * the rows are the test rows, a validation-fraction of the rest the validation rows, each class in
     * its share when the targets are classes (and the run is not one saved before stratified splits); a
     * new run standardizes the features, and a regression's targets, with the training rows' mean and
     * standard deviation.
     */
    static Loaded csv(CsvRequest r, Recorded recorded) {
        Path file = r.file();
        if (!(r.testFraction() > 0 && r.testFraction() < 1))
            throw new CliException("--test-fraction must be in (0, 1), got " + r.testFraction());
        Csv.Table t = Csv.read(file, Csv.targetColumns(r.targetColumns()));
        Task task = recorded.task() != null ? recorded.task() : r.task();
        String inferredBecause = null;
        if (task == null) {
            Csv.Inferred inferred = Csv.inferTask(t);
            task = inferred.task();
            inferredBecause = inferred.reason();
        }
        int[] targetColumns = t.targetColumns();
        if (task != Task.REGRESS && targetColumns.length != 1)
            throw new CliException(file + ": a " + task.id() + " task takes one label column, but " + targetColumns.length
                    + " target columns were given (several targets are a regression: --task regress)");
        List<String> names = List.of();
        int[] y = null;
        if (task == Task.REGRESS) {
            if (t.firstTextTarget() >= 0)
                throw new CliException(file + ":" + t.firstTextTarget() + ": a target cell is not a number; regression "
                        + "targets are numbers (class labels: --task classify)");
        } else {
            names = recorded.classes() != null && !recorded.classes().isEmpty() ? recorded.classes() : Csv.classNames(t);
            if (task == Task.BINARY && names.size() != 2)
                throw new CliException(file + ": a binary task needs exactly 2 classes, but the labels in "
                        + t.columnName(targetColumns[0]) + " are " + names.size() + " (" + abbreviate(names) + ")");
            y = Csv.classIndices(t, names);
        }
        int n = t.rows(), w = t.featureCount(), k = targetColumns.length;
        boolean allRowsAreTest = r.use() == Use.EVALUATION_OF_ALL_ROWS;
        int testRows = allRowsAreTest ? n : (int) Math.round(n * r.testFraction());
        if (!allRowsAreTest && (testRows < 1 || testRows >= n))
            throw new CliException(file + ": " + n + " rows are too few to hold out a test fraction of " + r.testFraction());
        boolean stratified = recorded.stratified() && y != null;
        int[] order = stratified ? Dataset.stratifiedOrder(y, testRows, r.seed()) : shuffled(n, r.seed());
        Rows rows = new Rows(t, task, y, names.size(), order);
        Dataset train = testRows < n ? rows.dataset(testRows, n) : null;
        Dataset test = rows.dataset(0, testRows);
        boolean training = r.use() == Use.TRAINING;   // eval's held-out split only needs test rows that fit
        if (training && y != null) requireTwoClasses(rows.labels(testRows, n), names, file + "'s training rows");
        if (training && task == Task.REGRESS) requireVaryingTargets(t, order, testRows);
        Dataset.Split split = training ? validationSplit(train, r.validationFraction(), r.seed(), stratified,
                file + "'s " + (n - testRows) + " training rows") : null;
        Dataset validation = split == null ? null : split.validation();
        if (split != null) train = split.train();
        int validationRows = validation == null ? 0 : validation.rows();
        Normalization norm = recorded.normalization() != null ? recorded.normalization() : Normalization.standardize(train);
        Normalization targetNorm = task != Task.REGRESS ? Normalization.none()
                : recorded.targetNormalization() != null ? recorded.targetNormalization()
                : Normalization.standardizeTargets(train);
        float[] x = t.features();
        IntFunction<String> line = i -> file + ":" + t.lines()[i];
        check(norm, x, w, line);
        if (task == Task.REGRESS) checkTargets(targetNorm, t.targets(), k, line);
        ObjectNode source = JSON.createObjectNode().put("kind", "csv").put("file", file.toAbsolutePath().toString())
                .put("test_fraction", r.testFraction()).put("validation_fraction", r.validationFraction());
        if (recorded.stratified()) source.put(SPLIT_KEY, STRATIFIED);
        ArrayNode requested = source.putArray("target_columns");
        for (int c : r.targetColumns()) requested.add(c);
        ObjectNode columns = JSON.createObjectNode().put("count", t.width());
        ArrayNode targetList = columns.putArray("targets");
        for (int c : targetColumns) targetList.add(c);
        if (t.header() != null) {
            ArrayNode header = columns.putArray("names");
            for (String h : t.header()) header.add(h);
        }
        String what = switch (task) {
            case CLASSIFY -> names.size() + " classes";
            case BINARY -> "2 classes, positive '" + names.get(1) + "'";
            case REGRESS -> (k == 1 ? "target " : k + " targets ") + targetNames(t)
                    + (targetNorm.kind().equals(Normalization.STANDARDIZE_KIND) ? " (standardized)" : "");
        };
        return new Loaded(task, inferredBecause, train, validation, test, y == null ? null : rows.labels(0, testRows), names,
                norm, targetNorm, source, columns, file + " (" + (train == null ? 0 : train.rows()) + " train, "
                + (validationRows > 0 ? validationRows + " validation, " : "") + testRows + " test, " + w + " features, "
                + what + ", " + norm.describe() + ")");
    }

    /** The rows of a table in shuffled order, as data sets of the task. */
    private record Rows(Csv.Table t, Task task, int[] y, int classes, int[] order) {
        /** Shuffled rows from..to as a data set. */
        Dataset dataset(int from, int to) {
            int w = t.featureCount(), k = t.targetColumns().length;
            if (task == Task.CLASSIFY) return classification(t.features(), w, y, order, from, to, classes);
            float[] x = new float[(to - from) * w], targets = new float[(to - from) * k];
            for (int i = from; i < to; i++) {
                int row = order[i];
                System.arraycopy(t.features(), row * w, x, (i - from) * w, w);
                for (int j = 0; j < k; j++)
                    targets[(i - from) * k + j] = task == Task.BINARY ? y[row] : t.targets()[row * k + j];
            }
            return new Dataset(x, w, targets, task == Task.BINARY ? 1 : k);
        }

        /** The class of shuffled rows from..to. */
        int[] labels(int from, int to) {
            int[] out = new int[to - from];
            for (int i = from; i < to; i++) out[i - from] = y[order[i]];
            return out;
        }
    }

    /** Rows order[from..to) of a classification data set. */
    private static Dataset classification(float[] x, int w, int[] labels, int[] order, int from, int to, int classes) {
        float[] part = new float[(to - from) * w];
        int[] partLabels = new int[to - from];
        for (int i = from; i < to; i++) {
            System.arraycopy(x, order[i] * w, part, (i - from) * w, w);
            partLabels[i - from] = labels[order[i]];
        }
        return Dataset.classification(part, w, partLabels, classes);
    }

    /**
     * 0..n−1 shuffled (Fisher-Yates) by {@code new Random(seed)}: the CSV's test split of a regression,
     * or of a run saved before stratified splits.
     */
    private static int[] shuffled(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Random rng = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        return order;
    }

    /**
     * {@code train} split by core's {@link Dataset#split} into training and validation rows ({@code
     * fraction} of them, drawn with {@code seed}: a resumed run validates on the same rows); null without
     * training rows or for a fraction of 0.
     */
    private static Dataset.Split validationSplit(Dataset train, double fraction, long seed, boolean stratified,
                                                 String what) {
        if (train == null || fraction == 0) return null;
        if (train.rows() < 2)
            throw new CliException(what + " are too few to hold out a validation fraction of " + fraction);
        return stratified ? train.stratifiedSplit(fraction, seed) : train.split(fraction, seed);
    }

    /** The target columns' names, for the description. */
    private static String targetNames(Csv.Table t) {
        List<String> names = new ArrayList<>();
        for (int c : t.targetColumns()) names.add(t.columnName(c));
        return abbreviate(names);
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 8 ? String.join(", ", names) : String.join(", ", names.subList(0, 8)) + ", ...";
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

    /** Targets the target normalization would push past the float range, named with {@code row}. */
    private static void checkTargets(Normalization norm, float[] y, int width, IntFunction<String> row) {
        if (!norm.fits(width))
            throw new CliException("the recorded target normalization " + norm.describe() + " does not fit the data's "
                    + width + " target columns");
        for (int i = 0; i < y.length; i++)
            if (!Float.isFinite(norm.apply(y[i], i % width)))
                throw new CliException(row.apply(i / width) + ": target " + y[i] + " is beyond the float range once "
                        + "normalized (" + norm.describe() + ")");
    }

    /** A regression learns nothing from a target that never changes: refuse such training rows, naming the column. */
    private static void requireVaryingTargets(Csv.Table t, int[] order, int firstTrain) {
        int k = t.targetColumns().length;
        float[] y = t.targets();
        for (int j = 0; j < k; j++) {
            float first = y[order[firstTrain] * k + j];
            boolean varies = false;
            for (int i = firstTrain; i < order.length && !varies; i++) varies = y[order[i] * k + j] != first;
            if (!varies)
                throw new CliException(t.file() + ": target " + t.columnName(t.targetColumns()[j]) + " is " + first
                        + " in every training row: there is nothing to learn (is the target column right?)");
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
