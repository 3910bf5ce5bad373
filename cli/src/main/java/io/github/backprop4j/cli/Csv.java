package io.github.backprop4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Comma-separated numeric data with one label column. The first row is a header when any of its
 * feature cells is not a number. Labels are integer class ids (0..k−1) when every label is an integer,
 * otherwise strings mapped to classes in sorted order. Errors name the file and the line.
 */
public final class Csv {

    /** Parsed rows: features (row-major), label strings, and the 1-based line of each row. */
    public record Table(Path file, String[] header, float[] features, int featureCount, String[] labels, int[] lines) {
        public int rows() {
            return labels.length;
        }
    }

    private Csv() {
    }

    /** {@code labelColumn} is 0-based; −1 means the last column. */
    public static Table read(Path file, int labelColumn) {
        List<String> lines;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            lines = r.lines().toList();
        } catch (NoSuchFileException e) {
            throw new CliException("CSV file " + file + " does not exist");
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CliException(file + ": cannot read: " + e.getMessage(), e);
        }
        int width = -1, label = labelColumn;
        String[] header = null;
        List<float[]> rows = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<Integer> lineNumbers = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            int lineNo = i + 1;
            String[] cells = split(line);
            if (width < 0) {
                width = cells.length;
                if (width < 2)
                    throw new CliException(file + ":" + lineNo + ": need at least 2 columns (features and a label), found "
                            + width);
                if (label < 0) label = width + label;
                if (label < 0 || label >= width)
                    throw new CliException(file + ":" + lineNo + ": label column " + labelColumn + " is out of range: "
                            + "the file has " + width + " columns (0.." + (width - 1) + ")");
                boolean numeric = true;
                for (int c = 0; c < width; c++) if (c != label && !isNumber(cells[c])) numeric = false;
                if (!numeric) {
                    header = cells;
                    continue;
                }
            }
            if (cells.length != width)
                throw new CliException(file + ":" + lineNo + ": row has " + cells.length + " columns, expected " + width);
            float[] row = new float[width - 1];
            int k = 0;
            for (int c = 0; c < width; c++) {
                if (c == label) continue;
                String s = cells[c];
                float v;
                try {
                    v = Float.parseFloat(s);
                } catch (NumberFormatException e) {
                    throw new CliException(file + ":" + lineNo + ": column " + c
                            + (header != null ? " (" + header[c] + ")" : "") + ": '" + s + "' is not a number");
                }
                if (!Float.isFinite(v))
                    throw new CliException(file + ":" + lineNo + ": column " + c + ": '" + s + "' is not finite");
                row[k++] = v;
            }
            if (cells[label].isEmpty())
                throw new CliException(file + ":" + lineNo + ": empty label in column " + label);
            rows.add(row);
            labels.add(cells[label]);
            lineNumbers.add(lineNo);
        }
        if (rows.isEmpty()) throw new CliException(file + ": no data rows");
        float[] x = new float[rows.size() * (width - 1)];
        for (int r = 0; r < rows.size(); r++) System.arraycopy(rows.get(r), 0, x, r * (width - 1), width - 1);
        return new Table(file, header, x, width - 1, labels.toArray(String[]::new),
                lineNumbers.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Largest integer class id accepted: one output unit per class, so larger ids are data errors. */
    public static final int MAX_CLASS_ID = 65_535;

    /** Class names from the labels: "0".."k−1" when all are non-negative integers, else the sorted distinct strings. */
    public static List<String> classNames(Table t) {
        boolean integers = true;
        int max = -1, maxRow = -1;
        for (int r = 0; r < t.labels().length; r++) {
            try {
                int v = Integer.parseInt(t.labels()[r]);
                if (v < 0) integers = false;
                if (v > max) {
                    max = v;
                    maxRow = r;
                }
            } catch (NumberFormatException e) {
                integers = false;
            }
        }
        if (integers && max > MAX_CLASS_ID)
            throw new CliException(t.file() + ":" + t.lines()[maxRow] + ": class id " + max + " is larger than "
                    + MAX_CLASS_ID + " (integer labels are class ids 0..k−1, one output unit each)");
        List<String> names = new ArrayList<>();
        if (integers) {
            for (int i = 0; i <= Math.max(max, 1); i++) names.add(Integer.toString(i));
        } else {
            names.addAll(new TreeSet<>(List.of(t.labels())));
            if (names.size() < 2) names.add("(none)");
        }
        return names;
    }

    /** Class index of every row under the given class names; an unknown label is an error naming the line. */
    public static int[] classIndices(Table t, List<String> names) {
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < names.size(); i++) index.put(names.get(i), i);
        int[] y = new int[t.rows()];
        for (int r = 0; r < y.length; r++) {
            Integer c = index.get(t.labels()[r]);
            if (c == null)
                throw new CliException(t.file() + ":" + t.lines()[r] + ": label '" + t.labels()[r]
                        + "' is not one of the " + names.size() + " classes " + abbreviate(names));
            y[r] = c;
        }
        return y;
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 12 ? names.toString() : names.subList(0, 12) + "...";
    }

    private static String[] split(String line) {
        String[] cells = line.split(",", -1);
        for (int i = 0; i < cells.length; i++) {
            String c = cells[i].trim();
            if (c.length() >= 2 && c.startsWith("\"") && c.endsWith("\"")) c = c.substring(1, c.length() - 1).trim();
            cells[i] = c;
        }
        return cells;
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) return false;
        String l = s.toLowerCase(Locale.ROOT);
        if (l.contains("nan") || l.contains("inf")) return false;
        try {
            Float.parseFloat(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
