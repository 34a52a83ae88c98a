package io.github.spo4j.spo.advantage;

import static io.github.spo4j.spo.data.ChainTestData.fromProbabilities;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.ChainTestData;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.EqualSplitPartition;
import io.github.spo4j.spo.partition.Partition;
import io.github.spo4j.spo.partition.SegmentPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SPO-chain advantages (SPO_SPEC §2) on hand-computed cases. */
class ChainAdvantagesTest {
    private static final double HI = 0.95;

    private static ChainAdvantages chain(int interval, RecordingEstimator estimator, boolean zero) {
        return new ChainAdvantages(
                new CutpointPartition(0.9, interval),
                estimator,
                ChainAdvantageConfig.defaults().withZeroConfidentTokens(zero));
    }

    /**
     * p = [.95, .5, .95, .3, .92, .4, .6], K = 2: cutpoints {1, 3, 5, 6}, boundaries t_0 = 1 and t_2 = 5.
     * Pre-segment [0, 1), segments [1, 5) and [5, 7); states y_<1 and y_<5 with V̂ = 0.25 and 0.75; R = 1.
     * A_0 = 0.75 − 0.25 = 0.5, A_1 = 1 − 0.75 = 0.25.
     */
    private static final Trajectory MIXED = fromProbabilities(1, HI, 0.5, HI, 0.3, 0.92, 0.4, 0.6);

    private static final Map<Integer, Double> MIXED_VALUES = Map.of(1, 0.25, 5, 0.75);

    @Test
    void segmentAdvantagesAreValueDifferencesEndingAtTheReward() {
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(MIXED_VALUES);
        SegmentAdvantages a = chain(2, estimator, false).compute(List.of(MIXED)).get(0);
        assertArrayEquals(new double[] {0.25, 0.75}, a.startValues(), 1e-15);
        assertArrayEquals(new double[] {0.5, 0.25}, a.advantages(), 1e-15);
        // Pre-segment token 0 gets 0; every other token its segment's advantage.
        assertArrayEquals(new float[] {0, 0.5f, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f}, a.tokenAdvantages());
        // Only the two boundary states are estimated, not the prompt (token 0 is not a cutpoint).
        List<StatePrefix> states = estimator.onlyCall();
        assertEquals(List.of(MIXED.prefix(1), MIXED.prefix(5)), states);
        assertEquals(List.of(9), estimator.rollouts);
        assertFalse(a.partition().promptValueEstimated());
    }

    @Test
    void confidentTokensAreZeroedByDefault() {
        SegmentAdvantages a = chain(2, RecordingEstimator.byPrefixLength(MIXED_VALUES), true)
                .compute(List.of(MIXED))
                .get(0);
        // Tokens 2 (p = .95) and 4 (p = .92) have p > 0.9.
        assertArrayEquals(new float[] {0, 0.5f, 0, 0.5f, 0, 0.25f, 0.25f}, a.tokenAdvantages());
        // Segment-level values are untouched by the zeroing.
        assertArrayEquals(new double[] {0.5, 0.25}, a.advantages(), 1e-15);
        assertTrue(ChainAdvantageConfig.defaults().zeroConfidentTokens());
    }

    @Test
    void zeroingIsStrictlyAboveRho() {
        // ρ = 1 for both cutpoints and zeroing: p = 1 (log p = 0, exact in float) is neither cut nor zeroed;
        // with ρ = 0.5 for the zeroing, p = 0.6 is zeroed and p = 0.4 is kept.
        Trajectory t = new Trajectory(
                0,
                ChainTestData.PROMPT,
                new int[] {0, 1, 2},
                new float[] {(float) Math.log(0.4), 0f, (float) Math.log(0.6)},
                1,
                FinishReason.EOS);
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(Map.of(0, 0.25));
        SegmentAdvantages atOne = new ChainAdvantages(
                        new CutpointPartition(1.0, 5), estimator, new ChainAdvantageConfig(9, true, 1.0))
                .compute(List.of(t))
                .get(0);
        assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f}, atOne.tokenAdvantages());
        SegmentAdvantages atHalf = new ChainAdvantages(
                        new CutpointPartition(1.0, 5), estimator, new ChainAdvantageConfig(9, true, 0.5))
                .compute(List.of(t))
                .get(0);
        assertArrayEquals(new float[] {0.75f, 0, 0}, atHalf.tokenAdvantages());
    }

    @Test
    void promptValueIsEstimatedWhenTheFirstTokenIsACutpoint() {
        // p = [.5, .95, .2], K = 1: segments [0, 2) and [2, 3); states: the prompt (V̂ .4) and y_<2 (V̂ .9); R = 0.
        Trajectory t = fromProbabilities(0, 0.5, HI, 0.2);
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(Map.of(0, 0.4, 2, 0.9));
        SegmentAdvantages a = chain(1, estimator, true).compute(List.of(t)).get(0);
        assertArrayEquals(new double[] {0.5, -0.9}, a.advantages(), 1e-15);
        assertArrayEquals(new float[] {0.5f, 0, -0.9f}, a.tokenAdvantages());
        assertEquals(List.of(t.prefix(0), t.prefix(2)), estimator.onlyCall());
        assertTrue(a.partition().promptValueEstimated());
    }

    @Test
    void truncatedTrajectoryEndsAtZero() {
        Trajectory t = new Trajectory(
                0, ChainTestData.PROMPT, new int[] {0, 1, 2}, ChainTestData.logp(0.5, HI, 0.2), 1, FinishReason.LENGTH);
        SegmentAdvantages a = chain(1, RecordingEstimator.byPrefixLength(Map.of(0, 0.4, 2, 0.9)), false)
                .compute(List.of(t))
                .get(0);
        assertArrayEquals(new double[] {0.5, -0.9}, a.advantages(), 1e-15); // R = 1 counts as 0
    }

    @Test
    void noCutpointMeansZeroAdvantagesAndNoEstimate() {
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(Map.of());
        SegmentAdvantageBatch batch =
                chain(5, estimator, true).compute(List.of(fromProbabilities(1, HI, 0.99, HI), fromProbabilities(1)));
        assertArrayEquals(new float[3], batch.get(0).tokenAdvantages());
        assertEquals(0, batch.get(0).segmentCount());
        assertArrayEquals(new float[0], batch.get(1).tokenAdvantages());
        assertEquals(0, estimator.calls.size());
        assertEquals(0, batch.statesRequested());
        assertEquals(0, batch.statesEstimated());
    }

    @Test
    void oneEstimatorCallPerBatchWithDistinctStates() {
        // Two responses to question 0 share their first token, so both need V(y_<1) = V([0]).
        Trajectory a = new Trajectory(
                0, ChainTestData.PROMPT, new int[] {0, 1, 2}, ChainTestData.logp(HI, 0.5, 0.5), 1, FinishReason.EOS);
        Trajectory b = new Trajectory(
                0, ChainTestData.PROMPT, new int[] {0, 3, 4}, ChainTestData.logp(HI, 0.5, 0.5), 0, FinishReason.EOS);
        // The same tokens for another question are another state.
        Trajectory c = new Trajectory(
                1, ChainTestData.PROMPT, new int[] {0, 1, 2}, ChainTestData.logp(HI, 0.5, 0.5), 1, FinishReason.EOS);
        RecordingEstimator estimator = new RecordingEstimator(s -> 0.1 * s.responsePrefixLength() + s.questionId());
        SegmentAdvantageBatch out = new ChainAdvantages(
                        new CutpointPartition(0.9, 1),
                        estimator,
                        ChainAdvantageConfig.defaults().withRollouts(4))
                .compute(List.of(a, b, c));
        assertEquals(List.of(a.prefix(1), a.prefix(2), b.prefix(2), c.prefix(1), c.prefix(2)), estimator.onlyCall());
        assertEquals(List.of(4), estimator.rollouts);
        assertEquals(6, out.statesRequested());
        assertEquals(5, out.statesEstimated());
        // a: V = .1, .2, R = 1 → A = .1, .8; c: V = 1.1, 1.2, R = 1 → A = .1, −.2.
        assertArrayEquals(new double[] {0.1, 0.8}, out.get(0).advantages(), 1e-12);
        assertArrayEquals(new double[] {0.1, -0.2}, out.get(2).advantages(), 1e-12);
    }

    /**
     * K = 1 on MIXED: states y_<1, y_<3, y_<5, y_<6, R = 1. First values .5, .5, .25, 1: segment [1, 3) ties (.5, .5)
     * and the last ties with R (1, 1), so y_<1, y_<3 and y_<6 get M = 2 more rollouts valued .8, .2, .7; with N = 4
     * their values become (4 · .5 + 2 · .8) / 6 = .6, (2 + .4) / 6 = .4 and (4 + 1.4) / 6 = .9; y_<5 keeps .25.
     * A = .4 − .6, .25 − .4, .9 − .25, 1 − .9.
     */
    @Test
    void tiedSegmentsGetMoreRolloutsAtBothEnds() {
        Map<Integer, Double> first = Map.of(1, 0.5, 3, 0.5, 5, 0.25, 6, 1.0), second = Map.of(1, 0.8, 3, 0.2, 6, 0.7);
        RecordingEstimator estimator = new RecordingEstimator(
                List.of(st -> first.get(st.responsePrefixLength()), st -> second.get(st.responsePrefixLength())));
        ChainAdvantageConfig config = ChainAdvantageConfig.defaults()
                .withZeroConfidentTokens(false)
                .withRollouts(4)
                .withTieRollouts(2);
        SegmentAdvantages a = new ChainAdvantages(new CutpointPartition(0.9, 1), estimator, config)
                .compute(List.of(MIXED))
                .get(0);
        assertEquals(List.of(MIXED.prefix(1), MIXED.prefix(3), MIXED.prefix(6)), estimator.calls.get(1));
        assertEquals(List.of(4, 2), estimator.rollouts);
        assertArrayEquals(new double[] {0.6, 0.4, 0.25, 0.9}, a.startValues(), 1e-12);
        assertArrayEquals(new double[] {-0.2, -0.15, 0.65, 0.1}, a.advantages(), 1e-12);

        // Nothing ties: the second call still comes, empty (data-parallel shares make the same calls).
        RecordingEstimator distinct = RecordingEstimator.byPrefixLength(Map.of(1, 0.1, 3, 0.2, 5, 0.3, 6, 0.4));
        new ChainAdvantages(new CutpointPartition(0.9, 1), distinct, config).compute(List.of(MIXED));
        assertEquals(2, distinct.calls.size());
        assertEquals(List.of(), distinct.calls.get(1));
        assertThrows(IllegalArgumentException.class, () -> config.withTieRollouts(-1));
    }

    @Test
    void estimatorAndPartitionContractsAreChecked() {
        List<Trajectory> batch = List.of(MIXED);
        ValueEstimator tooFew = (states, n) -> new double[states.size() - 1];
        ValueEstimator nan = (states, n) -> new double[] {0.5, Double.NaN};
        ValueEstimator none = (states, n) -> null;
        SegmentPartition cutpoints = new CutpointPartition(0.9, 2);
        ChainAdvantageConfig config = ChainAdvantageConfig.defaults();
        assertTrue(assertThrows(
                        IllegalStateException.class,
                        () -> new ChainAdvantages(cutpoints, tooFew, config).compute(batch))
                .getMessage()
                .contains("ValueEstimator"));
        assertThrows(IllegalStateException.class, () -> new ChainAdvantages(cutpoints, nan, config).compute(batch));
        assertThrows(IllegalStateException.class, () -> new ChainAdvantages(cutpoints, none, config).compute(batch));
        SegmentPartition wrongLength = t -> Partition.unscored(t.responseLength() + 1);
        assertThrows(
                IllegalStateException.class,
                () -> new ChainAdvantages(wrongLength, RecordingEstimator.byPrefixLength(Map.of()), config)
                        .compute(batch));
    }

    @Test
    void equalSplitAblationLeavesTheFirstPartUnscored() {
        // L = 6, P = 4: parts 2, 2, 1, 1; states y_<2, y_<4, y_<5 valued .2, .6, .5; R = 1.
        Trajectory t = fromProbabilities(1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5);
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(Map.of(2, 0.2, 4, 0.6, 5, 0.5));
        SegmentAdvantages a = new ChainAdvantages(
                        EqualSplitPartition.defaults(), estimator, ChainAdvantageConfig.defaults())
                .compute(List.of(t))
                .get(0);
        assertArrayEquals(new double[] {0.4, -0.1, 0.5}, a.advantages(), 1e-12);
        assertArrayEquals(new float[] {0, 0, 0.4f, 0.4f, -0.1f, 0.5f}, a.tokenAdvantages(), 1e-7f);
    }
}
