package io.github.backprop4j.bench;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Renderings of a hand-made report: the chart's axis choice, skipped cells in the tables, number formats. */
class ReportFilesTest {

    private static Report.Row train(String backend, String config, double samplesPerSecond) {
        double ms = 256 * 1000 / samplesPerSecond;
        return new Report.Row(new Report.Subject(BenchReport.SOURCE, "", backend, Report.TRAIN, config, "fp32", 256),
                new Report.Timing(ms, ms, ms, 5, 1), new Report.Rates(1, 0.001, samplesPerSecond),
                new Report.Platform("device " + backend, "runtime " + backend, "jvm", "os", 2), List.of());
    }

    private static Report report(List<Report.Row> rows, List<Report.Skipped> skipped) {
        Report.Settings s = new Report.Settings(List.of(), List.of("fp32"), List.of(), List.of("fashion", "wide"), 5, 3,
                2, 0.5, 60);
        return new Report("2026-01-01T00:00:00Z", new Report.Environment("25", "Linux", 2), s, rows, List.of(), skipped);
    }

    @Test
    void wideSpreadGetsALogAxisAndMissingCellsGetNoBar() throws IOException {
        Report r = report(List.of(train("cpu", "fashion", 70000), train("cpu", "wide", 600), train("opencl", "fashion", 17000)),
                List.of(new Report.Skipped("opencl", "fp32", "train", "wide", "estimated 405 s > budget 60 s per cell", 405)));
        CategoryChart chart = ReportFiles.chart(r);
        assertTrue(chart.getStyler().isYAxisLogarithmic());
        assertEquals(100, chart.getStyler().getYAxisMin(), 1e-9);
        assertTrue(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG).length > 1000);
        assertEquals(2, chart.getSeriesMap().size());

        String md = ReportFiles.markdown(r);
        assertTrue(md.contains("| opencl fp32 train wide | estimated 405 s > budget 60 s per cell |"), md);
        assertTrue(md.contains("- `cpu fp32`: device cpu; runtime cpu"), md);
        String text = ReportFiles.text(r);
        assertTrue(text.contains("opencl fp32 train wide: estimated 405 s"), text);
    }

    @Test
    void narrowSpreadKeepsALinearAxis() {
        CategoryChart chart = ReportFiles.chart(report(List.of(train("cpu", "fashion", 70000),
                train("opencl", "fashion", 17000)), List.of()));
        assertFalse(chart.getStyler().isYAxisLogarithmic());
    }

    @Test
    void millisecondsKeepThreeSignificantDigits() {
        assertEquals("0.0123", ReportFiles.fixed(0.012345));
        assertEquals("0.123", ReportFiles.fixed(0.12345));
        assertEquals("1.23", ReportFiles.fixed(1.2345));
        assertEquals("12.3", ReportFiles.fixed(12.345));
        assertEquals("6385", ReportFiles.fixed(6385.2));
    }
}
