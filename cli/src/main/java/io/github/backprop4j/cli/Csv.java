package io.github.backprop4j.cli;

import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import de.siegmar.fastcsv.reader.CsvRecordHandler;
import io.github.backprop4j.core.Task;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Comma-separated numeric data with target columns, parsed by FastCSV (RFC 4180: quoted fields may
 * hold commas, quotes and line breaks) and streamed: the file is never held in memory, only the
 * parsed floats, and those within the heap's budget.
 *
 * <p>Rules, as the README states them: the file is UTF-8 (a leading byte-order mark is skipped); blank
 * lines are skipped; cells are trimmed. Row 1 is a header exactly when one of its feature cells (any
 * column but the targets') is text: not empty, not a number and not a spelling of NaN or infinity.
 * Otherwise row 1 is data, and an empty, NaN or infinite cell in it is a data error like anywhere else.
 * Feature cells are decimal numbers ({@code -1.5}, {@code 2e-3}) within float range. A target cell is
 * kept as a number when it is one and, with one target column, as a string too: labels are integer
 * class ids (0..k−1) when every label is a non-negative integer, otherwise strings mapped to classes in
 * sorted order. Errors name the file and the line.
 */
public final class Csv {

    /** Largest integer class id accepted: one output unit per class, so larger ids are data errors. */
    public static final int MAX_CLASS_ID = 65_535;
    /** Longest cell accepted, in characters: far above any number or class name, far below the heap. */
    static final int MAX_CELL_CHARS = 64 * 1024;
    /** Most columns accepted in one row. */
    static final int MAX_COLUMNS = 1 << 20;

    /**
     * Whether s is a plain decimal number, {@code [+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?}: what the reader
     * accepts of all Float.parseFloat reads (hexadecimal, type suffixes, NaN and Infinity are refused).
     * Scanned by hand: once per cell, it cost a regular expression's match more than the parse itself.
     */
    static boolean isPlainNumber(String s) {
        int n = s.length(), i = 0;
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
        int digits = 0;
        while (i < n && isDigit(s.charAt(i))) {
            i++;
            digits++;
        }
        if (i < n && s.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
                digits++;
            }
        }
        if (digits == 0) return false;
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) i++;
            int exponent = 0;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
                exponent++;
            }
            if (exponent == 0) return false;
        }
        return i == n;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static final Pattern NOT_FINITE = Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);

    /**
     * Which columns of a file are targets, decided once its width is known (at its first row), and
     * whether their cells are read at all (predict skips them).
     */
    public interface Layout {
        /**
         * The target columns, 0-based and ascending, of a file with {@code width} columns; throws a
         * {@link CliException} naming {@code where} (file and line) when the width does not fit.
         */
        int[] targets(int width, String where);

        /** Whether target cells are parsed; false skips them. */
        default boolean readTargets() {
            return true;
        }
    }

    /**
     * The training layout: {@code requested} columns are the targets (0-based; −1 is the last, −2 the
     * one before...), every other column a feature; at least one of each.
     */
    public static Layout targetColumns(List<Integer> requested) {
        return (width, where) -> {
            if (width < 2)
                throw new CliException(where + ": need at least 2 columns (features and a target), found " + width
                        + (width == 1 ? " (is the separator a comma?)" : ""));
            TreeSet<Integer> columns = new TreeSet<>();
            for (int c : requested) {
                int resolved = c < 0 ? width + c : c;
                if (resolved < 0 || resolved >= width)
                    throw new CliException(where + ": " + (requested.size() == 1 ? "label" : "target") + " column " + c
                            + " is out of range: the file has " + width + " columns (0.." + (width - 1)
                            + ", or -1 for the last)");
                if (!columns.add(resolved))
                    throw new CliException(where + ": target column " + resolved + " is named twice");
            }
            if (columns.size() >= width)
                throw new CliException(where + ": every one of the " + width + " columns is a target; no feature "
                        + "column is left");
            return columns.stream().mapToInt(Integer::intValue).toArray();
        };
    }

    /**
     * Parsed rows: features (row-major, the non-target columns in file order), the target cells as
     * numbers (row-major; NaN where a cell is not a number, see {@code firstTextTarget}), with one target
     * column each row's label as an index into {@code labelValues} (the distinct label strings in order
     * of first appearance; both null past {@link #MAX_CLASS_ID} + 1 distinct values, see
     * {@code distinctOverflow}), and the line each row starts on.
     *
     * @param width            the file's columns
     * @param targetColumns    the target columns (empty when the file has none or they were skipped)
     * @param firstTextTarget  the first line with a target cell that is not a number, or −1
     * @param distinctOverflow the line whose label was one distinct value too many for classes, or −1
     */
    public record Table(Path file, String[] header, int width, int[] targetColumns, float[] features, int featureCount,
                        float[] targets, int[] labelIds, List<String> labelValues, long[] lines, long firstTextTarget,
                        long distinctOverflow) {
        public int rows() {
            return lines.length;
        }

        /** Row r's label as written in the file. */
        public String label(int row) {
            return labelValues.get(labelIds[row]);
        }

        /** Column c's header name, or "column c" without a header. */
        public String columnName(int c) {
            return header != null ? header[c] : "column " + c;
        }
    }

    private Csv() {
    }

    /** One label column, 0-based; −1 means the last column. */
    public static Table read(Path file, int labelColumn) {
        return read(file, targetColumns(List.of(labelColumn)));
    }

    /** The rows of {@code file}, its target columns as {@code layout} says. */
    public static Table read(Path file, Layout layout) {
        try (Chunks chunks = chunks(file, layout, Integer.MAX_VALUE)) {
            return chunks.next();
        }
    }

    /**
     * The rows of {@code file} a chunk at a time, with every check {@link #read} makes, so that a file
     * larger than the heap can be worked through ({@code predict} does): each {@link Chunks#next} is a
     * table of at most {@code chunkRows} rows (all with the file's header, if it has one).
     */
    public static Chunks chunks(Path file, Layout layout, int chunkRows) {
        if (Files.isDirectory(file)) throw new CliException("CSV file " + file + " is a directory");
        InputStream in = null;
        try {
            in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
            skipByteOrderMark(file, in);
            return new Chunks(file, in, layout, chunkRows);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CliException("CSV file " + file + " does not exist");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new CliException("CSV file " + file + ": permission denied");
        } catch (IOException e) {
            throw new CliException(file + ": cannot read: " + Errors.describe(e), e);
        } catch (RuntimeException e) {
            closeQuietly(in);
            throw e;
        }
    }

    private static void closeQuietly(InputStream in) {
        if (in == null) return;
        try {
            in.close();
        } catch (IOException ignored) {
            // the read already failed; that error is the one to report
        }
    }

    /** A CSV file's rows, read a chunk at a time; close it when done. */
    public static final class Chunks implements AutoCloseable {
        private final Path file;
        private final InputStream in;
        private final CsvReader<CsvRecord> reader;
        private final java.util.Iterator<CsvRecord> records;
        private final Builder table;
        private final int chunkRows;
        private long rowsSoFar;

        private Chunks(Path file, InputStream in, Layout layout, int chunkRows) {
            this.file = file;
            this.in = in;
            this.chunkRows = chunkRows;
            var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
            CsvRecordHandler handler = CsvRecordHandler.of(b -> b.maxFields(MAX_COLUMNS).maxFieldSize(MAX_CELL_CHARS)
                    .maxRecordSize(Math.max(MAX_CELL_CHARS, 64 << 20)));
            this.table = new Builder(file, layout);
            this.reader = CsvReader.builder().allowExtraFields(true).allowMissingFields(true).skipEmptyLines(true)
                    .build(handler, new InputStreamReader(in, decoder));
            this.records = reader.iterator();
        }

        /**
         * The next rows, at most the chunk size of them, or null after the last.
         *
         * @throws CliException naming the file and line of a row that cannot be read, or the file that
         *                      holds no data rows at all
         */
        public Table next() {
            try {
                while (table.rows < chunkRows && records.hasNext()) table.add(records.next());
            } catch (CsvParseException e) {
                Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
                if (cause instanceof CharacterCodingException) throw notUtf8();
                if (cause instanceof IOException io) throw cannotRead(io);
                Throwable inner = e;   // FastCSV wraps the reason ("Field … exceeds the max field size …")
                while (inner.getCause() instanceof CsvParseException deeper) inner = deeper;
                throw new CliException(file + ":" + (table.lastLine + 1) + ": " + Errors.describe(inner)
                        + " (is it really a CSV file?)", e);
            } catch (UncheckedIOException e) {
                if (e.getCause() instanceof CharacterCodingException) throw notUtf8();
                throw cannotRead(e.getCause());
            }
            if (table.rows == 0 && rowsSoFar > 0) return null;
            rowsSoFar += table.rows;
            return table.drain();   // with no rows at all: "no data rows"
        }

        private CliException notUtf8() {
            return new CliException(file + ": not UTF-8 text (a malformed byte sequence after line " + table.lastLine
                    + "); is it really a CSV file?");
        }

        private CliException cannotRead(IOException e) {
            return new CliException(file + ": cannot read: " + Errors.describe(e), e);
        }

        @Override
        public void close() {
            try {
                reader.close();
            } catch (IOException ignored) {
                // nothing was written; closing a reader that has been read cannot lose anything
            } finally {
                closeQuietly(in);
            }
        }
    }

    /** Skips a UTF-8 byte-order mark; a UTF-16 or UTF-32 one is an error (the reader expects UTF-8). */
    private static void skipByteOrderMark(Path file, InputStream in) throws IOException {
        in.mark(4);
        byte[] head = in.readNBytes(4);
        in.reset();
        int n = head.length;
        if (n >= 3 && (head[0] & 0xff) == 0xEF && (head[1] & 0xff) == 0xBB && (head[2] & 0xff) == 0xBF) {
            in.skipNBytes(3);
            return;
        }
        boolean utf32 = n == 4 && (head[0] == 0 && head[1] == 0 && (head[2] & 0xff) == 0xFE && (head[3] & 0xff) == 0xFF
                || (head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xFE && head[2] == 0 && head[3] == 0);
        boolean utf16 = n >= 2 && ((head[0] & 0xff) == 0xFE && (head[1] & 0xff) == 0xFF
                || (head[0] & 0xff) == 0xFF && (head[1] & 0xff) == 0xFE);
        if (utf32 || utf16)
            throw new CliException(file + ": the file is " + (utf32 ? "UTF-32" : "UTF-16")
                    + " (it starts with that byte-order mark); save it as UTF-8");
    }

    /** Accumulates rows as they stream in, checking each and the heap budget. */
    private static final class Builder {
        private final Path file;
        private final Layout layout;
        private int width = -1;
        private int[] targetColumns;
        private boolean[] isTarget;
        private String[] header;
        private FloatChunks features, targets;
        private int[] labelIds = new int[1024];
        private long[] lines = new long[1024];
        private int rows;
        private Map<String, Integer> labelIndex = new HashMap<>();
        private List<String> labelValues = new ArrayList<>();
        private long firstTextTarget = -1, distinctOverflow = -1;
        long lastLine;

        Builder(Path file, Layout layout) {
            this.file = file;
            this.layout = layout;
            this.features = new FloatChunks(file);
            this.targets = new FloatChunks(file);
        }

        void add(CsvRecord record) {
            long line = record.getStartingLineNumber();
            lastLine = line;
            int n = record.getFieldCount();
            if (width < 0) {
                width = n;
                targetColumns = layout.targets(width, file + ":" + line);
                isTarget = new boolean[width];
                for (int c : targetColumns) isTarget[c] = true;
                if (!layout.readTargets()) targetColumns = new int[0];
                if (targetColumns.length != 1) labelValues = null;   // labels are for one target column
                if (isHeader(record)) {
                    header = new String[width];
                    for (int c = 0; c < width; c++) header[c] = record.getField(c).strip();
                    return;
                }
            }
            if (n != width)
                throw new CliException(file + ":" + line + ": row has " + n + " columns, expected " + width);
            if (rows == labelIds.length) {
                int grown = (int) Math.min(MAX_VALUES, 2L * rows);
                HostMemory.require(12L * (grown - rows), file + " (" + rows + " rows so far)");
                labelIds = Arrays.copyOf(labelIds, grown);
                lines = Arrays.copyOf(lines, grown);
            }
            features.reserve(width - isTargetCount());
            for (int c = 0; c < width; c++)
                if (!isTarget[c]) features.add(number(record.getField(c).strip(), line, c));
            for (int c : targetColumns) addTarget(record.getField(c).strip(), line, c);
            lines[rows] = line;
            rows++;
        }

        private int isTargetCount() {
            int k = 0;
            for (boolean t : isTarget) if (t) k++;
            return k;
        }

        /** A target cell: its number (NaN if it is text) and, with one target column, its label id. */
        private void addTarget(String value, long line, int column) {
            if (value.isEmpty())
                throw new CliException(file + ":" + line + ": empty " + (targetColumns.length == 1 ? "label" : "target")
                        + " in column " + column + (header != null ? " (" + header[column] + ")" : ""));
            boolean number = isPlainNumber(value);
            if (!number && NOT_FINITE.matcher(value).matches())
                throw new CliException(file + ":" + line + ": " + (targetColumns.length == 1 ? "label" : "target") + " '"
                        + value + "' in column " + column + " looks like a missing value");
            float v = Float.NaN;
            if (number) {
                v = Float.parseFloat(value);
                if (!Float.isFinite(v))
                    throw new CliException(file + ":" + line + ": column " + column + ": " + value
                            + " is beyond the float range (±3.4e38)");
            } else if (firstTextTarget < 0) {
                firstTextTarget = line;
            }
            targets.reserve(1);
            targets.add(v);
            if (labelValues == null) return;
            Integer id = labelIndex.get(value);
            if (id == null) {
                if (labelValues.size() > MAX_CLASS_ID) {   // too many for classes: a measurement, kept as numbers only
                    distinctOverflow = line;
                    labelValues = null;
                    labelIndex = null;
                    return;
                }
                id = labelValues.size();
                labelIndex.put(value, id);
                labelValues.add(value);
            }
            labelIds[rows] = id;
        }

        private boolean isHeader(CsvRecord record) {
            for (int c = 0; c < width; c++) {
                if (isTarget[c]) continue;
                String s = record.getField(c).strip();
                if (!s.isEmpty() && !isPlainNumber(s) && !NOT_FINITE.matcher(s).matches()) return true;
            }
            return false;
        }

        /** A feature cell's value; the message (built only for a bad cell) names the file, line and column. */
        private float number(String s, long line, int column) {
            if (!isPlainNumber(s)) {
                String where = where(line, column);
                if (s.isEmpty()) throw new CliException(where + ": empty cell (missing value)");
                if (NOT_FINITE.matcher(s).matches()) throw new CliException(where + ": '" + s + "' is not finite");
                throw new CliException(where + ": '" + abbreviate(s) + "' is not a number");
            }
            float v = Float.parseFloat(s);
            if (!Float.isFinite(v))
                throw new CliException(where(line, column) + ": " + s + " is beyond the float range (±3.4e38)");
            return v;
        }

        private String where(long line, int column) {
            return file + ":" + line + ": column " + column + (header != null ? " (" + header[column] + ")" : "");
        }

        /** The rows so far as a table, then none: the next rows start a new table (header and labels kept). */
        Table drain() {
            Table t = build();
            rows = 0;
            features = new FloatChunks(file);
            targets = new FloatChunks(file);
            labelIds = new int[1024];
            lines = new long[1024];
            return t;
        }

        Table build() {
            if (rows == 0)
                throw new CliException(file + ": no data rows" + (header != null ? " (only the header)" : ""));
            int featureCount = width - isTargetCount();
            return new Table(file, header, width, targetColumns, features.toArray(), featureCount, targets.toArray(),
                    labelValues == null ? null : Arrays.copyOf(labelIds, rows),
                    labelValues == null ? null : List.copyOf(labelValues), Arrays.copyOf(lines, rows), firstTextTarget,
                    distinctOverflow);
        }
    }

    private static final int MAX_VALUES = io.github.backprop4j.core.Dataset.MAX_ARRAY_LENGTH;

    /**
     * Floats in chunks, so growing never copies and the heap budget is checked per chunk. The first
     * chunk is small and each next one twice as large up to MAX_CHUNK: a 40-row file should not
     * allocate (and zero) megabytes, which made loading one 5× slower than parsing it.
     */
    private static final class FloatChunks {
        private static final int FIRST_CHUNK = 1 << 12, MAX_CHUNK = 1 << 20;
        private final Path file;
        private final List<float[]> chunks = new ArrayList<>();
        private float[] current = new float[0];
        private int used;
        private long size;

        FloatChunks(Path file) {
            this.file = file;
        }

        /** Checks that {@code n} more values stay within one array's limit. */
        void reserve(int n) {
            if (size + n > MAX_VALUES)
                throw new CliException(file + ": more than " + MAX_VALUES + " feature values; one data set holds at "
                        + "most that many (use fewer rows or columns)");
        }

        void add(float v) {
            if (used == current.length) {
                int length = current.length == 0 ? FIRST_CHUNK : Math.min(MAX_CHUNK, 2 * current.length);
                // the values end up here, then in the train/test split, then in the data sets: ~3 copies
                HostMemory.require(3L * 4 * (size + length), file + " (" + size + " values read so far)");
                current = new float[length];
                chunks.add(current);
                used = 0;
            }
            current[used++] = v;
            size++;
        }

        float[] toArray() {
            HostMemory.require(4L * size, file.toString());
            float[] out = new float[(int) size];
            int at = 0;
            for (float[] c : chunks) {
                int n = (int) Math.min(c.length, size - at);
                System.arraycopy(c, 0, out, at, n);
                at += n;
            }
            chunks.clear();
            return out;
        }
    }

    /**
     * Class names from the labels: "0".."k−1" when all are non-negative integers, else the sorted
     * distinct strings. Refuses labels that cannot be a classification target: a single class, a
     * column of (nearly) unique values, integers mixed with one text value in row 1 (a header whose
     * feature names are numbers).
     */
    public static List<String> classNames(Table t) {
        requireLabels(t);
        int max = -1, maxRow = -1;
        List<Integer> textIds = new ArrayList<>();
        int[] asInteger = new int[t.labelValues().size()];
        for (int id = 0; id < asInteger.length; id++) {
            asInteger[id] = classId(t.labelValues().get(id));
            if (asInteger[id] < 0) textIds.add(id);
        }
        for (int r = 0; r < t.rows(); r++) {
            int v = asInteger[t.labelIds()[r]];
            if (v > max) {
                max = v;
                maxRow = r;
            }
        }
        if (textIds.size() == 1 && asInteger.length > 2 && t.labelIds()[0] == textIds.getFirst()
                && count(t, textIds.getFirst()) == 1)
            throw new CliException(t.file() + ":" + t.lines()[0] + ": label '" + t.label(0) + "' is text while every "
                    + "other label is an integer class id; if line " + t.lines()[0] + " is a header, give its feature "
                    + "columns names that are not numbers");
        if (t.labelValues().size() < 2)
            throw new CliException(t.file() + ": every row has the label '" + t.label(0) + "': a classifier needs at "
                    + "least 2 classes (is --label-column right?)");
        List<String> names = new ArrayList<>();
        if (textIds.isEmpty()) {
            if (max > MAX_CLASS_ID)
                throw new CliException(t.file() + ":" + t.lines()[maxRow] + ": class id " + max + " is larger than "
                        + MAX_CLASS_ID + " (integer labels are class ids 0..k−1, one output unit each)");
            for (int i = 0; i <= max; i++) names.add(Integer.toString(i));
        } else {
            names.addAll(new TreeSet<>(t.labelValues()));
            if (names.size() > 16 && names.size() > t.rows() / 2)
                throw new CliException(t.file() + ": " + names.size() + " distinct labels in " + t.rows() + " rows (e.g. '"
                        + abbreviate(t.label(0)) + "'): that is an identifier or a measurement, not a class; "
                        + "choose the label column with --label-column");
        }
        return names;
    }

    /** Refuses a label column with too many distinct values to be classes (the table kept no labels then). */
    private static void requireLabels(Table t) {
        if (t.labelValues() == null)
            throw new CliException(t.file() + ":" + t.distinctOverflow() + ": more than " + (MAX_CLASS_ID + 1)
                    + " distinct labels in column " + t.targetColumns()[0] + "; is it really the label column "
                    + "(--label-column), or a regression target (--task regress)?");
    }

    /** Most distinct integer labels a target column may have to be taken for classes when --task is not given. */
    static final int MAX_INFERRED_CLASSES = 32;

    /** A task inferred from the targets, with the reason, which the output states. */
    record Inferred(Task task, String reason) {
    }

    /**
     * The task the targets suggest when none is given: several target columns are a regression; text
     * labels are classes; labels that are all 0 or 1 a binary task; other non-negative integer labels
     * with at most {@value #MAX_INFERRED_CLASSES} distinct values classes; any other numbers a regression.
     */
    static Inferred inferTask(Table t) {
        if (t.targetColumns().length > 1)
            return new Inferred(Task.REGRESS, t.targetColumns().length + " target columns");
        String column = t.columnName(t.targetColumns()[0]);
        if (t.firstTextTarget() >= 0)
            return new Inferred(Task.CLASSIFY, column + " holds text (e.g. line " + t.firstTextTarget() + ")");
        if (t.labelValues() != null && t.labelValues().size() <= MAX_INFERRED_CLASSES
                && t.labelValues().stream().allMatch(v -> classId(v) >= 0)) {
            boolean zeroOne = t.labelValues().stream().allMatch(v -> classId(v) <= 1);
            return zeroOne ? new Inferred(Task.BINARY, column + " holds only 0 and 1")
                    : new Inferred(Task.CLASSIFY, column + " holds " + t.labelValues().size() + " distinct non-negative "
                    + "integers");
        }
        return new Inferred(Task.REGRESS, column + (t.labelValues() == null ? " holds more than " + (MAX_CLASS_ID + 1)
                + " distinct numbers" : t.labelValues().size() > MAX_INFERRED_CLASSES ? " holds "
                + t.labelValues().size() + " distinct numbers" : " holds numbers that are not non-negative integers"));
    }

    private static int count(Table t, int id) {
        int n = 0;
        for (int v : t.labelIds()) if (v == id) n++;
        return n;
    }

    /** The label as a class id (saturated at Integer.MAX_VALUE), or −1 when it is not ASCII digits only. */
    private static int classId(String s) {
        if (s.isEmpty()) return -1;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
        return s.length() > 10 ? Integer.MAX_VALUE : (int) Math.min(Long.parseLong(s), Integer.MAX_VALUE);
    }

    /** Class index of every row under the given class names; an unknown label is an error naming the line. */
    public static int[] classIndices(Table t, List<String> names) {
        requireLabels(t);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.size(); i++) index.put(names.get(i), i);
        boolean integerNames = names.stream().allMatch(n -> classId(n) >= 0);
        int[] byValue = new int[t.labelValues().size()];
        for (int id = 0; id < byValue.length; id++) {
            String value = t.labelValues().get(id);
            Integer c = index.get(value);
            if (c == null && integerNames && classId(value) >= 0) c = index.get(Integer.toString(classId(value)));
            byValue[id] = c == null ? -1 : c;
        }
        int[] y = new int[t.rows()];
        for (int r = 0; r < y.length; r++) {
            int c = byValue[t.labelIds()[r]];
            if (c < 0)
                throw new CliException(t.file() + ":" + t.lines()[r] + ": label '" + abbreviate(t.label(r))
                        + "' is not one of the " + names.size() + " classes " + abbreviate(names));
            y[r] = c;
        }
        return y;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 12 ? names.toString() : names.subList(0, 12) + "...";
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
