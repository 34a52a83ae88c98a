package io.github.spo4j.spo.partition;

import static io.github.spo4j.spo.data.ChainTestData.fromProbabilities;
import static io.github.spo4j.spo.partition.SimplePartitionsTest.describe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.tasks.FinishReason;
import org.junit.jupiter.api.Test;

/** SPO_SPEC §1a by hand: cutpoints p_t &lt; ρ, boundaries every K-th cutpoint from the first. */
class CutpointPartitionTest {
    private static final double HI = 0.95; // p ≥ 0.9: not a cutpoint

    @Test
    void defaultsAreTheReferences() {
        assertEquals(new CutpointPartition(0.9, 5), CutpointPartition.defaults());
    }

    @Test
    void noCutpointMeansNoSegment() {
        Partition p = CutpointPartition.defaults().split(fromProbabilities(1, HI, 0.99, 0.91, HI));
        assertEquals("pre 4", describe(p));
        assertFalse(p.promptValueEstimated());
    }

    @Test
    void firstTokenCutpointStartsAtThePrompt() {
        // Cutpoints {0, 2, 4}; K = 1: every cutpoint is a boundary, and token 0's state is the prompt.
        Trajectory t = fromProbabilities(1, 0.5, HI, 0.3, HI, 0.2);
        assertArrayEquals(new int[] {0, 2, 4}, new CutpointPartition(0.9, 1).cutpoints(t));
        Partition p = new CutpointPartition(0.9, 1).split(t);
        assertEquals("pre 0 [0,2) [2,4) [4,5)", describe(p));
        assertTrue(p.promptValueEstimated());
        // K = 2: boundaries t_0 = 0 and t_2 = 4, so the last segment is the last token alone.
        assertEquals("pre 0 [0,4) [4,5)", describe(new CutpointPartition(0.9, 2).split(t)));
    }

    @Test
    void intervalLargerThanTheCutpointCountGivesOneSegment() {
        // Cutpoints {1, 3}, K = 5: only b_0 = t_0 = 1; the pre-segment is token 0.
        Partition p = CutpointPartition.defaults().split(fromProbabilities(0, HI, 0.5, HI, 0.1, HI, HI));
        assertEquals("pre 1 [1,6)", describe(p));
        assertFalse(p.promptValueEstimated());
    }

    @Test
    void exactlyKCutpointsGiveOneSegment() {
        // Cutpoints {1, 2, 4}, K = 3: one segment holding exactly 3 cutpoints.
        Trajectory t = fromProbabilities(0, HI, 0.2, 0.3, HI, 0.4, HI);
        assertEquals("pre 1 [1,6)", describe(new CutpointPartition(0.9, 3).split(t)));
        // K = 2 on the same cutpoints: b = t_0, t_2 = 1, 4.
        assertEquals("pre 1 [1,4) [4,6)", describe(new CutpointPartition(0.9, 2).split(t)));
        // 2K cutpoints {1, 2, 4, 5}, K = 2: two segments of exactly K cutpoints each.
        Trajectory u = fromProbabilities(0, HI, 0.2, 0.3, HI, 0.4, 0.5, HI);
        assertEquals("pre 1 [1,4) [4,7)", describe(new CutpointPartition(0.9, 2).split(u)));
    }

    @Test
    void lastTokenCanBeAOneTokenSegment() {
        // Cutpoints {2, 5}, K = 1: b_last = L − 1.
        Partition p = new CutpointPartition(0.9, 1).split(fromProbabilities(0, HI, HI, 0.5, HI, HI, 0.5));
        assertEquals("pre 2 [2,5) [5,6)", describe(p));
        assertEquals(1, p.segments().get(1).length());
    }

    @Test
    void cutpointTestIsStrictAndUsesRho() {
        // ρ = 1: any p < 1 is a cutpoint, p = 1 (log p = 0) is not.
        Trajectory t = new Trajectory(
                0, new int[] {1}, new int[] {1, 2, 3}, new float[] {0f, -1e-3f, 0f}, 0, FinishReason.EOS);
        assertArrayEquals(new int[] {1}, new CutpointPartition(1.0, 1).cutpoints(t));
        // ρ = 0.5 ignores p = 0.6 that ρ = 0.9 would cut at.
        Trajectory u = fromProbabilities(0, 0.6, 0.4, 0.6);
        assertArrayEquals(new int[] {1}, new CutpointPartition(0.5, 1).cutpoints(u));
        assertArrayEquals(new int[] {0, 1, 2}, new CutpointPartition(0.9, 1).cutpoints(u));
    }

    @Test
    void emptyResponse() {
        assertEquals("pre 0", describe(CutpointPartition.defaults().split(fromProbabilities(1))));
    }

    @Test
    void aCapOnSegmentsWidensTheIntervalForResponsesWithManyCutpoints() {
        // Cutpoints {0, 1, 2, 3, 5, 6, 7} (m = 7), K = 1: seven segments uncapped.
        Trajectory t = fromProbabilities(1, 0.5, 0.5, 0.5, 0.5, HI, 0.5, 0.5, 0.5, HI);
        assertEquals(
                "pre 0 [0,1) [1,2) [2,3) [3,5) [5,6) [6,7) [7,9)", describe(new CutpointPartition(0.9, 1).split(t)));
        // S = 3: K' = ⌈7/3⌉ = 3, boundaries t_0, t_3, t_6 = 0, 3, 7: three segments covering every cutpoint.
        CutpointPartition capped = new CutpointPartition(0.9, 1, 3);
        assertEquals(3, capped.intervalFor(7));
        assertEquals("pre 0 [0,3) [3,7) [7,9)", describe(capped.split(t)));
        // S = 2: K' = 4, boundaries 0 and 5.
        assertEquals("pre 0 [0,5) [5,9)", describe(new CutpointPartition(0.9, 1, 2).split(t)));
        // A cap the response is under changes nothing: K = 2 gives ⌈7/2⌉ = 4 segments, S = 4 keeps K.
        assertEquals(
                describe(new CutpointPartition(0.9, 2).split(t)), describe(new CutpointPartition(0.9, 2, 4).split(t)));
        assertEquals(2, new CutpointPartition(0.9, 2, 4).intervalFor(7));
        assertEquals(2, new CutpointPartition(0.9, 2, 1).intervalFor(0), "no cutpoint: K, and no segment");
        assertEquals(new CutpointPartition(0.9, 5, 0), CutpointPartition.defaults());
        assertEquals(
                "maxSegments must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> new CutpointPartition(0.9, 5, -1))
                        .getMessage());
    }
}
