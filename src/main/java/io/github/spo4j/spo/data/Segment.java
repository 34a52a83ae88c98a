package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;

/**
 * A scored segment: the response tokens [start, end). Its boundary state is s = (x, y_&lt;start), the prompt plus
 * the response before the segment ({@link Trajectory#prefix}); its advantage is V(next state) − V(s) (SPO_SPEC §2).
 *
 * @param start               first token, &gt;= 0
 * @param end                 one past the last token, &gt; start (a segment is never empty)
 * @param startValueEstimated whether V(s) is a Monte-Carlo estimate; when false it is back-filled from the next
 *                            state, V(s_j) = V(s_{j+1}), as VinePPO does past its estimation cap (SPO_SPEC §8)
 */
public record Segment(int start, int end, boolean startValueEstimated) {

    public Segment {
        SpoArguments.require(start >= 0, "start must be >= 0, got " + start);
        SpoArguments.require(end > start, "end must be > start = " + start + ", got " + end);
    }

    /** A segment whose start value is estimated, as every partition in this package produces. */
    public static Segment estimated(int start, int end) {
        return new Segment(start, end, true);
    }

    public int length() {
        return end - start;
    }

    public boolean contains(int token) {
        return token >= start && token < end;
    }

    public Segment withStartValueEstimated(boolean estimated) {
        return estimated == startValueEstimated ? this : new Segment(start, end, estimated);
    }
}
