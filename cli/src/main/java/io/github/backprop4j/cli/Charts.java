package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.AtomicFiles;
import io.github.backprop4j.core.Task;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** loss.png (train and held-out loss per epoch) and accuracy.png or r2.png (the held-out metric per epoch), headless. */
final class Charts {

    private Charts() {
    }

    /** The second chart's file: accuracy for classifiers, R² for regression. */
    static String metricFile(Task task) {
        return task == Task.REGRESS ? "r2.png" : "accuracy.png";
    }

    /**
     * loss.png (training loss and the held-out loss of each epoch: validation when there was a validation
     * split, else test) and the task's metric per epoch ({@link #metricFile}).
     */
    static void write(Path dir, JsonNode history, Task task) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        int n = history.size();
        if (n == 0) return;
        String set = history.get(n - 1).has("validation_loss") ? "validation" : "test";
        String metric = task == Task.REGRESS ? "r2" : "accuracy", metricName = task == Task.REGRESS ? "R²" : "accuracy";
        double[] epoch = new double[n], train = new double[n], held = new double[n], score = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode h = history.get(i);
            epoch[i] = h.path("epoch").asDouble();
            train[i] = h.path("train_loss").asDouble();
            held[i] = h.path(set + "_loss").asDouble();
            score[i] = h.path(set + "_" + metric).asDouble();
        }
        XYChart loss = new XYChartBuilder().width(800).height(500).title("Loss").xAxisTitle("epoch")
                .yAxisTitle(switch (task) {
                    case CLASSIFY -> "cross-entropy";
                    case BINARY -> "binary cross-entropy";
                    case REGRESS -> "mean squared error (standardized targets)";
                }).build();
        loss.addSeries("train loss", epoch, train).setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries(set + " loss", epoch, held).setMarker(SeriesMarkers.DIAMOND);
        save(loss, dir.resolve("loss.png"));
        String title = (set.equals("test") ? "Test " : "Validation ") + metricName;
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle("epoch")
                .yAxisTitle(metricName).build();
        chart.addSeries(set + " " + metricName, epoch, score).setMarker(SeriesMarkers.CIRCLE);
        chart.getStyler().setLegendVisible(false);
        save(chart, dir.resolve(metricFile(task)));
    }

    /** Atomically, like every file the tool writes (a failure names {@code file}, never a temp file). */
    private static void save(XYChart chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
