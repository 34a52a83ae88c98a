package io.github.spo4j.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Final results of a comparison: one row per algorithm over its seeds. */
public final class Summary {
    private Summary() {}

    /**
     * One algorithm's results over its seeds, taken from each seed's last evaluation (highest iteration).
     *
     * @param algorithm           the algorithm's name
     * @param seeds               number of distinct seeds
     * @param meanAccuracy        mean final greedy accuracy
     * @param stdAccuracy         sample standard deviation (n − 1) of the final greedy accuracy; 0 for one seed
     * @param meanSampledAccuracy mean final sampled accuracy over the seeds that measured it; NaN if none did
     * @param meanTokens          mean generated tokens at the final evaluation
     * @param meanWallSeconds     mean wall time at the final evaluation
     * @param meanEpisodes        mean training episodes at the final evaluation; NaN where a seed did not record them
     * @param meanOptimizerSteps  mean optimizer steps at the final evaluation; NaN likewise
     * @param baseAccuracy        mean greedy accuracy of the iteration-0 evaluations; NaN if there are none
     */
    public record AlgorithmSummary(
            String algorithm,
            int seeds,
            double meanAccuracy,
            double stdAccuracy,
            double meanSampledAccuracy,
            double meanTokens,
            double meanWallSeconds,
            double meanEpisodes,
            double meanOptimizerSteps,
            double baseAccuracy) {}

    /**
     * One summary per algorithm, in the order algorithms first appear in {@code points}. A seed's last point is the
     * one with the highest iteration (the later in list order among equal iterations).
     */
    public static List<AlgorithmSummary> finalResults(List<EvalPoint> points) {
        checkPoints(points);
        List<AlgorithmSummary> out = new ArrayList<>();
        for (Map.Entry<String, Map<Long, List<EvalPoint>>> algo : bySeed(points).entrySet()) {
            List<EvalPoint> finals = new ArrayList<>();
            List<Double> base = new ArrayList<>();
            for (List<EvalPoint> run : algo.getValue().values()) {
                finals.add(last(run));
                for (EvalPoint p : run) if (p.iteration() == 0) base.add(p.greedyAccuracy());
            }
            List<Double> acc = finals.stream().map(EvalPoint::greedyAccuracy).toList();
            out.add(new AlgorithmSummary(
                    algo.getKey(),
                    finals.size(),
                    mean(acc),
                    sampleStd(acc),
                    mean(finals.stream()
                            .map(EvalPoint::sampledAccuracy)
                            .filter(v -> !Double.isNaN(v))
                            .toList()),
                    mean(finals.stream().map(p -> (double) p.generatedTokens()).toList()),
                    mean(finals.stream().map(EvalPoint::wallSeconds).toList()),
                    recorded(finals.stream().map(EvalPoint::episodes).toList()),
                    recorded(finals.stream().map(EvalPoint::optimizerSteps).toList()),
                    mean(base)));
        }
        return out;
    }

    /**
     * A fixed-width plain-text table for the terminal, one row per summary: algorithm, seeds, base accuracy,
     * final greedy accuracy (mean ± std, percent), sampled accuracy, tokens generated ({@code 1.23M}, {@code 456k}),
     * wall time ({@code 1m 23s}), training episodes and optimizer steps; unmeasured values are {@code -}. Ends with a
     * newline.
     */
    public static String table(List<AlgorithmSummary> summaries) {
        if (summaries == null) throw new IllegalArgumentException("summaries must not be null");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {
            "algorithm",
            "seeds",
            "base acc",
            "final acc (mean ± std)",
            "sampled acc",
            "tokens",
            "wall time",
            "episodes",
            "steps"
        });
        for (AlgorithmSummary s : summaries) {
            if (s == null) throw new IllegalArgumentException("summaries must not contain null");
            rows.add(cells(s));
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) for (int c = 0; c < r.length; c++) width[c] = Math.max(width[c], r[c].length());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            appendRow(out, rows.get(i), width);
            if (i == 0) {
                String[] rule = new String[width.length];
                for (int c = 0; c < width.length; c++) rule[c] = "-".repeat(width[c]);
                appendRow(out, rule, width);
            }
        }
        return out.toString();
    }

    /** The display cells of a summary, in {@link #table} column order. */
    static String[] cells(AlgorithmSummary s) {
        return new String[] {
            s.algorithm(),
            Integer.toString(s.seeds()),
            Formats.percent(s.baseAccuracy()),
            Formats.percentMeanStd(s.meanAccuracy(), s.stdAccuracy()),
            Formats.percent(s.meanSampledAccuracy()),
            Formats.count(s.meanTokens()),
            Formats.duration(s.meanWallSeconds()),
            Formats.count(s.meanEpisodes()),
            Formats.count(s.meanOptimizerSteps())
        };
    }

    /**
     * The axes a comparison is read on. The paper compares at equal training episodes and plots accuracy against
     * wall-clock time; equal generated tokens (rollouts included) is the strictest of the three and the budget's.
     */
    public enum Axis {
        TOKENS("generated tokens"),
        WALL_TIME("training wall time"),
        EPISODES("training episodes");

        private final String description;

        Axis(String description) {
            this.description = description;
        }

        /** The point's position on this axis; NaN for episodes a file did not record. */
        public double of(EvalPoint p) {
            return switch (this) {
                case TOKENS -> p.generatedTokens();
                case WALL_TIME -> p.wallSeconds();
                case EPISODES -> p.episodes() == EvalPoint.UNRECORDED ? Double.NaN : p.episodes();
            };
        }

        public String description() {
            return description;
        }

        String format(double at) {
            return this == WALL_TIME ? Formats.duration(at) : Formats.count(at);
        }
    }

    /**
     * Greedy accuracy at one point of an axis: over an algorithm's seeds, the mean and sample standard deviation of
     * each seed's last evaluation at or before {@code at} on the axis (the base, at 0, is before every point).
     *
     * @param fraction the point as a fraction of the horizon it was taken from
     * @param seeds    seeds with an evaluation at or before the point
     * @param accuracy their mean greedy accuracy
     * @param std      its sample standard deviation; 0 for one seed
     */
    public record AxisPoint(
            String algorithm, Axis axis, double fraction, double at, int seeds, double accuracy, double std) {}

    /**
     * {@link AxisPoint}s of every algorithm (first-appearance order) at each of {@code fractions} of {@code horizon}
     * on {@code axis}: for the token axis the budget, for the others usually {@link #commonHorizon}.
     */
    public static List<AxisPoint> atAxis(List<EvalPoint> points, Axis axis, double horizon, double... fractions) {
        checkPoints(points);
        if (axis == null) throw new IllegalArgumentException("axis must not be null");
        if (!(horizon > 0) || Double.isInfinite(horizon)) {
            throw new IllegalArgumentException("horizon must be finite and > 0, got " + horizon);
        }
        if (fractions == null || fractions.length == 0) throw new IllegalArgumentException("fractions must be given");
        for (double f : fractions) {
            if (!(f > 0 && f <= 1)) throw new IllegalArgumentException("fractions must be in (0, 1], got " + f);
        }
        List<AxisPoint> out = new ArrayList<>();
        for (Map.Entry<String, Map<Long, List<EvalPoint>>> algo : bySeed(points).entrySet()) {
            for (double f : fractions) {
                double at = axis == Axis.TOKENS ? Math.round(f * horizon) : f * horizon;
                List<Double> acc = new ArrayList<>();
                for (List<EvalPoint> run : algo.getValue().values()) {
                    EvalPoint last = null;
                    for (EvalPoint p : run) {
                        if (axis.of(p) <= at && (last == null || p.iteration() >= last.iteration())) last = p;
                    }
                    if (last != null) acc.add(last.greedyAccuracy());
                }
                out.add(new AxisPoint(algo.getKey(), axis, f, at, acc.size(), mean(acc), sampleStd(acc)));
            }
        }
        return out;
    }

    /**
     * The furthest point on {@code axis} that every run reached: the smallest, over all runs of all algorithms, of a
     * run's last evaluation's position. Comparing there compares every algorithm at an equal amount of the axis's
     * resource. NaN when there are no points, when a run did not record the axis, or when the horizon is 0.
     */
    public static double commonHorizon(List<EvalPoint> points, Axis axis) {
        checkPoints(points);
        if (axis == null) throw new IllegalArgumentException("axis must not be null");
        double horizon = Double.POSITIVE_INFINITY;
        for (Map<Long, List<EvalPoint>> seeds : bySeed(points).values()) {
            for (List<EvalPoint> run : seeds.values()) {
                double end = axis.of(last(run));
                if (Double.isNaN(end)) return Double.NaN;
                horizon = Math.min(horizon, end);
            }
        }
        return horizon > 0 && Double.isFinite(horizon) ? horizon : Double.NaN;
    }

    /**
     * A markdown section: a row per algorithm, a column per point, each cell the mean greedy accuracy ± the standard
     * deviation over seeds ({@code -} where no seed had evaluated yet). Points must come from one axis.
     */
    public static String axisMarkdown(List<AxisPoint> axisPoints) {
        return axisMarkdown(axisPoints, true);
    }

    /**
     * As {@link #axisMarkdown(List)}; {@code tokenBudget} false titles a token axis as a common horizon (the runs had
     * no shared token budget) rather than as the budget's points.
     */
    private static String axisMarkdown(List<AxisPoint> axisPoints, boolean tokenBudget) {
        if (axisPoints == null) throw new IllegalArgumentException("axisPoints must not be null");
        if (axisPoints.isEmpty()) throw new IllegalArgumentException("axisPoints must not be empty");
        Axis axis = axisPoints.get(0).axis();
        List<Double> fractions = new ArrayList<>();
        List<Double> positions = new ArrayList<>();
        Map<String, List<AxisPoint>> rows = new LinkedHashMap<>();
        for (AxisPoint b : axisPoints) {
            if (b.axis() != axis) throw new IllegalArgumentException("axisPoints must all be on the " + axis + " axis");
            if (!fractions.contains(b.fraction())) {
                fractions.add(b.fraction());
                positions.add(b.at());
            }
            rows.computeIfAbsent(b.algorithm(), a -> new ArrayList<>()).add(b);
        }
        StringBuilder md = new StringBuilder();
        if (axis == Axis.TOKENS && tokenBudget) {
            md.append("## Greedy accuracy at each budget point\n\n")
                    .append("Each seed's last evaluation within the budget point's generated tokens, mean ± std over"
                            + " seeds.\n\n");
        } else {
            md.append("## Greedy accuracy at equal ")
                    .append(axis.description())
                    .append("\n\nFractions of the shortest run's ")
                    .append(axis.description())
                    .append(
                            " (every run reached it): each seed's last evaluation within it, mean ± std over seeds.\n\n");
        }
        md.append("| algorithm |");
        for (int i = 0; i < fractions.size(); i++) {
            md.append(' ')
                    .append(Math.round(100 * fractions.get(i)))
                    .append("% (")
                    .append(axis.format(positions.get(i)))
                    .append(") |");
        }
        md.append("\n| --- |");
        md.append(" ---: |".repeat(fractions.size())).append('\n');
        for (Map.Entry<String, List<AxisPoint>> row : rows.entrySet()) {
            md.append("| ").append(row.getKey()).append(" |");
            for (double f : fractions) {
                AxisPoint b = null;
                for (AxisPoint x : row.getValue()) if (x.fraction() == f) b = x;
                md.append(' ')
                        .append(
                                b == null || b.seeds() == 0
                                        ? Formats.MISSING
                                        : Formats.percentMeanStd(b.accuracy(), b.std()))
                        .append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    /**
     * The report's sections on every axis at quarters of its horizon: the token budget (without one, {@code
     * tokenBudget} 0, the runs' common horizon of generated tokens), then the common horizons of wall time and episodes
     * (an axis whose horizon is undefined, e.g. episodes unrecorded, is left out).
     */
    public static List<String> axisSections(List<EvalPoint> points, long tokenBudget) {
        checkPoints(points);
        List<String> out = new ArrayList<>();
        if (points.isEmpty()) return out;
        double[] quarters = {0.25, 0.5, 0.75, 1.0};
        if (tokenBudget > 0) {
            out.add(axisMarkdown(atAxis(points, Axis.TOKENS, tokenBudget, quarters)));
        } else {
            double horizon = commonHorizon(points, Axis.TOKENS);
            if (!Double.isNaN(horizon)) out.add(axisMarkdown(atAxis(points, Axis.TOKENS, horizon, quarters), false));
        }
        for (Axis axis : List.of(Axis.WALL_TIME, Axis.EPISODES)) {
            double horizon = commonHorizon(points, axis);
            if (!Double.isNaN(horizon)) out.add(axisMarkdown(atAxis(points, axis, horizon, quarters)));
        }
        return out;
    }

    /** Points grouped by algorithm, then seed, both in first-appearance order; each run keeps list order. */
    static Map<String, Map<Long, List<EvalPoint>>> bySeed(List<EvalPoint> points) {
        Map<String, Map<Long, List<EvalPoint>>> out = new LinkedHashMap<>();
        for (EvalPoint p : points) {
            out.computeIfAbsent(p.algorithm(), a -> new LinkedHashMap<>())
                    .computeIfAbsent(p.seed(), s -> new ArrayList<>())
                    .add(p);
        }
        return out;
    }

    /** The point with the highest iteration; the later one among equals. */
    static EvalPoint last(List<EvalPoint> run) {
        EvalPoint best = run.get(0);
        for (EvalPoint p : run) if (p.iteration() >= best.iteration()) best = p;
        return best;
    }

    static void checkPoints(List<EvalPoint> points) {
        if (points == null) throw new IllegalArgumentException("points must not be null");
        for (int i = 0; i < points.size(); i++) {
            if (points.get(i) == null) throw new IllegalArgumentException("points[" + i + "] must not be null");
        }
    }

    /** The mean of counts; NaN when any is {@link EvalPoint#UNRECORDED}. */
    static double recorded(List<Long> counts) {
        List<Double> v = new ArrayList<>();
        for (long c : counts) {
            if (c == EvalPoint.UNRECORDED) return Double.NaN;
            v.add((double) c);
        }
        return mean(v);
    }

    /** The mean; NaN for no values. */
    static double mean(List<Double> values) {
        if (values.isEmpty()) return Double.NaN;
        double sum = 0;
        for (double v : values) sum += v;
        return sum / values.size();
    }

    /** The sample standard deviation (n − 1); 0 for one value, NaN for none. */
    static double sampleStd(List<Double> values) {
        if (values.isEmpty()) return Double.NaN;
        if (values.size() == 1) return 0;
        double m = mean(values);
        double ss = 0;
        for (double v : values) ss += (v - m) * (v - m);
        return Math.sqrt(ss / (values.size() - 1));
    }

    private static void appendRow(StringBuilder out, String[] cells, int[] width) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            if (c > 0) line.append("  ");
            String pad = " ".repeat(width[c] - cells[c].length());
            line.append(c == 0 ? cells[c] + pad : pad + cells[c]);
        }
        out.append(line.toString().stripTrailing()).append('\n');
    }
}
