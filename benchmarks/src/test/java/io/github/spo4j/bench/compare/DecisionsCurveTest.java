package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.MetricsFiles;
import io.github.spo4j.train.CreditAudit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecisionsCurveTest {
    /** A run from a 0.30 base to {@code last}. */
    private static List<EvalPoint> run(String algorithm, long seed, double last) {
        List<EvalPoint> out = new ArrayList<>();
        out.add(new EvalPoint(algorithm, seed, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
        out.add(new EvalPoint(algorithm, seed, 10, 1000, 1, last, Double.NaN, 0, 100, 10));
        return out;
    }

    /** GRPO ends at .40 and .44, SPO-chain at .46 and .48: SPO-chain +5 points. */
    private static List<EvalPoint> plusFive() {
        List<EvalPoint> out = new ArrayList<>();
        out.addAll(run("grpo", 0, 0.40));
        out.addAll(run("grpo", 1, 0.44));
        out.addAll(run("spo-chain", 0, 0.46));
        out.addAll(run("spo-chain", 1, 0.48));
        return out;
    }

    /** One seed each, GRPO .20 and SPO-chain .19: SPO-chain −1 point. */
    private static List<EvalPoint> minusOne() {
        List<EvalPoint> out = new ArrayList<>(run("grpo", 0, 0.20));
        out.addAll(run("spo-chain", 0, 0.19));
        return out;
    }

    /**
     * At 4 decisions GRPO ends at .40 and .44 (mean 42, s² = 8 points²), SPO-chain at .46 and .48 (47, s² = 2): gap
     * +5, error √(8/2 + 2/2) = √5. At 8 decisions, one seed each: gap −1, error 0.
     */
    @Test
    void gapsAreDifferencesOfMeansWithTheirStandardErrors() throws Exception {
        List<EvalPoint> four = plusFive();
        List<EvalPoint> eight = minusOne();
        List<DecisionsCurve.Gap> gaps = DecisionsCurve.gaps(Map.of(8, eight, 4, four));
        assertEquals(2, gaps.size());
        assertEquals(4, gaps.get(0).decisions(), "lengths ascending");
        assertEquals(5.0, gaps.get(0).gap(), 1e-9);
        assertEquals(Math.sqrt(5), gaps.get(0).error(), 1e-9);
        assertEquals(30.0, gaps.get(0).base(), 1e-9);
        assertEquals(42.0, gaps.get(0).baseline(), 1e-9);
        assertEquals(-1.0, gaps.get(1).gap(), 1e-9);
        assertEquals(0.0, gaps.get(1).error(), 1e-9);
        // every run ends at 1 s and 100 episodes: the common horizons are the ends, so the gaps there are the same
        assertEquals(5.0, gaps.get(0).gapAtWallTime(), 1e-9);
        assertEquals(Math.sqrt(5), gaps.get(0).errorAtEpisodes(), 1e-9);
        assertTrue(DecisionsCurve.markdown(gaps)
                .contains("| 4 | 1 | 30.0% | 42.0% | spo-chain | 2 | +5.0 | 2.2 | +5.0 ± 2.2 | +5.0 ± 2.2 |"));
        assertTrue(DecisionsCurve.png(gaps).length > 1000);

        assertThrows(IllegalArgumentException.class, () -> DecisionsCurve.gaps(Map.of(6, run("spo-tree", 0, 0.5))));
    }

    /**
     * SPO-chain's run takes twice GRPO's wall time and half its episodes for the same tokens: at equal wall time (1 s,
     * GRPO's end) it is read at its 1 s evaluation, at equal episodes (50, its own end) GRPO is read at its 50.
     */
    @Test
    void gapsAtEqualWallTimeAndEpisodesReadEachRunAtTheCommonHorizon() {
        List<EvalPoint> points = new ArrayList<>(run("grpo", 0, 0.40));
        points.add(1, new EvalPoint("grpo", 0, 5, 500, 0.5, 0.36, Double.NaN, 0, 50, 5));
        points.add(new EvalPoint("spo-chain", 0, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
        points.add(new EvalPoint("spo-chain", 0, 5, 500, 1, 0.38, Double.NaN, 0, 25, 5));
        points.add(new EvalPoint("spo-chain", 0, 10, 1000, 2, 0.50, Double.NaN, 0, 50, 10));
        DecisionsCurve.Gap g = DecisionsCurve.gaps(Map.of(8, points)).get(0);
        assertEquals(10.0, g.gap(), 1e-9);
        assertEquals(-2.0, g.gapAtWallTime(), 1e-9); // 0.38 against 0.40
        assertEquals(14.0, g.gapAtEpisodes(), 1e-9); // 0.50 against 0.36
        assertEquals(0.0, g.errorAtWallTime(), 1e-9);

        List<EvalPoint> unrecorded = new ArrayList<>();
        for (String a : List.of("grpo", "spo-tree")) {
            unrecorded.add(new EvalPoint(a, 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN));
            unrecorded.add(new EvalPoint(a, 0, 10, 1000, 1, 0.40, Double.NaN, 0.1));
        }
        DecisionsCurve.Gap old = DecisionsCurve.gaps(Map.of(8, unrecorded)).get(0);
        assertTrue(Double.isNaN(old.gapAtEpisodes()), "episodes unrecorded");
        assertTrue(DecisionsCurve.markdown(List.of(old)).endsWith("| +0.0 ± 0.0 | - |\n"));
    }

    /**
     * Two bases at one length, SPO-chain +5 from one and −1 from the other: the point is their mean, +2, with the
     * standard error across the two bases, sd(5, −1) / √2 = 3; a length with one base keeps its seeds' error. The
     * credit table averages the bases' audits, and {@code main} reads both from the compares' directories.
     */
    @Test
    void severalBasesAtOneLengthArePooledWithTheErrorAcrossBases(@TempDir Path dir) throws Exception {
        List<EvalPoint> first = plusFive();
        List<EvalPoint> second = minusOne();
        List<DecisionsCurve.Gap> gaps =
                DecisionsCurve.gapsOverBases(Map.of(6, List.of(first, second), 4, List.of(second)));
        assertEquals(4, gaps.get(0).decisions());
        assertEquals(1, gaps.get(0).bases());
        DecisionsCurve.Gap pooled = gaps.get(1);
        assertEquals(2, pooled.bases());
        assertEquals(3, pooled.seeds(), "its runs from both bases");
        assertEquals(2.0, pooled.gap(), 1e-9);
        assertEquals(3.0, pooled.error(), 1e-9);
        assertEquals(2.0, pooled.gapAtWallTime(), 1e-9);
        assertEquals(3.0, pooled.errorAtEpisodes(), 1e-9);
        assertEquals(31.0, pooled.baseline(), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> DecisionsCurve.gapsOverBases(Map.of(6, List.of())));

        CreditAudit.Result a = audit(0.02, 0.9, 0.8);
        CreditAudit.Result b = audit(0.04, 0.7, 1.0);
        List<DecisionsCurve.Credit> credits = DecisionsCurve.credits(Map.of(6, List.of(a, b)));
        assertEquals(1, credits.size());
        assertEquals(0.03, credits.get(0).belowRho(), 1e-12);
        assertEquals(0.03 * 79, credits.get(0).belowRhoPerResponse(), 1e-12);
        assertEquals(0.8, credits.get(0).grpoRightSigns(), 1e-12);
        assertEquals(0.9, credits.get(0).chainRightSigns(), 1e-12, "the first spo-chain row: the compared one");
        String md = DecisionsCurve.markdown(gaps, credits);
        assertTrue(md.contains("| 6 | 2 | 30.0% | 31.0% | spo-chain | 3 | +2.0 | 3.0 | +2.0 ± 3.0 | +2.0 ± 3.0 |"), md);
        assertTrue(md.contains("| 6 | 2 | 3.0% | 2.4 | 0.500 | 80.0% | 0.600 | 90.0% | 150 |"), md);

        Gson gson = new GsonBuilder().serializeSpecialFloatingPointValues().create();
        for (String name : List.of("s0", "s1")) {
            Path compare = Files.createDirectories(dir.resolve(name));
            MetricsFiles.writeJsonl(compare.resolve("metrics.jsonl"), name.equals("s0") ? first : second);
            Files.writeString(compare.resolve("credit.json"), gson.toJson(name.equals("s0") ? a : b));
        }
        Path out = dir.resolve("curve");
        DecisionsCurve.main(new String[] {out.toString(), "6=" + dir.resolve("s0") + "," + dir.resolve("s1")});
        assertEquals(
                DecisionsCurve.markdown(DecisionsCurve.gapsOverBases(Map.of(6, List.of(first, second))), credits),
                Files.readString(out.resolve("gap_vs_decisions.md")));
    }

    /** An audit whose GRPO row has {@code grpoSigns} right signs and whose compared SPO-chain row {@code chainSigns}. */
    private static CreditAudit.Result audit(double belowRho, double grpoSigns, double chainSigns) {
        return new CreditAudit.Result(
                256,
                0.5,
                79,
                100,
                belowRho,
                50,
                Double.NaN,
                1000,
                Double.NaN,
                Double.NaN,
                List.of(
                        new CreditAudit.Row(
                                "grpo",
                                0.5,
                                grpoSigns,
                                0,
                                0,
                                0,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN),
                        new CreditAudit.Row(
                                "spo-chain K=2 N=4 M=4",
                                0.6,
                                chainSigns,
                                0.05,
                                150,
                                0,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN),
                        new CreditAudit.Row(
                                "spo-chain K=1 N=8",
                                0.7,
                                0.5,
                                0.1,
                                400,
                                0,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN,
                                Double.NaN)));
    }
}
