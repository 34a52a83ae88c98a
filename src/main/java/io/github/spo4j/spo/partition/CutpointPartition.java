package io.github.spo4j.spo.partition;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Trajectory;
import java.util.Arrays;

/**
 * SPO-chain's cutpoint partition (SPO_SPEC §1a).
 *
 * <pre>
 *   cutpoints    C = { t : p_t &lt; ρ },  p_t = exp(oldLogp_t), sorted t_0 &lt; t_1 &lt; … &lt; t_{m−1}
 *   boundaries   b_j = t_{jK},  j = 0 … ⌈m/K⌉ − 1         (every K-th cutpoint, starting with the first)
 *   segments     [b_j, b_{j+1}),  the last [b_last, L);  pre-segment [0, b_0)
 * </pre>
 *
 * Every segment starts with a cutpoint and holds exactly K cutpoints, the last at most K. The pre-segment holds only
 * tokens with p ≥ ρ. With no cutpoint (m = 0) there is no segment and every advantage is 0; when token 0 is a
 * cutpoint the first state is the prompt and its value is estimated; b_last may be L − 1, a one-token segment.
 *
 * @param rho              ρ in (0, 1]; the reference hard-codes 0.9
 * @param cutpointInterval K &gt; 0; the reference's {@code cutpoint_interval} defaults to 5
 */
public record CutpointPartition(double rho, int cutpointInterval) implements SegmentPartition {

    /** ρ of the reference code. */
    public static final double DEFAULT_RHO = 0.9;
    /** K of the reference's {@code interval5.jsonnet}, the released SPO-chain (int5) configuration. */
    public static final int DEFAULT_CUTPOINT_INTERVAL = 5;

    public CutpointPartition {
        SpoArguments.probabilityThreshold(rho, "rho");
        SpoArguments.positive(cutpointInterval, "cutpointInterval");
    }

    /** ρ = 0.9, K = 5. */
    public static CutpointPartition defaults() {
        return new CutpointPartition(DEFAULT_RHO, DEFAULT_CUTPOINT_INTERVAL);
    }

    /** The cutpoints t_0 &lt; … &lt; t_{m−1} of a trajectory: the tokens with p_t &lt; ρ. */
    public int[] cutpoints(Trajectory trajectory) {
        SpoArguments.notNull(trajectory, "trajectory");
        int[] found = new int[trajectory.responseLength()];
        int m = 0;
        for (int t = 0; t < found.length; t++) {
            if (trajectory.tokenProbability(t) < rho) found[m++] = t;
        }
        return Arrays.copyOf(found, m);
    }

    @Override
    public Partition split(Trajectory trajectory) {
        int[] cutpoints = cutpoints(trajectory);
        int[] boundaries = new int[(cutpoints.length + cutpointInterval - 1) / cutpointInterval];
        for (int j = 0; j < boundaries.length; j++) boundaries[j] = cutpoints[j * cutpointInterval];
        return Partition.fromBoundaries(trajectory.responseLength(), boundaries);
    }
}
