package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Trajectory;
import java.util.Arrays;

/**
 * The equal-split ablation ("naive_3s", SPO_SPEC §1c): the response is cut into P nearly equal parts, the first
 * (L mod P) parts one token longer. The prompt's value is not estimated, so the first part is the unscored
 * pre-segment and the P − 1 internal boundaries are the estimated states.
 *
 * <p>When L &lt; P the last P − L parts would be empty; they are dropped (an empty part has no token to credit and
 * its boundary state is the next part's), leaving L one-token parts.
 *
 * @param parts P &gt; 0; the reference uses 4 (3 internal boundaries)
 */
public record EqualSplitPartition(int parts) implements SegmentPartition {

    /** P of the reference's naive_3s configuration. */
    public static final int DEFAULT_PARTS = 4;

    public EqualSplitPartition {
        SpoArguments.positive(parts, "parts");
    }

    /** P = 4. */
    public static EqualSplitPartition defaults() {
        return new EqualSplitPartition(DEFAULT_PARTS);
    }

    /** [min(P, L)] the non-empty part sizes: ⌊L/P⌋ + 1 for the first (L mod P) parts, ⌊L/P⌋ for the others. */
    public int[] partSizes(int responseLength) {
        SpoArguments.require(responseLength >= 0, "responseLength must be >= 0, got " + responseLength);
        int base = responseLength / parts, longer = responseLength % parts;
        int[] sizes = new int[Math.min(parts, responseLength)];
        Arrays.fill(sizes, base);
        for (int i = 0; i < longer; i++) sizes[i]++;
        return sizes;
    }

    @Override
    public Partition split(Trajectory trajectory) {
        SpoArguments.notNull(trajectory, "trajectory");
        int length = trajectory.responseLength();
        int[] sizes = partSizes(length);
        if (sizes.length <= 1) return Partition.unscored(length);
        // Part 0 is the pre-segment; parts 1.. are scored, each from its start boundary.
        int[] boundaries = new int[sizes.length - 1];
        int start = sizes[0];
        for (int j = 0; j < boundaries.length; j++) {
            boundaries[j] = start;
            start += sizes[j + 1];
        }
        return Partition.fromBoundaries(length, boundaries);
    }
}
