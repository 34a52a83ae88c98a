package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Trajectory;

/**
 * Segments of a fixed token count M (SPO_SPEC §1b): [0, M), [M, 2M), …, the last one shorter when M does not divide
 * L. No pre-segment, so the prompt's value is estimated. The reference uses M = 30 (Rho-1.1B, GSM8K), 100 (Qwen
 * base configs) and 600 (R1-Distill-Qwen-1.5B, MATH) for SPO-tree; here it also serves as a chain partition.
 *
 * @param segmentTokens M &gt; 0
 */
public record FixedTokenPartition(int segmentTokens) implements SegmentPartition {

    public FixedTokenPartition {
        SpoArguments.positive(segmentTokens, "segmentTokens");
    }

    @Override
    public Partition split(Trajectory trajectory) {
        SpoArguments.notNull(trajectory, "trajectory");
        int length = trajectory.responseLength();
        int[] boundaries = new int[(length + segmentTokens - 1) / segmentTokens];
        for (int j = 0; j < boundaries.length; j++) boundaries[j] = j * segmentTokens;
        return Partition.fromBoundaries(length, boundaries);
    }
}
