package io.github.spo4j.bench.compare;

import com.google.gson.Gson;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.Summary;
import io.github.spo4j.train.CreditAudit;
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
 * <p>A length may name several compares, one per SFT base ({@code 8=runs/s0-d8,runs/s4-d8}). Its point is then the
 * mean of the bases' gaps with its standard error across the bases ({@link AcrossBases#pooled}), on each axis: the
 * base moves the result more than the RL seed does, so the error over RL seeds alone would overstate what one length
 * says.
 *
 * <p>Where the compares wrote the credit audit of their base ({@code credit.json}), a second table gives each
 * length's mean over its bases: the share of response tokens below ρ, and GRPO's and the compared SPO-chain's
 * correlation with the Monte-Carlo reference and share of right signs on the clear tokens.
 *
 * Writes {@code gap_vs_decisions.md} (the tables, with each length's base and GRPO's final) and {@code
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
     * Over several bases: each value is the mean over the bases, each error the standard error across them, and
     * {@code seeds} the runs of all bases together.
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
            double errorAtEpisodes,
            int bases) {}

    /**
     * One length's credit audit, the mean over its bases: the share of response tokens below ρ and their number per
     * response (the decisions the sampler actually makes, whatever the task's nominal count), and for GRPO and the
     * compared SPO-chain (the audit's first SPO-chain row) the correlation with the reference and the share of right
     * signs on the clear tokens.
     */
    record Credit(
            int decisions,
            int bases,
            double belowRho,
            double belowRhoPerResponse,
            double grpoCorrelation,
            double grpoRightSigns,
            double chainCorrelation,
            double chainRightSigns,
            double chainExtraTokens) {}

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
                        episodes[1],
                        1));
            }
        }
        return out;
    }

    /**
     * The gaps at every length from one or more bases each, lengths ascending: one base as {@link #gaps}, several
     * pooled over the bases.
     */
    static List<Gap> gapsOverBases(Map<Integer, List<List<EvalPoint>>> byDecisions) {
        List<Gap> out = new ArrayList<>();
        for (var e : new TreeMap<>(byDecisions).entrySet()) {
            List<List<EvalPoint>> bases = e.getValue();
            if (bases.isEmpty()) throw new IllegalArgumentException(e.getKey() + " decisions name no compare");
            if (bases.size() == 1) {
                out.addAll(gaps(Map.of(e.getKey(), bases.get(0))));
                continue;
            }
            List<AcrossBases.BaseGap> perBase = new ArrayList<>();
            for (int b = 0; b < bases.size(); b++) {
                for (Gap g : gaps(Map.of(e.getKey(), bases.get(b)))) perBase.add(new AcrossBases.BaseGap("" + b, g));
            }
            Map<String, List<AcrossBases.Pooled>> pooled = new LinkedHashMap<>();
            for (AcrossBases.Pooled p : AcrossBases.pooled(perBase)) {
                pooled.computeIfAbsent(p.algorithm(), k -> new ArrayList<>()).add(p);
            }
            for (var a : pooled.entrySet()) {
                List<Gap> own = perBase.stream()
                        .map(AcrossBases.BaseGap::gap)
                        .filter(g -> g.algorithm().equals(a.getKey()))
                        .toList();
                List<AcrossBases.Pooled> axes = a.getValue(); // tokens, wall time, episodes: AcrossBases.AXES
                out.add(new Gap(
                        a.getKey(),
                        e.getKey(),
                        axes.get(0).mean(),
                        axes.get(0).error(),
                        own.stream().mapToInt(Gap::seeds).sum(),
                        own.stream().mapToDouble(Gap::base).average().orElseThrow(),
                        own.stream().mapToDouble(Gap::baseline).average().orElseThrow(),
                        axes.get(1).mean(),
                        axes.get(1).error(),
                        axes.get(2).mean(),
                        axes.get(2).error(),
                        own.size()));
            }
        }
        return out;
    }

    /** Each length's credit audit, the mean over the bases that have one; lengths without one are left out. */
    static List<Credit> credits(Map<Integer, List<CreditAudit.Result>> byDecisions) {
        List<Credit> out = new ArrayList<>();
        for (var e : new TreeMap<>(byDecisions).entrySet()) {
            List<CreditAudit.Result> audits = e.getValue();
            if (audits.isEmpty()) continue;
            double[] sums = new double[7];
            for (CreditAudit.Result r : audits) {
                CreditAudit.Row grpo = row(r, "grpo");
                CreditAudit.Row chain = row(r, "spo-chain");
                double[] v = {
                    r.decisionFraction(),
                    r.decisionFraction() * r.meanResponseTokens(),
                    grpo.correlation(),
                    grpo.signAgreement(),
                    chain.correlation(),
                    chain.signAgreement(),
                    chain.extraTokensPerResponse()
                };
                for (int i = 0; i < v.length; i++) sums[i] += v[i];
            }
            int n = audits.size();
            for (int i = 0; i < sums.length; i++) sums[i] /= n;
            out.add(new Credit(e.getKey(), n, sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6]));
        }
        return out;
    }

    /** The audit's first row whose estimator starts with {@code prefix}. */
    private static CreditAudit.Row row(CreditAudit.Result r, String prefix) {
        return r.rows().stream()
                .filter(row -> row.estimator().startsWith(prefix))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the credit audit has no " + prefix + " row"));
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
        return markdown(gaps, List.of());
    }

    static String markdown(List<Gap> gaps, List<Credit> credits) {
        StringBuilder md = new StringBuilder(
                "| decisions | bases | base | GRPO final | algorithm | runs | gap to GRPO (points) | standard error"
                        + " | at equal wall time | at equal episodes |\n"
                        + "|---|---|---|---|---|---|---|---|---|---|\n");
        for (Gap g : gaps) {
            md.append(String.format(
                    "| %d | %d | %.1f%% | %.1f%% | %s | %d | %+.1f | %.1f | %s | %s |%n",
                    g.decisions(),
                    g.bases(),
                    g.base(),
                    g.baseline(),
                    g.algorithm(),
                    g.seeds(),
                    g.gap(),
                    g.error(),
                    plusMinus(g.gapAtWallTime(), g.errorAtWallTime()),
                    plusMinus(g.gapAtEpisodes(), g.errorAtEpisodes())));
        }
        if (gaps.stream().anyMatch(g -> g.bases() > 1)) {
            md.append("\nWhere a length has several bases, its values are means over the bases and its errors the"
                    + " standard errors across them; with one base, the standard errors over its RL seeds.\n");
        }
        if (!credits.isEmpty()) {
            md.append(
                    "\nCredit audit of the bases (mean over each length's bases; right signs on the clear tokens):\n\n"
                            + "| decisions | bases | tokens below ρ | per response | GRPO correlation | GRPO right signs | SPO-chain correlation"
                            + " | SPO-chain right signs | SPO-chain rollout tokens per response |\n"
                            + "|---|---|---|---|---|---|---|---|---|\n");
            for (Credit c : credits) {
                md.append(String.format(
                        "| %d | %d | %.1f%% | %.1f | %.3f | %.1f%% | %.3f | %.1f%% | %.0f |%n",
                        c.decisions(),
                        c.bases(),
                        100 * c.belowRho(),
                        c.belowRhoPerResponse(),
                        c.grpoCorrelation(),
                        100 * c.grpoRightSigns(),
                        c.chainCorrelation(),
                        100 * c.chainRightSigns(),
                        c.chainExtraTokens()));
            }
        }
        return md.toString();
    }

    /** A gap in points with its error, {@code "+1.2 ± 0.3"}; without the error where it is NaN, {@code "-"} for no gap. */
    static String plusMinus(double gap, double error) {
        if (Double.isNaN(gap)) return "-";
        return Double.isNaN(error) ? String.format("%+.1f", gap) : String.format("%+.1f ± %.1f", gap, error);
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
            throw new IllegalArgumentException(
                    "usage: DecisionsCurve OUT D=COMPARE_DIR[,COMPARE_DIR...] [D=COMPARE_DIR[,COMPARE_DIR...] ...]");
        }
        Path out = Path.of(args[0]);
        Map<Integer, List<Path>> dirs = CompareDirs.dirs(
                Arrays.asList(args).subList(1, args.length), Integer::parseInt, "D=COMPARE_DIR[,COMPARE_DIR...]");
        Map<Integer, List<List<EvalPoint>>> byDecisions = new LinkedHashMap<>();
        Map<Integer, List<CreditAudit.Result>> audits = new LinkedHashMap<>();
        Gson gson = new Gson();
        for (var e : dirs.entrySet()) {
            for (Path dir : e.getValue()) {
                byDecisions.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(CompareDirs.metrics(dir));
                Path credit = dir.resolve("credit.json");
                if (Files.exists(credit)) {
                    audits.computeIfAbsent(e.getKey(), k -> new ArrayList<>())
                            .add(gson.fromJson(Files.readString(credit), CreditAudit.Result.class));
                }
            }
        }
        List<Gap> gaps = gapsOverBases(byDecisions);
        String md = markdown(gaps, credits(audits));
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve("gap_vs_decisions.md"), md.getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(out.resolve("gap_vs_decisions.png"), png(gaps));
        System.out.print(md);
    }
}
