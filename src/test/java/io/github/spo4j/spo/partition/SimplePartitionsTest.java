package io.github.spo4j.spo.partition;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Partition} itself, {@link FixedTokenPartition} (SPO_SPEC §1b) and {@link EqualSplitPartition} (§1c). */
class SimplePartitionsTest {

    private static Trajectory ofLength(int length) {
        return new Trajectory(0, new int[] {1}, new int[length], new float[length], 0, FinishReason.EOS);
    }

    /** "pre" then each segment as [start,end). */
    static String describe(Partition p) {
        StringBuilder sb = new StringBuilder("pre " + p.preSegmentLength());
        for (Segment s : p.segments())
            sb.append(" [").append(s.start()).append(',').append(s.end()).append(')');
        return sb.toString();
    }

    @Test
    void partitionFromBoundaries() {
        Partition p = Partition.fromBoundaries(7, new int[] {2, 3, 6});
        assertEquals("pre 2 [2,3) [3,6) [6,7)", describe(p));
        assertArrayEquals(new int[] {-1, -1, 0, 1, 1, 1, 2}, p.segmentOfToken());
        assertFalse(p.promptValueEstimated());
        assertTrue(Partition.fromBoundaries(3, new int[] {0}).promptValueEstimated());
        assertEquals("pre 5", describe(Partition.fromBoundaries(5, new int[0])));
        assertEquals("pre 0", describe(Partition.unscored(0)));
    }

    @Test
    void partitionSegmentsAreAnImmutableCopy() {
        java.util.ArrayList<Segment> segments = new java.util.ArrayList<>(List.of(Segment.estimated(0, 2)));
        Partition p = new Partition(2, 0, segments);
        segments.add(Segment.estimated(2, 3));
        assertEquals(1, p.segmentCount());
        assertThrowsUnsupported(() -> p.segments().add(Segment.estimated(2, 3)));
    }

    private static void assertThrowsUnsupported(Runnable r) {
        try {
            r.run();
        } catch (UnsupportedOperationException expected) {
            return;
        }
        throw new AssertionError("segments() should be unmodifiable");
    }

    @Test
    void fixedTokenCountFromTokenZeroLastShorter() {
        assertEquals("pre 0 [0,4) [4,8) [8,10)", describe(new FixedTokenPartition(4).split(ofLength(10))));
        assertEquals("pre 0 [0,4) [4,8)", describe(new FixedTokenPartition(4).split(ofLength(8))));
        assertEquals("pre 0 [0,3)", describe(new FixedTokenPartition(30).split(ofLength(3))));
        assertEquals("pre 0 [0,1) [1,2) [2,3)", describe(new FixedTokenPartition(1).split(ofLength(3))));
        assertEquals("pre 0", describe(new FixedTokenPartition(5).split(ofLength(0))));
        assertTrue(new FixedTokenPartition(4).split(ofLength(10)).promptValueEstimated());
    }

    @Test
    void equalSplitFirstLongerPartsAndUnscoredFirstPart() {
        // L = 10, P = 4: 10 mod 4 = 2 parts of 3, then 2 parts of 2; the first part is not scored.
        assertArrayEquals(new int[] {3, 3, 2, 2}, EqualSplitPartition.defaults().partSizes(10));
        assertEquals(
                "pre 3 [3,6) [6,8) [8,10)",
                describe(EqualSplitPartition.defaults().split(ofLength(10))));
        assertEquals(
                "pre 1 [1,2) [2,3) [3,4)",
                describe(EqualSplitPartition.defaults().split(ofLength(4))));
        // L = 13, P = 4: one part of 4, three of 3.
        assertArrayEquals(new int[] {4, 3, 3, 3}, EqualSplitPartition.defaults().partSizes(13));
        assertEquals(
                "pre 4 [4,7) [7,10) [10,13)",
                describe(EqualSplitPartition.defaults().split(ofLength(13))));
        assertFalse(EqualSplitPartition.defaults().split(ofLength(13)).promptValueEstimated());
    }

    @Test
    void equalSplitShortResponsesDropEmptyParts() {
        assertArrayEquals(new int[] {1, 1}, EqualSplitPartition.defaults().partSizes(2));
        assertEquals("pre 1 [1,2)", describe(EqualSplitPartition.defaults().split(ofLength(2))));
        assertEquals("pre 1", describe(EqualSplitPartition.defaults().split(ofLength(1))));
        assertEquals("pre 0", describe(EqualSplitPartition.defaults().split(ofLength(0))));
        // P = 1: the one part is the unscored first part.
        assertEquals("pre 6", describe(new EqualSplitPartition(1).split(ofLength(6))));
        assertArrayEquals(new int[] {2, 2, 1}, new EqualSplitPartition(3).partSizes(5));
    }
}
