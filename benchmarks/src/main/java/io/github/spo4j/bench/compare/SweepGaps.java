package io.github.spo4j.bench.compare;

import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.Summary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A settings sweep judged against GRPO: each configuration ran as its own {@code spo4j compare} from a base (the
 * base's directory copied in, {@code --algorithms ALGO --set ...}), and each is set beside the GRPO runs of that base
 * on the three axes of {@link DecisionsCurve#gaps} (the horizons of wall time and episodes are those of the pair, GRPO
 * and the configuration, alone). Over several bases it ranks the configurations by the mean over the bases of the
 * worse of the gaps at equal wall time and at equal episodes, the two goal axes, and writes {@code sweep.md}.
 *
 * <pre>
 *   java -cp target/benchmarks.jar io.github.spo4j.bench.compare.SweepGaps OUT \
 *        s0/grpo=v0 s0/default:spo-chain=v0 s0/max-segments-1=v0-sw/c1 s2/grpo=v2 ...
 * </pre>
 *
 * Each argument is {@code BASE/NAME[:ALGORITHM]=COMPARE_DIR}; every base needs a {@code BASE/grpo} entry, whose
 * directory's GRPO runs are the reference. {@code ALGORITHM} picks one algorithm of a directory with several.
 */
public final class SweepGaps {
    private SweepGaps() {}

    static final String BASELINE = DecisionsCurve.BASELINE;

    /** One configuration's runs from one base. */
    record Entry(String base, String name, List<EvalPoint> points) {}

    /** One configuration from one base: its final accuracy and episodes, and its gap to that base's GRPO. */
    record Row(String base, String name, Summary.AlgorithmSummary result, DecisionsCurve.Gap gap) {}

    /** The mean over the bases of min(gap at equal wall time, gap at equal episodes), NaN where a base lacks one. */
    record Score(String name, int bases, double score) {}

    /**
     * Reads {@code BASE/NAME[:ALGORITHM]=COMPARE_DIR}: the named algorithm's runs of the directory, or its only
     * algorithm's, renamed to NAME (GRPO's keep their name).
     */
    static Entry entry(String label, List<EvalPoint> points) {
        int slash = label.indexOf('/');
        if (slash <= 0 || slash == label.length() - 1) {
            throw new IllegalArgumentException("expected BASE/NAME[:ALGORITHM], got " + label);
        }
        String base = label.substring(0, slash);
        String rest = label.substring(slash + 1);
        int colon = rest.indexOf(':');
        String name = colon < 0 ? rest : rest.substring(0, colon);
        String algorithm = colon < 0 ? null : rest.substring(colon + 1);
        if (name.isEmpty() || (algorithm != null && algorithm.isEmpty())) {
            throw new IllegalArgumentException("expected BASE/NAME[:ALGORITHM], got " + label);
        }
        Set<String> present = new LinkedHashSet<>();
        points.forEach(p -> present.add(p.algorithm()));
        if (algorithm == null) {
            if (name.equals(BASELINE)) algorithm = BASELINE;
            else if (present.size() == 1) algorithm = present.iterator().next();
            else {
                throw new IllegalArgumentException(
                        label + ": its compare holds " + present + "; name one as BASE/NAME:ALGORITHM");
            }
        }
        if (!present.contains(algorithm)) {
            throw new IllegalArgumentException(label + ": its compare has no " + algorithm + " runs, only " + present);
        }
        if (name.equals(BASELINE) && !algorithm.equals(BASELINE)) {
            throw new IllegalArgumentException(label + ": BASE/grpo names GRPO's reference runs, not " + algorithm);
        }
        List<EvalPoint> out = new ArrayList<>();
        for (EvalPoint p : points) {
            if (!p.algorithm().equals(algorithm)) continue;
            out.add(new EvalPoint(
                    name,
                    p.seed(),
                    p.iteration(),
                    p.generatedTokens(),
                    p.wallSeconds(),
                    p.greedyAccuracy(),
                    p.sampledAccuracy(),
                    p.trainReward(),
                    p.episodes(),
                    p.optimizerSteps()));
        }
        return new Entry(base, name, out);
    }

    /** Every configuration's row, base by base in the order the bases first appear, configurations in order. */
    static List<Row> rows(List<Entry> entries) {
        Map<String, List<EvalPoint>> grpo = new LinkedHashMap<>();
        Map<String, Map<String, List<EvalPoint>>> byBase = new LinkedHashMap<>();
        for (Entry e : entries) {
            if (e.name().equals(BASELINE)) {
                if (grpo.put(e.base(), e.points()) != null) {
                    throw new IllegalArgumentException(e.base() + "/" + BASELINE + " is given twice");
                }
                byBase.computeIfAbsent(e.base(), k -> new LinkedHashMap<>());
            } else if (byBase.computeIfAbsent(e.base(), k -> new LinkedHashMap<>())
                            .put(e.name(), e.points())
                    != null) {
                throw new IllegalArgumentException(e.base() + "/" + e.name() + " is given twice");
            }
        }
        List<Row> out = new ArrayList<>();
        for (var base : byBase.entrySet()) {
            List<EvalPoint> reference = grpo.get(base.getKey());
            if (reference == null) {
                throw new IllegalArgumentException("base " + base.getKey() + " has no " + base.getKey() + "/grpo");
            }
            out.add(new Row(
                    base.getKey(), BASELINE, Summary.finalResults(reference).get(0), null));
            for (var config : base.getValue().entrySet()) {
                List<EvalPoint> pair = new ArrayList<>(reference);
                pair.addAll(config.getValue());
                List<DecisionsCurve.Gap> gaps = DecisionsCurve.gaps(Map.of(0, pair));
                out.add(new Row(
                        base.getKey(),
                        config.getKey(),
                        Summary.finalResults(config.getValue()).get(0),
                        gaps.get(0)));
            }
        }
        return out;
    }

    /** Each configuration's score, in the order configurations first appear; the higher, the better on both axes. */
    static List<Score> scores(List<Row> rows) {
        Map<String, List<Double>> worse = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.gap() == null) continue;
            worse.computeIfAbsent(r.name(), k -> new ArrayList<>())
                    .add(Math.min(r.gap().gapAtWallTime(), r.gap().gapAtEpisodes()));
        }
        List<Score> out = new ArrayList<>();
        for (var e : worse.entrySet()) {
            double mean = e.getValue().stream().mapToDouble(Double::doubleValue).sum()
                    / e.getValue().size();
            out.add(new Score(e.getKey(), e.getValue().size(), mean));
        }
        return out;
    }

    static String markdown(List<Row> rows) {
        List<String> bases =
                new ArrayList<>(new LinkedHashSet<>(rows.stream().map(Row::base).toList()));
        Map<String, Map<String, Row>> byName = new LinkedHashMap<>();
        for (Row r : rows)
            byName.computeIfAbsent(r.name(), k -> new LinkedHashMap<>()).put(r.base(), r);
        Map<String, Score> scores = new LinkedHashMap<>();
        for (Score s : scores(rows)) scores.put(s.name(), s);

        StringBuilder md = new StringBuilder("| configuration |");
        for (String b : bases) {
            md.append(" ").append(b).append(": final | episodes | gap tokens / wall / episodes |");
        }
        md.append(" mean of min(wall, episodes) |\n|---|")
                .append("---|---|---|".repeat(bases.size()))
                .append("---|\n");
        for (var named : byName.entrySet()) {
            md.append("| ").append(named.getKey()).append(" |");
            for (String b : bases) {
                Row r = named.getValue().get(b);
                if (r == null) {
                    md.append(" - | - | - |");
                    continue;
                }
                Summary.AlgorithmSummary s = r.result();
                md.append(String.format(
                        " %.1f%% ± %.1f | %.2fk |",
                        100 * s.meanAccuracy(), 100 * s.stdAccuracy(), s.meanEpisodes() / 1000));
                DecisionsCurve.Gap g = r.gap();
                Row grpo = byName.get(BASELINE) == null
                        ? null
                        : byName.get(BASELINE).get(b);
                md.append(
                        g == null
                                ? " |"
                                : " "
                                        + (grpo != null && sameBudget(s, grpo.result())
                                                ? DecisionsCurve.plusMinus(g.gap(), g.error())
                                                : "n/a")
                                        + " / "
                                        + DecisionsCurve.plusMinus(g.gapAtWallTime(), g.errorAtWallTime()) + " / "
                                        + DecisionsCurve.plusMinus(g.gapAtEpisodes(), g.errorAtEpisodes()) + " |");
            }
            Score score = scores.get(named.getKey());
            md.append(score == null ? " |" : String.format(" %+.1f |", score.score()))
                    .append('\n');
        }
        return md.toString();
    }

    /**
     * Whether two runs' final points lie at about the same generated tokens (within 5%), so that their final gap is
     * the gap at equal tokens; a configuration run to GRPO's iterations with its rollouts uncharged is not.
     */
    static boolean sameBudget(Summary.AlgorithmSummary a, Summary.AlgorithmSummary b) {
        return Math.abs(a.meanTokens() - b.meanTokens()) <= 0.05 * Math.max(a.meanTokens(), b.meanTokens());
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            throw new IllegalArgumentException(
                    "usage: SweepGaps OUT BASE/grpo=COMPARE_DIR BASE/NAME[:ALGORITHM]=COMPARE_DIR ...");
        }
        Path out = Path.of(args[0]);
        List<Entry> entries = new ArrayList<>();
        for (var e : CompareDirs.read(
                        Arrays.asList(args).subList(1, args.length),
                        label -> label,
                        "BASE/NAME[:ALGORITHM]=COMPARE_DIR")
                .entrySet()) {
            entries.add(entry(e.getKey(), e.getValue()));
        }
        String md = markdown(rows(entries));
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve("sweep.md"), md.getBytes(StandardCharsets.UTF_8));
        System.out.print(md);
    }
}
