package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.partition.Partition;
import java.util.Arrays;

/**
 * The credit of one trajectory: per-segment values and advantages (for logging) and the per-token advantages the
 * policy loss consumes. Immutable: arrays are copied on the way in and out.
 *
 * @param partition       the segments; {@link Segment#startValueEstimated()} says which start values were estimated
 * @param startValues     [S] V(s_j), the value of segment j's boundary state (estimated or back-filled)
 * @param advantages      [S] A_j = V(s_{j+1}) − V(s_j), with V(s_S) = the trajectory's end value
 * @param tokenAdvantages [L] each token's advantage: its segment's A_j, 0 in the pre-segment (and, for SPO-chain,
 *                        0 where the generator-side zeroing applies)
 */
public record SegmentAdvantages(
        Partition partition, double[] startValues, double[] advantages, float[] tokenAdvantages) {

    public SegmentAdvantages {
        SpoArguments.notNull(partition, "partition");
        SpoArguments.notNull(startValues, "startValues");
        SpoArguments.notNull(advantages, "advantages");
        SpoArguments.notNull(tokenAdvantages, "tokenAdvantages");
        int s = partition.segmentCount();
        SpoArguments.require(
                startValues.length == s,
                "startValues has length " + startValues.length + ", expected the segment count " + s);
        SpoArguments.require(
                advantages.length == s,
                "advantages has length " + advantages.length + ", expected the segment count " + s);
        SpoArguments.require(
                tokenAdvantages.length == partition.responseLength(),
                "tokenAdvantages has length " + tokenAdvantages.length + ", expected the response length "
                        + partition.responseLength());
        startValues = startValues.clone();
        advantages = advantages.clone();
        tokenAdvantages = tokenAdvantages.clone();
    }

    public int segmentCount() {
        return partition.segmentCount();
    }

    @Override
    public double[] startValues() {
        return startValues.clone();
    }

    @Override
    public double[] advantages() {
        return advantages.clone();
    }

    @Override
    public float[] tokenAdvantages() {
        return tokenAdvantages.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SegmentAdvantages a
                && partition.equals(a.partition)
                && Arrays.equals(startValues, a.startValues)
                && Arrays.equals(advantages, a.advantages)
                && Arrays.equals(tokenAdvantages, a.tokenAdvantages);
    }

    @Override
    public int hashCode() {
        int h = partition.hashCode();
        h = 31 * h + Arrays.hashCode(startValues);
        h = 31 * h + Arrays.hashCode(advantages);
        return 31 * h + Arrays.hashCode(tokenAdvantages);
    }

    @Override
    public String toString() {
        return "SegmentAdvantages[segments=" + partition.segments() + ", startValues=" + Arrays.toString(startValues)
                + ", advantages=" + Arrays.toString(advantages) + "]";
    }
}
