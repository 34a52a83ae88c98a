package io.github.spo4j.report;

import io.github.spo4j.model.io.AtomicFiles;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG plots (800×500) of test accuracy during training, one line per algorithm with a legend. A line's k-th point
 * is the mean over seeds of each seed's k-th evaluation (in iteration order): mean x, mean greedy accuracy in
 * percent, and error bars of ± the sample standard deviation of the accuracy across those seeds (0 with one seed).
 * Seeds with fewer evaluations drop out of the later means. Rendering works without a display: unless the
 * {@code java.awt.headless} property is already set, this class sets it to {@code true} before AWT is used. Files
 * are replaced atomically.
 */
public final class ComparePlots {
    /** Width of the written images in pixels. */
    public static final int WIDTH = 800;
    /** Height of the written images in pixels. */
    public static final int HEIGHT = 500;

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private ComparePlots() {}

    /** Accuracy against generated training tokens. */
    public static void accuracyVsTokens(Path png, List<EvalPoint> points, String title) throws IOException {
        plot(png, points, title, p -> p.generatedTokens(), "generated tokens", Formats::count);
    }

    /** Accuracy against training iterations (one batch of sampling and one update each). */
    public static void accuracyVsIterations(Path png, List<EvalPoint> points, String title) throws IOException {
        plot(png, points, title, p -> p.iteration(), "iterations", x -> Long.toString(Math.round(x)));
    }

    /**
     * Accuracy against training episodes (the responses or tree edges the loss was taken on; the paper's axis);
     * points from files that did not record them are left out, and at least one must have.
     */
    public static void accuracyVsEpisodes(Path png, List<EvalPoint> points, String title) throws IOException {
        Summary.checkPoints(points);
        List<EvalPoint> recorded = points.stream()
                .filter(p -> p.episodes() != EvalPoint.UNRECORDED)
                .toList();
        if (recorded.isEmpty() && !points.isEmpty()) {
            throw new IllegalArgumentException("no point records its training episodes (metrics from an older spo4j)");
        }
        plot(png, recorded, title, p -> p.episodes(), "training episodes", Formats::count);
    }

    /** Accuracy against training wall time. */
    public static void accuracyVsTime(Path png, List<EvalPoint> points, String title) throws IOException {
        plot(png, points, title, EvalPoint::wallSeconds, "wall time", s -> s == 0 ? "0" : Formats.duration(s));
    }

    /** One algorithm's line: mean x, mean accuracy (percent) and its standard deviation (percent) per index. */
    record Line(String algorithm, double[] x, double[] accuracy, double[] std) {}

    /** The plotted lines, one per algorithm in first-appearance order. */
    static List<Line> lines(List<EvalPoint> points, ToDoubleFunction<EvalPoint> xOf) {
        List<Line> out = new ArrayList<>();
        for (Map.Entry<String, Map<Long, List<EvalPoint>>> algo :
                Summary.bySeed(points).entrySet()) {
            List<List<EvalPoint>> runs = new ArrayList<>();
            int longest = 0;
            for (List<EvalPoint> run : algo.getValue().values()) {
                List<EvalPoint> sorted = new ArrayList<>(run);
                sorted.sort((a, b) -> Integer.compare(a.iteration(), b.iteration()));
                runs.add(sorted);
                longest = Math.max(longest, sorted.size());
            }
            double[] x = new double[longest];
            double[] acc = new double[longest];
            double[] std = new double[longest];
            for (int k = 0; k < longest; k++) {
                List<Double> xs = new ArrayList<>();
                List<Double> accs = new ArrayList<>();
                for (List<EvalPoint> run : runs) {
                    if (k < run.size()) {
                        xs.add(xOf.applyAsDouble(run.get(k)));
                        accs.add(100 * run.get(k).greedyAccuracy());
                    }
                }
                x[k] = Summary.mean(xs);
                acc[k] = Summary.mean(accs);
                std[k] = Summary.sampleStd(accs);
            }
            out.add(new Line(algo.getKey(), x, acc, std));
        }
        return out;
    }

    private static void plot(
            Path png,
            List<EvalPoint> points,
            String title,
            ToDoubleFunction<EvalPoint> xOf,
            String xTitle,
            Function<Double, String> xLabel)
            throws IOException {
        if (png == null) throw new IllegalArgumentException("png must not be null");
        Summary.checkPoints(points);
        if (points.isEmpty()) throw new IllegalArgumentException("points must not be empty");
        if (title == null) throw new IllegalArgumentException("title must not be null");
        XYChart chart = new XYChartBuilder()
                .width(WIDTH)
                .height(HEIGHT)
                .title(title)
                .xAxisTitle(xTitle)
                .yAxisTitle("test accuracy (%)")
                .build();
        XYStyler styler = chart.getStyler();
        styler.setLegendPosition(Styler.LegendPosition.OutsideE);
        styler.setErrorBarsColorSeriesColor(true);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setAntiAlias(true);
        chart.setCustomXAxisTickLabelsFormatter(xLabel);
        for (Line line : lines(points, xOf)) {
            XYSeries s = chart.addSeries(line.algorithm(), line.x(), line.accuracy(), line.std());
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        AtomicFiles.write(png, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
