package io.github.backprop4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.backprop4j.core.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** loss.png (train and test loss per epoch) and accuracy.png (test accuracy per epoch), headless. */
final class Charts {

    private Charts() {
    }

    static void write(Path dir, JsonNode history) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        int n = history.size();
        if (n == 0) return;
        double[] epoch = new double[n], train = new double[n], test = new double[n], acc = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode h = history.get(i);
            epoch[i] = h.path("epoch").asDouble();
            train[i] = h.path("train_loss").asDouble();
            test[i] = h.path("test_loss").asDouble();
            acc[i] = h.path("test_accuracy").asDouble();
        }
        XYChart loss = new XYChartBuilder().width(800).height(500).title("Loss").xAxisTitle("epoch")
                .yAxisTitle("cross-entropy").build();
        loss.addSeries("train loss", epoch, train).setMarker(SeriesMarkers.CIRCLE);
        loss.addSeries("test loss", epoch, test).setMarker(SeriesMarkers.DIAMOND);
        save(loss, dir.resolve("loss.png"));
        XYChart accuracy = new XYChartBuilder().width(800).height(500).title("Test accuracy").xAxisTitle("epoch")
                .yAxisTitle("accuracy").build();
        accuracy.addSeries("test accuracy", epoch, acc).setMarker(SeriesMarkers.CIRCLE);
        accuracy.getStyler().setLegendVisible(false);
        save(accuracy, dir.resolve("accuracy.png"));
    }

    /** Atomically, like every file the tool writes (a failure names {@code file}, never a temp file). */
    private static void save(XYChart chart, Path file) throws IOException {
        AtomicFiles.write(file, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
