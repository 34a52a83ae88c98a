package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.report.EvalPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DecisionsCurveTest {
    /** A run from a 0.30 base to {@code last}. */
    private static List<EvalPoint> run(String algorithm, long seed, double last) {
        List<EvalPoint> out = new ArrayList<>();
        out.add(new EvalPoint(algorithm, seed, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
        out.add(new EvalPoint(algorithm, seed, 10, 1000, 1, last, Double.NaN, 0, 100, 10));
        return out;
    }

    /**
     * At 4 decisions GRPO ends at .40 and .44 (mean 42, s² = 8 points²), SPO-chain at .46 and .48 (47, s² = 2): gap
     * +5, error √(8/2 + 2/2) = √5. At 8 decisions, one seed each: gap −1, error 0.
     */
    @Test
    void gapsAreDifferencesOfMeansWithTheirStandardErrors() throws Exception {
        List<EvalPoint> four = new ArrayList<>();
        four.addAll(run("grpo", 0, 0.40));
        four.addAll(run("grpo", 1, 0.44));
        four.addAll(run("spo-chain", 0, 0.46));
        four.addAll(run("spo-chain", 1, 0.48));
        List<EvalPoint> eight = new ArrayList<>();
        eight.addAll(run("grpo", 0, 0.20));
        eight.addAll(run("spo-chain", 0, 0.19));
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
                .contains("| 4 | 30.0% | 42.0% | spo-chain | 2 | +5.0 | 2.2 | +5.0 ± 2.2 | +5.0 ± 2.2 |"));
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
}
