package io.github.backprop4j.cli;

import de.siegmar.fastcsv.writer.CsvWriter;
import de.siegmar.fastcsv.writer.LineDelimiter;
import io.github.backprop4j.core.Task;

import java.util.ArrayList;
import java.util.List;

/**
 * A model's outputs as the CSV {@code predict} writes: per row its id (the input's line, or the image's
 * index), then for a classifier the predicted class and every class's probability, for a binary one the
 * predicted class and the positive class's probability, for a regression the predicted values in the
 * targets' units, one column per target.
 */
final class Predictions {

    private Predictions() {
    }

    /** Row i's class: the argmax of its probabilities, or probability ≥ 0.5 (the positive class, 1) for a binary network. */
    static int predictedClass(float[] outputs, int i, Task task, int classes) {
        if (task == Task.BINARY) return outputs[i] >= 0.5f ? 1 : 0;
        int best = 0;
        for (int j = 1; j < classes; j++) if (outputs[i * classes + j] > outputs[i * classes + best]) best = j;
        return best;
    }

    /** The column names after the id column. */
    static List<String> header(Task task, List<String> classes, List<String> targetNames) {
        List<String> h = new ArrayList<>();
        switch (task) {
            case CLASSIFY -> {
                h.add("predicted");
                for (String c : classes) h.add("p(" + c + ")");
            }
            case BINARY -> {
                h.add("predicted");
                h.add("p(" + classes.get(1) + ")");
            }
            case REGRESS -> h.addAll(targetNames);
        }
        return h;
    }

    /**
     * The CSV written row by row to a stream: a header (idName, then {@link #header}) and one record per
     * row, so that no output is held in memory whole.
     */
    static final class Writer implements java.io.Flushable {
        private final CsvWriter csv;
        private final int width;
        private final Task task;
        private final List<String> classes;
        private final List<String> record = new ArrayList<>();

        Writer(java.io.OutputStream out, String idName, int width, Task task, List<String> classes,
               List<String> targetNames) {
            this.csv = CsvWriter.builder().lineDelimiter(LineDelimiter.LF)
                    .build(new java.io.OutputStreamWriter(out, java.nio.charset.StandardCharsets.UTF_8));
            this.width = width;
            this.task = task;
            this.classes = classes;
            record.add(idName);
            record.addAll(header(task, classes, targetNames));
            csv.writeRecord(record);
        }

        /** One record for each of the rows ids[from .. from + count), the i-th one's outputs at outputs[i·width ..]. */
        void rows(long[] ids, int from, int count, float[] outputs) {
            for (int i = 0; i < count; i++) {
                record.clear();
                record.add(Long.toString(ids[from + i]));
                if (task != Task.REGRESS) record.add(classes.get(predictedClass(outputs, i, task, classes.size())));
                for (int j = 0; j < width; j++) record.add(Float.toString(outputs[i * width + j]));
                csv.writeRecord(record);
            }
        }

        /** Flushes the CSV writer's buffer to the stream (which stays open). */
        @Override
        public void flush() throws java.io.IOException {
            csv.flush();
        }
    }
}
