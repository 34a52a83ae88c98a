package io.github.spo4j.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.report.EvalPoint;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SweepGapsTest {
    /** GRPO from a 0.30 base: two seeds ending at 1,000 tokens, 2 s and 100 episodes with 0.40 and 0.42. */
    private static List<EvalPoint> grpo(double lift) {
        List<EvalPoint> out = new ArrayList<>();
        for (int seed = 0; seed < 2; seed++) {
            out.add(new EvalPoint("grpo", seed, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
            out.add(new EvalPoint("grpo", seed, 10, 1000, 2, 0.40 + lift + 0.02 * seed, Double.NaN, 0, 100, 10));
        }
        return out;
    }

    /**
     * A slower configuration under {@code algorithm}: 0.44 + {@code lift} after 1 s and 50 episodes, then 0.46 and 0.48
     * at 1,000 tokens, 3 s and 80 episodes.
     */
    private static List<EvalPoint> config(String algorithm, double lift) {
        return config(algorithm, lift, 1);
    }

    /** {@link #config(String, double)} with {@code tokenScale} times the generated tokens at every point. */
    private static List<EvalPoint> config(String algorithm, double lift, int tokenScale) {
        List<EvalPoint> out = new ArrayList<>();
        for (int seed = 0; seed < 2; seed++) {
            out.add(new EvalPoint(algorithm, seed, 0, 0, 0, 0.30, Double.NaN, 0, 0, 0));
            out.add(new EvalPoint(algorithm, seed, 5, 500L * tokenScale, 1, 0.44 + lift, Double.NaN, 0, 50, 5));
            out.add(new EvalPoint(
                    algorithm, seed, 10, 1000L * tokenScale, 3, 0.46 + 0.02 * seed, Double.NaN, 0, 80, 10));
        }
        return out;
    }

    private static List<EvalPoint> both(List<EvalPoint> a, List<EvalPoint> b) {
        List<EvalPoint> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /**
     * Each configuration meets its base's GRPO at the pair's own horizons: wall time 2 s (GRPO's end; the config's
     * 1-s point, 0.44) and 80 episodes (the config's end; GRPO's base point, 0.30): +3 at equal wall time, +17 at
     * equal episodes, +6 at the end of the tokens. From a second base whose GRPO is 4 points higher the wall-time gap
     * is −1 (the worse axis there), so the score is (3 + (−1)) / 2 = 1.
     */
    @Test
    void eachConfigurationIsJudgedAtItsOwnHorizonsWithGrpoAndScoredOnTheWorseAxis() {
        List<SweepGaps.Entry> entries = List.of(
                SweepGaps.entry("s0/grpo", both(grpo(0), config("spo-chain", 0))),
                SweepGaps.entry("s0/default:spo-chain", both(grpo(0), config("spo-chain", 0))),
                SweepGaps.entry("s0/capped", config("spo-chain", 0)),
                SweepGaps.entry("s2/grpo", grpo(0.04)),
                SweepGaps.entry("s2/capped", config("spo-chain", 0)));
        List<SweepGaps.Row> rows = SweepGaps.rows(entries);
        assertEquals(
                List.of("s0/grpo", "s0/default", "s0/capped", "s2/grpo", "s2/capped"),
                rows.stream().map(r -> r.base() + "/" + r.name()).toList());
        DecisionsCurve.Gap s0 = rows.get(2).gap();
        assertEquals("capped", s0.algorithm());
        assertEquals(6.0, s0.gap(), 1e-9);
        assertEquals(3.0, s0.gapAtWallTime(), 1e-9);
        assertEquals(17.0, s0.gapAtEpisodes(), 1e-9);
        assertEquals(-1.0, rows.get(4).gap().gapAtWallTime(), 1e-9);
        assertEquals(80.0, rows.get(2).result().meanEpisodes(), 1e-9);

        List<SweepGaps.Score> scores = SweepGaps.scores(rows);
        assertEquals(
                List.of("default", "capped"),
                scores.stream().map(SweepGaps.Score::name).toList());
        assertEquals(2, scores.get(1).bases());
        assertEquals(1.0, scores.get(1).score(), 1e-9);

        String md = SweepGaps.markdown(rows);
        assertTrue(md.contains("| grpo | 41.0% ± 1.4 | 0.10k | | 45.0% ± 1.4 | 0.10k | | |"), md);
        assertTrue(md.contains("| capped | 47.0% ± 1.4 | 0.08k | +6.0 ± 1.4 / +3.0 ± 1.0 / +17.0 ± 1.0 |"), md);
        assertTrue(
                md.contains("| default | 47.0% ± 1.4 | 0.08k | +6.0 ± 1.4 / +3.0 ± 1.0 / +17.0 ± 1.0 | - | - | - |"
                        + " +3.0 |"),
                md);
    }

    /**
     * A configuration whose runs end at another token count than GRPO's (run to GRPO's iterations with its rollouts
     * uncharged) has no gap at equal tokens: its final gap is printed as n/a, the wall-time and episode gaps as usual.
     */
    @Test
    void aFinalGapAtAnotherTokenCountIsNotCalledAGapAtEqualTokens() {
        List<EvalPoint> costly = config("spo-chain", 0, 3);
        List<SweepGaps.Row> rows =
                SweepGaps.rows(List.of(SweepGaps.entry("s0/grpo", grpo(0)), SweepGaps.entry("s0/costly", costly)));
        String md = SweepGaps.markdown(rows);
        assertTrue(md.contains("| costly | 47.0% ± 1.4 | 0.08k | n/a / +3.0 ± 1.0 / +17.0 ± 1.0 |"), md);
        assertEquals(6.0, rows.get(1).gap().gap(), 1e-9, "the row keeps the final gap itself");
    }

    @Test
    void aLabelMustNameItsBaseAndAnAlgorithmItsCompareHolds() {
        List<EvalPoint> two = both(grpo(0), config("spo-chain", 0));
        assertEquals("grpo", SweepGaps.entry("s0/grpo", two).points().get(0).algorithm());
        assertEquals("x", SweepGaps.entry("s0/x:spo-chain", two).points().get(0).algorithm());
        assertEquals("lr", SweepGaps.entry("s0/lr:grpo", two).points().get(0).algorithm(), "GRPO as a configuration");
        IllegalArgumentException ambiguous =
                assertThrows(IllegalArgumentException.class, () -> SweepGaps.entry("s0/x", two));
        assertTrue(ambiguous.getMessage().contains("BASE/NAME:ALGORITHM"), ambiguous.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SweepGaps.entry("s0/x:spo-tree", two));
        assertThrows(IllegalArgumentException.class, () -> SweepGaps.entry("s0/grpo:spo-chain", two));
        for (String bad : List.of("x", "/x", "s0/", "s0/:grpo", "s0/x:")) {
            assertThrows(IllegalArgumentException.class, () -> SweepGaps.entry(bad, two), bad);
        }
    }

    @Test
    void aBaseWithoutGrpoOrAConfigurationGivenTwiceIsRefused() {
        List<EvalPoint> chain = config("spo-chain", 0);
        IllegalArgumentException noGrpo = assertThrows(
                IllegalArgumentException.class, () -> SweepGaps.rows(List.of(SweepGaps.entry("s0/x", chain))));
        assertTrue(noGrpo.getMessage().contains("s0/grpo"), noGrpo.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepGaps.rows(List.of(
                        SweepGaps.entry("s0/grpo", grpo(0)),
                        SweepGaps.entry("s0/x", chain),
                        SweepGaps.entry("s0/x", chain))));
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepGaps.rows(
                        List.of(SweepGaps.entry("s0/grpo", grpo(0)), SweepGaps.entry("s0/grpo", grpo(0)))));
    }
}
