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
     * Greedy accuracy at fractions of the token budget: for each algorithm and fraction f, the mean and sample
     * standard deviation over its seeds of each seed's last evaluation within f · budget generated tokens (the base,
     * at 0 tokens, is within every budget).
     *
     * @param seeds       seeds with an evaluation within the budget point
     * @param accuracy    their mean greedy accuracy
     * @param std         its sample standard deviation; 0 for one seed
     */
    public record BudgetPoint(String algorithm, double fraction, long tokens, int seeds, double accuracy, double std) {}

    /** {@link BudgetPoint}s of every algorithm (first-appearance order) at each of {@code fractions} of {@code budget}. */
    public static List<BudgetPoint> atBudget(List<EvalPoint> points, long budget, double... fractions) {
        checkPoints(points);
        if (budget < 1) throw new IllegalArgumentException("budget must be >= 1, got " + budget);
        if (fractions == null || fractions.length == 0) throw new IllegalArgumentException("fractions must be given");
        for (double f : fractions) {
            if (!(f > 0 && f <= 1)) throw new IllegalArgumentException("fractions must be in (0, 1], got " + f);
        }
        List<BudgetPoint> out = new ArrayList<>();
        for (Map.Entry<String, Map<Long, List<EvalPoint>>> algo : bySeed(points).entrySet()) {
            for (double f : fractions) {
                long tokens = Math.round(f * budget);
                List<Double> acc = new ArrayList<>();
                for (List<EvalPoint> run : algo.getValue().values()) {
                    EvalPoint at = null;
                    for (EvalPoint p : run) {
                        if (p.generatedTokens() <= tokens && (at == null || p.iteration() >= at.iteration())) at = p;
                    }
                    if (at != null) acc.add(at.greedyAccuracy());
                }
                out.add(new BudgetPoint(algo.getKey(), f, tokens, acc.size(), mean(acc), sampleStd(acc)));
            }
        }
        return out;
    }

    /**
     * A markdown section: a row per algorithm, a column per budget point, each cell the mean greedy accuracy ± the
     * standard deviation over seeds ({@code -} where no seed had evaluated yet).
     */
    public static String budgetMarkdown(List<BudgetPoint> budgetPoints) {
        if (budgetPoints == null) throw new IllegalArgumentException("budgetPoints must not be null");
        List<Double> fractions = new ArrayList<>();
        List<Long> tokens = new ArrayList<>();
        Map<String, List<BudgetPoint>> rows = new LinkedHashMap<>();
        for (BudgetPoint b : budgetPoints) {
            if (!fractions.contains(b.fraction())) {
                fractions.add(b.fraction());
                tokens.add(b.tokens());
            }
            rows.computeIfAbsent(b.algorithm(), a -> new ArrayList<>()).add(b);
        }
        StringBuilder md = new StringBuilder("## Greedy accuracy at each budget point\n\n");
        md.append("Each seed's last evaluation within the budget point's generated tokens, mean ± std over seeds.\n\n");
        md.append("| algorithm |");
        for (int i = 0; i < fractions.size(); i++) {
            md.append(' ')
                    .append(Math.round(100 * fractions.get(i)))
                    .append("% (")
                    .append(Formats.count(tokens.get(i)))
                    .append(") |");
        }
        md.append("\n| --- |");
        md.append(" ---: |".repeat(fractions.size())).append('\n');
        for (Map.Entry<String, List<BudgetPoint>> row : rows.entrySet()) {
            md.append("| ").append(row.getKey()).append(" |");
            for (double f : fractions) {
                BudgetPoint b = null;
                for (BudgetPoint x : row.getValue()) if (x.fraction() == f) b = x;
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
