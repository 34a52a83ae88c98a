package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.Trajectory;

/**
 * How a response is cut into segments (SPO_SPEC §1). Implementations are pure functions of the trajectory.
 *
 * <ul>
 *   <li>{@link CutpointPartition}: every K-th low-probability token starts a segment (§1a, SPO-chain);</li>
 *   <li>{@link FixedTokenPartition}: M tokens per segment (§1b);</li>
 *   <li>{@link EqualSplitPartition}: P nearly equal parts, the first unscored (§1c, the "naive" ablation);</li>
 *   <li>{@link NewlineStepPartition}: reasoning steps on the decoded text (§8, VinePPO on GSM8K).</li>
 * </ul>
 *
 * A segment returned with {@code startValueEstimated = false} is not estimated by the advantage code: its start
 * value is back-filled from the next state (see {@link Segment}).
 */
@FunctionalInterface
public interface SegmentPartition {

    /**
     * @param trajectory the response to cut, not null
     * @return its partition, whose {@link Partition#responseLength()} is the trajectory's response length
     */
    Partition split(Trajectory trajectory);
}
