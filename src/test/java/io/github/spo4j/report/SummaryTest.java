package io.github.spo4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SummaryTest {
    private static final double EPS = 1e-12;

    @Test
    void threeSeedsMeanStdAndBase() {
        List<Summary.AlgorithmSummary> s = Summary.finalResults(ReportTestData.twoAlgorithmsThreeSeeds());
        assertEquals(
                List.of("grpo", "spo-tree"),
                s.stream().map(Summary.AlgorithmSummary::algorithm).toList());

        Summary.AlgorithmSummary grpo = s.get(0);
        assertEquals(3, grpo.seeds());
        // final accuracies 0.45, 0.46, 0.47
        assertEquals(0.46, grpo.meanAccuracy(), EPS);
        assertEquals(0.01, grpo.stdAccuracy(), EPS);
        assertTrue(Double.isNaN(grpo.meanSampledAccuracy()));
        assertEquals(30_007, grpo.meanTokens(), EPS);
        assertEquals(61, grpo.meanWallSeconds(), EPS);
        assertEquals(0.31, grpo.baseAccuracy(), EPS);

        Summary.AlgorithmSummary tree = s.get(1);
        assertEquals(3, tree.seeds());
        // final accuracies 0.60, 0.61, 0.62
        assertEquals(0.61, tree.meanAccuracy(), EPS);
        assertEquals(0.01, tree.stdAccuracy(), EPS);
        assertEquals(0.6, tree.meanSampledAccuracy(), EPS);
        assertEquals(60_007, tree.meanTokens(), EPS);
        assertEquals(0.31, tree.baseAccuracy(), EPS);
    }

    @Test
    void unequalAccuraciesGiveTheSampleStd() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 1, 3, 10, 1, 0.2, Double.NaN, 0),
                new EvalPoint("grpo", 2, 3, 20, 2, 0.4, 0.5, 0),
                new EvalPoint("grpo", 3, 3, 30, 3, 0.9, Double.NaN, 0));
        Summary.AlgorithmSummary s = Summary.finalResults(points).get(0);
        assertEquals(0.5, s.meanAccuracy(), EPS);
        assertEquals(Math.sqrt((0.09 + 0.01 + 0.16) / 2), s.stdAccuracy(), EPS);
        assertEquals(0.5, s.meanSampledAccuracy(), EPS);
        assertTrue(Double.isNaN(s.baseAccuracy()));
    }

    @Test
    void oneSeedHasZeroStdAndTakesTheHighestIterationWhateverTheOrder() {
        List<EvalPoint> points = List.of(
                new EvalPoint("spo-chain", 5, 20, 2000, 40, 0.7, 0.6, 0.5),
                new EvalPoint("spo-chain", 5, 0, 0, 0, 0.3, Double.NaN, Double.NaN),
                new EvalPoint("spo-chain", 5, 10, 1000, 20, 0.5, Double.NaN, 0.4));
        List<Summary.AlgorithmSummary> s = Summary.finalResults(points);
        assertEquals(
                List.of(new Summary.AlgorithmSummary(
                        "spo-chain", 1, 0.7, 0, 0.6, 2000, 40, Double.NaN, Double.NaN, 0.3)),
                s);
        assertEquals(List.of(), Summary.finalResults(List.of()));
    }

    @Test
    void episodesAndStepsAreMeanedWhereEverySeedRecordedThem() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 0, 10, 1000, 20, 0.5, Double.NaN, 0.4, 1280, 20),
                new EvalPoint("grpo", 1, 10, 1000, 20, 0.5, Double.NaN, 0.4, 1000, 16),
                new EvalPoint("rloo", 0, 10, 1000, 20, 0.5, Double.NaN, 0.4, 1280, 20),
                new EvalPoint("rloo", 1, 10, 1000, 20, 0.5, Double.NaN, 0.4));
        List<Summary.AlgorithmSummary> s = Summary.finalResults(points);
        assertEquals(1140, s.get(0).meanEpisodes());
        assertEquals(18, s.get(0).meanOptimizerSteps());
        assertTrue(Double.isNaN(s.get(1).meanEpisodes()), "a seed without counts: no mean");
    }

    @Test
    void accuracyAtBudgetPointsTakesEachSeedsLastEvaluationWithinThem() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN),
                new EvalPoint("grpo", 0, 10, 240, 5, 0.40, Double.NaN, 0.1),
                new EvalPoint("grpo", 0, 20, 520, 9, 0.50, Double.NaN, 0.1),
                new EvalPoint("grpo", 0, 30, 1000, 14, 0.60, Double.NaN, 0.1),
                new EvalPoint("grpo", 1, 0, 0, 0, 0.30, Double.NaN, Double.NaN),
                new EvalPoint("grpo", 1, 10, 260, 5, 0.44, Double.NaN, 0.1),
                new EvalPoint("grpo", 1, 20, 1000, 9, 0.70, Double.NaN, 0.1),
                new EvalPoint("tree", 0, 10, 600, 5, 0.45, Double.NaN, 0.1));
        List<Summary.AxisPoint> b = Summary.atAxis(points, Summary.Axis.TOKENS, 1000, 0.25, 0.5, 1.0);
        assertEquals(6, b.size());
        assertEquals(
                new Summary.AxisPoint(
                        "grpo", Summary.Axis.TOKENS, 0.25, 250, 2, 0.35, Summary.sampleStd(List.of(0.4, 0.3))),
                b.get(0));
        assertEquals(0.42, b.get(1).accuracy(), 1e-12); // 0.40 (240 tokens) and 0.44 (260)
        assertEquals(0.65, b.get(2).accuracy(), 1e-12);
        assertEquals(0, b.get(3).seeds(), "the tree's first evaluation came after 250 tokens");
        assertEquals(new Summary.AxisPoint("tree", Summary.Axis.TOKENS, 1.0, 1000, 1, 0.45, 0), b.get(5));
        String md = Summary.axisMarkdown(b);
        assertTrue(md.startsWith("## Greedy accuracy at each budget point\n"), md);
        assertTrue(
                md.contains("| algorithm | 25% (250) | 50% (500) | 100% (1.00k) |\n| --- | ---: | ---: | ---: |\n"),
                md);
        assertTrue(md.contains("| tree | - | - | 45.0% ± 0.0 |\n"), md);
        assertThrows(IllegalArgumentException.class, () -> Summary.atAxis(points, Summary.Axis.TOKENS, 1000, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Summary.atAxis(points, Summary.Axis.TOKENS, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> Summary.atAxis(points, null, 1000, 0.5));
        assertThrows(
                IllegalArgumentException.class, () -> Summary.atAxis(points, Summary.Axis.WALL_TIME, Double.NaN, 0.5));
    }

    @Test
    void equalWallTimeAndEpisodesAreReadAtTheShortestRunsEnd() {
        // grpo's runs end at 14 s / 300 episodes and 20 s / 280; the tree's at 12 s / 400: every run reached
        // 12 s and 280 episodes, so those are the common horizons.
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("grpo", 0, 10, 500, 6, 0.40, Double.NaN, 0.1, 100, 10),
                new EvalPoint("grpo", 0, 30, 1000, 14, 0.60, Double.NaN, 0.1, 300, 30),
                new EvalPoint("grpo", 1, 0, 0, 0, 0.30, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("grpo", 1, 10, 500, 11, 0.50, Double.NaN, 0.1, 140, 14),
                new EvalPoint("grpo", 1, 20, 1000, 20, 0.70, Double.NaN, 0.1, 280, 28),
                new EvalPoint("tree", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("tree", 0, 10, 500, 3, 0.45, Double.NaN, 0.1, 200, 10),
                new EvalPoint("tree", 0, 20, 1000, 12, 0.65, Double.NaN, 0.1, 400, 20));
        assertEquals(12, Summary.commonHorizon(points, Summary.Axis.WALL_TIME), 1e-12);
        assertEquals(280, Summary.commonHorizon(points, Summary.Axis.EPISODES), 1e-12);
        assertEquals(1000, Summary.commonHorizon(points, Summary.Axis.TOKENS), 1e-12);

        List<Summary.AxisPoint> wall = Summary.atAxis(points, Summary.Axis.WALL_TIME, 12, 0.5, 1.0);
        // at 6 s grpo's seeds read 0.40 (6 s) and the base 0.30 (their next evaluations came at 14 s and 11 s)
        assertEquals(0.35, wall.get(0).accuracy(), 1e-12);
        assertEquals(0.45, wall.get(1).accuracy(), 1e-12); // 0.40 and 0.50 (11 s)
        assertEquals(0.45, wall.get(2).accuracy(), 1e-12); // the tree at 6 s: its 3 s evaluation
        assertEquals(0.65, wall.get(3).accuracy(), 1e-12);
        List<Summary.AxisPoint> episodes = Summary.atAxis(points, Summary.Axis.EPISODES, 280, 1.0);
        assertEquals(0.55, episodes.get(0).accuracy(), 1e-12); // 0.40 (100 episodes) and 0.70 (280)
        assertEquals(0.45, episodes.get(1).accuracy(), 1e-12); // the tree's 400-episode evaluation is past 280

        List<String> sections = Summary.axisSections(points, 1000);
        assertEquals(3, sections.size());
        assertTrue(sections.get(1).startsWith("## Greedy accuracy at equal training wall time\n"), sections.get(1));
        assertTrue(sections.get(1).contains("| algorithm | 25% (3.0s) | 50% (6.0s) | 75% (9.0s) | 100% (12s) |"));
        assertTrue(sections.get(2).contains("| algorithm | 25% (70) | 50% (140) | 75% (210) | 100% (280) |"));
        assertTrue(sections.get(2).contains("| tree | 30.0% ± 0.0 | 30.0% ± 0.0 | 45.0% ± 0.0 | 45.0% ± 0.0 |"));
    }

    /**
     * Runs without a shared token budget (one run to its iterations with its rollouts counted) are set side by side at
     * the generated tokens every run reached, titled as a common horizon, not as budget points.
     */
    @Test
    void withoutASharedBudgetTheTokenAxisIsTheRunsCommonHorizon() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("grpo", 0, 10, 1000, 10, 0.40, Double.NaN, 0.1, 100, 10),
                new EvalPoint("chain", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN, 0, 0),
                new EvalPoint("chain", 0, 5, 600, 8, 0.35, Double.NaN, 0.1, 50, 5),
                new EvalPoint("chain", 0, 10, 4000, 30, 0.60, Double.NaN, 0.1, 100, 10));
        List<String> sections = Summary.axisSections(points, 0);
        assertEquals(3, sections.size());
        assertTrue(sections.get(0).startsWith("## Greedy accuracy at equal generated tokens\n"), sections.get(0));
        assertTrue(sections.get(0).contains("| algorithm | 25% (250) | 50% (500) | 75% (750) | 100% (1.00k) |"));
        assertTrue(sections.get(0).contains("| chain | 30.0% ± 0.0 | 30.0% ± 0.0 | 35.0% ± 0.0 | 35.0% ± 0.0 |"));
        assertTrue(sections.get(2).contains("| chain | 30.0% ± 0.0 | 35.0% ± 0.0 | 35.0% ± 0.0 | 60.0% ± 0.0 |"));
    }

    @Test
    void episodesUnrecordedLeaveThatAxisOut() {
        List<EvalPoint> points = List.of(
                new EvalPoint("grpo", 0, 0, 0, 0, 0.30, Double.NaN, Double.NaN),
                new EvalPoint("grpo", 0, 10, 1000, 5, 0.40, Double.NaN, 0.1));
        assertTrue(Double.isNaN(Summary.commonHorizon(points, Summary.Axis.EPISODES)));
        List<String> sections = Summary.axisSections(points, 1000);
        assertEquals(2, sections.size());
        assertTrue(sections.get(1).contains("wall time"));
        assertTrue(Double.isNaN(Summary.commonHorizon(List.of(points.get(0)), Summary.Axis.WALL_TIME)));
        assertEquals(List.of(), Summary.axisSections(List.of(), 1000));
    }

    @Test
    void tableShowsTheNumbersInAlignedColumns() {
        List<Summary.AlgorithmSummary> s = List.of(
                new Summary.AlgorithmSummary("grpo", 3, 0.4126, 0.0123, Double.NaN, 1_234_000, 83, 5120, 80, 0.301),
                new Summary.AlgorithmSummary(
                        "spo-tree", 3, 0.5, 0.02, 0.456, 456_000, 3725, Double.NaN, Double.NaN, 0.301));
        String table = Summary.table(s);
        List<String> lines = table.lines().toList();
        assertEquals(4, lines.size(), table);
        assertTrue(lines.get(0).startsWith("algorithm"), table);
        assertTrue(lines.get(1).matches("-+( +-+){8}"), table);
        assertEquals(
                List.of("grpo", "3", "30.1%", "41.3%", "±", "1.2", "-", "1.23M", "1m", "23s", "5.12k", "80"),
                List.of(lines.get(2).trim().split(" +")));
        assertEquals(
                List.of("spo-tree", "3", "30.1%", "50.0%", "±", "2.0", "45.6%", "456k", "1h", "02m", "-", "-"),
                List.of(lines.get(3).trim().split(" +")));
        int width = lines.get(0).length();
        for (String line : lines) assertEquals(width, line.length(), table);
    }

    @Test
    void formats() {
        assertEquals("456", Formats.count(456));
        assertEquals("1.00k", Formats.count(999.6));
        assertEquals("45.6k", Formats.count(45_600));
        assertEquals("1.00M", Formats.count(999_700));
        assertEquals("2.50B", Formats.count(2.5e9));
        assertEquals("4.2s", Formats.duration(4.2));
        assertEquals("42s", Formats.duration(42.4));
        assertEquals("1m 00s", Formats.duration(59.6));
        assertEquals("2h 05m", Formats.duration(7500));
        assertEquals("-", Formats.duration(Double.POSITIVE_INFINITY));
        assertEquals("-", Formats.percent(Double.NaN));
    }
}
