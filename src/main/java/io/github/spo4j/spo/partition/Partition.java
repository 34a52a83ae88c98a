package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Segment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A partition of a response's L tokens: an unscored pre-segment [0, b_0), whose tokens get advantage 0, then the
 * scored segments [b_0, b_1), [b_1, b_2), …, [b_last, L). Together they cover every token exactly once (checked on
 * construction). With no segments the pre-segment is the whole response and every advantage is 0 (SPO_SPEC §1a
 * "m = 0"). Immutable.
 *
 * @param responseLength   L &gt;= 0
 * @param preSegmentLength b_0, the number of unscored leading tokens, in [0, L]
 * @param segments         the scored segments in order, contiguous from b_0 to L
 */
public record Partition(int responseLength, int preSegmentLength, List<Segment> segments) {

    /** {@link #segmentOfToken()} for a pre-segment token. */
    public static final int PRE_SEGMENT = -1;

    public Partition {
        SpoArguments.require(responseLength >= 0, "responseLength must be >= 0, got " + responseLength);
        SpoArguments.require(
                preSegmentLength >= 0 && preSegmentLength <= responseLength,
                "preSegmentLength must be in [0, responseLength = " + responseLength + "], got " + preSegmentLength);
        SpoArguments.notNull(segments, "segments");
        int next = preSegmentLength;
        for (int j = 0; j < segments.size(); j++) {
            Segment s = SpoArguments.notNull(segments.get(j), "segments[" + j + "]");
            if (s.start() != next) {
                throw new IllegalArgumentException("segments[" + j + "] starts at " + s.start() + ", expected " + next
                        + ": segments must follow the pre-segment and each other without gap or overlap");
            }
            next = s.end();
        }
        SpoArguments.require(
                next == responseLength, "segments end at " + next + ", expected the response length " + responseLength);
        segments = List.copyOf(segments);
    }

    /** A partition with no scored segment: every token is in the pre-segment and gets advantage 0. */
    public static Partition unscored(int responseLength) {
        return new Partition(responseLength, responseLength, List.of());
    }

    /**
     * The partition whose segments start at the given token boundaries, each segment running to the next boundary
     * and the last to L; tokens before the first boundary form the pre-segment. Every start value is estimated.
     *
     * @param responseLength L
     * @param boundaries     strictly increasing token indices in [0, L)
     */
    public static Partition fromBoundaries(int responseLength, int[] boundaries) {
        SpoArguments.notNull(boundaries, "boundaries");
        for (int j = 0; j < boundaries.length; j++) {
            int lowest = j == 0 ? 0 : boundaries[j - 1] + 1;
            if (boundaries[j] < lowest || boundaries[j] >= responseLength) {
                throw new IllegalArgumentException("boundaries[" + j + "] = " + boundaries[j] + " must be in [" + lowest
                        + ", responseLength = " + responseLength + "): boundaries strictly increase");
            }
        }
        if (boundaries.length == 0) return unscored(responseLength);
        List<Segment> segments = new ArrayList<>(boundaries.length);
        for (int j = 0; j < boundaries.length; j++) {
            int end = j + 1 < boundaries.length ? boundaries[j + 1] : responseLength;
            segments.add(Segment.estimated(boundaries[j], end));
        }
        return new Partition(responseLength, boundaries[0], segments);
    }

    public int segmentCount() {
        return segments.size();
    }

    /** [L] the index of the segment holding each token, or {@link #PRE_SEGMENT}. */
    public int[] segmentOfToken() {
        int[] owner = new int[responseLength];
        Arrays.fill(owner, 0, preSegmentLength, PRE_SEGMENT);
        for (int j = 0; j < segments.size(); j++) {
            Arrays.fill(owner, segments.get(j).start(), segments.get(j).end(), j);
        }
        return owner;
    }

    /** Whether V(prompt) is estimated: only when the first segment starts at token 0 (SPO_SPEC §2 "start value"). */
    public boolean promptValueEstimated() {
        return !segments.isEmpty()
                && segments.get(0).start() == 0
                && segments.get(0).startValueEstimated();
    }
}
