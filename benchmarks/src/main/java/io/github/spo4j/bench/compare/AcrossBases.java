package io.github.spo4j.bench.compare;

import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.EvalPoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The compare's result with the SFT base as the unit: one {@code spo4j compare} directory per base (another {@code
 * --sft-seed}, host or recipe), each algorithm's gap to GRPO from every base on the three axes (generated tokens,
 * wall time, training episodes; {@link DecisionsCurve#gaps}), then the mean gap over the bases with its standard
 * error across bases,
 *
 * <pre>
 *   mean = (1/B) Σ_b gap_b,   error = sd_b(gap_b) / √B
 * </pre>
 *
 * which is what a user who makes their own base should expect; the within-base error (over RL seeds) says only how
 * well one base was measured. Writes {@code across_bases.md} into the output directory.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.spo4j.bench.compare.AcrossBases OUT seed0=runs/s0 seed1=runs/s1
 * </pre>
 */
public final class AcrossBases {
    private AcrossBases() {}

    /** One algorithm's gap to GRPO from one base, on each axis. */
    record BaseGap(String base, DecisionsCurve.Gap gap) {}

    /** One algorithm's mean gap over the bases on one axis, with its standard error across them. */
    record Pooled(String algorithm, String axis, int bases, double mean, double error, int positive) {}

    static final Map<String, ToDoubleFunction<DecisionsCurve.Gap>> AXES = axes();

    private static Map<String, ToDoubleFunction<DecisionsCurve.Gap>> axes() {
        Map<String, ToDoubleFunction<DecisionsCurve.Gap>> axes = new LinkedHashMap<>();
        axes.put("equal tokens", DecisionsCurve.Gap::gap);
        axes.put("equal wall time", DecisionsCurve.Gap::gapAtWallTime);
        axes.put("equal episodes", DecisionsCurve.Gap::gapAtEpisodes);
        return axes;
    }

    /** Every algorithm's gap to GRPO from every base, in the bases' order. */
    static List<BaseGap> gaps(Map<String, List<EvalPoint>> byBase) {
        if (byBase.isEmpty()) throw new IllegalArgumentException("byBase must name at least one compare");
        List<BaseGap> out = new ArrayList<>();
        for (var e : byBase.entrySet()) {
            for (DecisionsCurve.Gap g : DecisionsCurve.gaps(Map.of(0, e.getValue()))) {
                out.add(new BaseGap(e.getKey(), g));
            }
        }
        return out;
    }

    /** The mean gap over the bases per algorithm and axis; bases without a value on an axis are left out there. */
    static List<Pooled> pooled(List<BaseGap> gaps) {
        Map<String, List<DecisionsCurve.Gap>> byAlgorithm = new LinkedHashMap<>();
        for (BaseGap g : gaps)
            byAlgorithm
                    .computeIfAbsent(g.gap().algorithm(), k -> new ArrayList<>())
                    .add(g.gap());
        List<Pooled> out = new ArrayList<>();
        for (var e : byAlgorithm.entrySet()) {
            for (var axis : AXES.entrySet()) {
                double[] values = e.getValue().stream()
                        .mapToDouble(axis.getValue())
                        .filter(v -> !Double.isNaN(v))
                        .toArray();
                int n = values.length;
                double mean = n == 0 ? Double.NaN : Arrays.stream(values).sum() / n;
                double squares = 0;
                for (double v : values) squares += (v - mean) * (v - mean);
                double error = n > 1 ? Math.sqrt(squares / (n - 1) / n) : Double.NaN;
                int positive = (int) Arrays.stream(values).filter(v -> v > 0).count();
                out.add(new Pooled(e.getKey(), axis.getKey(), n, mean, error, positive));
            }
        }
        return out;
    }

    static String markdown(List<BaseGap> gaps) {
        StringBuilder md = new StringBuilder("| base | base accuracy | GRPO final | algorithm | seeds | gap to GRPO at"
                + " equal tokens | at equal wall time | at equal episodes |\n"
                + "|---|---|---|---|---|---|---|---|\n");
        for (BaseGap b : gaps) {
            DecisionsCurve.Gap g = b.gap();
            md.append(String.format(
                    "| %s | %.1f%% | %.1f%% | %s | %d | %s | %s | %s |%n",
                    b.base(),
                    g.base(),
                    g.baseline(),
                    g.algorithm(),
                    g.seeds(),
                    DecisionsCurve.plusMinus(g.gap(), g.error()),
                    DecisionsCurve.plusMinus(g.gapAtWallTime(), g.errorAtWallTime()),
                    DecisionsCurve.plusMinus(g.gapAtEpisodes(), g.errorAtEpisodes())));
        }
        md.append("\nMean gap to GRPO over the bases ± its standard error across bases (bases with the gap above"
                        + " 0 of those with a value):\n\n")
                .append("| algorithm |");
        AXES.keySet().forEach(axis -> md.append(' ').append(axis).append(" |"));
        md.append("\n|---|").append("---|".repeat(AXES.size())).append('\n');
        List<Pooled> pooled = pooled(gaps);
        for (int i = 0; i < pooled.size(); i += AXES.size()) {
            md.append("| ").append(pooled.get(i).algorithm()).append(" |");
            for (Pooled p : pooled.subList(i, i + AXES.size())) {
                md.append(' ')
                        .append(DecisionsCurve.plusMinus(p.mean(), p.error()))
                        .append(String.format(" (%d of %d)", p.positive(), p.bases()))
                        .append(" |");
            }
            md.append('\n');
        }
        return md.toString();
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: AcrossBases OUT LABEL=COMPARE_DIR [LABEL=COMPARE_DIR ...]");
        }
        Path out = Path.of(args[0]);
        Map<String, List<EvalPoint>> byBase =
                CompareDirs.read(Arrays.asList(args).subList(1, args.length), label -> label, "LABEL=COMPARE_DIR");
        String md = markdown(gaps(byBase));
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve("across_bases.md"), md.getBytes(StandardCharsets.UTF_8));
        System.out.print(md);
    }
}
