package io.github.spo4j.bench.compare;

import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.Summary;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The scientific claim of issue 16 as a curve: each algorithm's final greedy accuracy minus GRPO's, against the
 * decisions per response, from one {@code spo4j compare} directory per chain length ({@code metrics.jsonl}). With
 * mean accuracies a and g over n_a and n_g seeds and sample standard deviations s_a and s_g, a point is
 *
 * <pre>
 *   gap = a − g,   error bar = √(s_a² / n_a + s_g² / n_g)   (the standard error of a difference of two means)
 * </pre>
 *
 * The table also gives the gap and its error at equal wall time and at equal episodes: each algorithm's accuracy at
 * the compare's common horizon on that axis (the furthest point every run reached), against GRPO's there.
 *
 * Writes {@code gap_vs_decisions.md} (the table, with each length's base and GRPO's final) and {@code
 * gap_vs_decisions.png} into the output directory.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.spo4j.bench.compare.DecisionsCurve OUT 4=runs/d4 6=runs/d6 8=runs/d8
 * </pre>
 */
public final class DecisionsCurve {
    static final String BASELINE = "grpo";

    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private DecisionsCurve() {}

    /**
     * One algorithm at one chain length: its gap to GRPO in accuracy points and the gap's standard error, at the end
     * of the token budget ({@code gap}, {@code error}), at the compare's common wall-time horizon and at its common
     * episode horizon (the furthest point every run reached, {@link Summary#commonHorizon}; NaN where unrecorded).
     */
    record Gap(
            String algorithm,
            int decisions,
            double gap,
            double error,
            int seeds,
            double base,
            double baseline,
            double gapAtWallTime,
            double errorAtWallTime,
            double gapAtEpisodes,
            double errorAtEpisodes) {}

    /** The gaps of every algorithm but GRPO at every chain length, lengths ascending. */
    static List<Gap> gaps(Map<Integer, List<EvalPoint>> byDecisions) {
        List<Gap> out = new ArrayList<>();
        for (var e : new TreeMap<>(byDecisions).entrySet()) {
            List<Summary.AlgorithmSummary> finals = Summary.finalResults(e.getValue());
            Summary.AlgorithmSummary grpo = finals.stream()
                    .filter(s -> s.algorithm().equals(BASELINE))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(
                            "the compare at " + e.getKey() + " decisions has no grpo run"));
            Map<String, Summary.AxisPoint> atWall = atHorizon(e.getValue(), Summary.Axis.WALL_TIME);
            Map<String, Summary.AxisPoint> atEpisodes = atHorizon(e.getValue(), Summary.Axis.EPISODES);
            for (Summary.AlgorithmSummary s : finals) {
                if (s == grpo) continue;
                double error = Math.sqrt(variance(s) / s.seeds() + variance(grpo) / grpo.seeds());
                double[] wall = difference(atWall.get(s.algorithm()), atWall.get(BASELINE));
                double[] episodes = difference(atEpisodes.get(s.algorithm()), atEpisodes.get(BASELINE));
                out.add(new Gap(
                        s.algorithm(),
                        e.getKey(),
                        100 * (s.meanAccuracy() - grpo.meanAccuracy()),
                        100 * error,
                        s.seeds(),
                        100 * s.baseAccuracy(),
                        100 * grpo.meanAccuracy(),
                        wall[0],
                        wall[1],
                        episodes[0],
                        episodes[1]));
            }
        }
        return out;
    }

    /** Each algorithm's accuracy at the compare's common horizon on {@code axis}; empty where it is undefined. */
    private static Map<String, Summary.AxisPoint> atHorizon(List<EvalPoint> points, Summary.Axis axis) {
        Map<String, Summary.AxisPoint> out = new LinkedHashMap<>();
        double horizon = Summary.commonHorizon(points, axis);
        if (Double.isNaN(horizon)) return out;
        for (Summary.AxisPoint p : Summary.atAxis(points, axis, horizon, 1.0)) out.put(p.algorithm(), p);
        return out;
    }

    /** {gap, standard error} in points of a minus b; NaNs when either is missing. */
    private static double[] difference(Summary.AxisPoint a, Summary.AxisPoint b) {
        if (a == null || b == null || a.seeds() == 0 || b.seeds() == 0) return new double[] {Double.NaN, Double.NaN};
        double va = a.seeds() > 1 ? a.std() * a.std() : 0;
        double vb = b.seeds() > 1 ? b.std() * b.std() : 0;
        return new double[] {100 * (a.accuracy() - b.accuracy()), 100 * Math.sqrt(va / a.seeds() + vb / b.seeds())};
    }

    private static double variance(Summary.AlgorithmSummary s) {
        return s.seeds() > 1 ? s.stdAccuracy() * s.stdAccuracy() : 0;
    }

    static String markdown(List<Gap> gaps) {
        StringBuilder md = new StringBuilder(
                "| decisions | base | GRPO final | algorithm | seeds | gap to GRPO (points) | standard error"
                        + " | at equal wall time | at equal episodes |\n"
                        + "|---|---|---|---|---|---|---|---|---|\n");
        for (Gap g : gaps) {
            md.append(String.format(
                    "| %d | %.1f%% | %.1f%% | %s | %d | %+.1f | %.1f | %s | %s |%n",
                    g.decisions(),
                    g.base(),
                    g.baseline(),
                    g.algorithm(),
                    g.seeds(),
                    g.gap(),
                    g.error(),
                    plusMinus(g.gapAtWallTime(), g.errorAtWallTime()),
                    plusMinus(g.gapAtEpisodes(), g.errorAtEpisodes())));
        }
        return md.toString();
    }

    private static String plusMinus(double gap, double error) {
        return Double.isNaN(gap) ? "-" : String.format("%+.1f ± %.1f", gap, error);
    }

    static byte[] png(List<Gap> gaps) throws IOException {
        XYChart chart = new XYChartBuilder()
                .width(800)
                .height(500)
                .title("final greedy accuracy minus GRPO's")
                .xAxisTitle("decisions per response")
                .yAxisTitle("gap (accuracy points)")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        Map<String, List<Gap>> byAlgorithm = new LinkedHashMap<>();
        for (Gap g : gaps)
            byAlgorithm.computeIfAbsent(g.algorithm(), k -> new ArrayList<>()).add(g);
        for (var e : byAlgorithm.entrySet()) {
            List<Gap> line = e.getValue();
            chart.addSeries(
                            e.getKey(),
                            line.stream().mapToDouble(Gap::decisions).toArray(),
                            line.stream().mapToDouble(Gap::gap).toArray(),
                            line.stream().mapToDouble(Gap::error).toArray())
                    .setMarker(SeriesMarkers.CIRCLE);
        }
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: DecisionsCurve OUT D=COMPARE_DIR [D=COMPARE_DIR ...]");
        }
        Path out = Path.of(args[0]);
        Map<Integer, List<EvalPoint>> byDecisions =
                CompareDirs.read(Arrays.asList(args).subList(1, args.length), Integer::parseInt, "D=COMPARE_DIR");
        List<Gap> gaps = gaps(byDecisions);
        String md = markdown(gaps);
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve("gap_vs_decisions.md"), md.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(out.resolve("gap_vs_decisions.png"), png(gaps));
        System.out.print(md);
    }
}
