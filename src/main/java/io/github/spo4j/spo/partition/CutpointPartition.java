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
 * <p>A cap S on the segments per response bounds the Monte-Carlo cost of a response with many cutpoints (an
 * uncertain policy, a hot sampler): its interval grows to K' = max(K, ⌈m/S⌉), so it has at most S segments and they
 * still cover every cutpoint, coarser. The reference's {@code max_step_for_value_estimation} caps the estimated
 * states of VinePPO instead, leaving the later steps unestimated; the reference's cutpoint code has no cap.
 *
 * @param rho              ρ in (0, 1]; the reference hard-codes 0.9
 * @param cutpointInterval K &gt; 0; the reference's {@code cutpoint_interval} defaults to 5
 * @param maxSegments      S &gt;= 0, the most segments of one response; 0 for no cap (the reference's)
 */
public record CutpointPartition(double rho, int cutpointInterval, int maxSegments) implements SegmentPartition {

    /** ρ of the reference code. */
    public static final double DEFAULT_RHO = 0.9;
    /** K of the reference's {@code interval5.jsonnet}, the released SPO-chain (int5) configuration. */
    public static final int DEFAULT_CUTPOINT_INTERVAL = 5;

    public CutpointPartition {
        SpoArguments.probabilityThreshold(rho, "rho");
        SpoArguments.positive(cutpointInterval, "cutpointInterval");
        if (maxSegments < 0) throw new IllegalArgumentException("maxSegments must be >= 0, got " + maxSegments);
    }

    /** No cap on the segments per response, as in the reference. */
    public CutpointPartition(double rho, int cutpointInterval) {
        this(rho, cutpointInterval, 0);
    }

    public CutpointPartition withRho(double rho) {
        return new CutpointPartition(rho, cutpointInterval, maxSegments);
    }

    public CutpointPartition withCutpointInterval(int cutpointInterval) {
        return new CutpointPartition(rho, cutpointInterval, maxSegments);
    }

    public CutpointPartition withMaxSegments(int maxSegments) {
        return new CutpointPartition(rho, cutpointInterval, maxSegments);
    }

    /** K' for a response with {@code cutpoints} cutpoints: K, or the larger interval the cap on segments needs. */
    public int intervalFor(int cutpoints) {
        if (maxSegments == 0) return cutpointInterval;
        return Math.max(cutpointInterval, (cutpoints + maxSegments - 1) / maxSegments);
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
        int interval = intervalFor(cutpoints.length);
        int[] boundaries = new int[(cutpoints.length + interval - 1) / interval];
        for (int j = 0; j < boundaries.length; j++) boundaries[j] = cutpoints[j * interval];
        return Partition.fromBoundaries(trajectory.responseLength(), boundaries);
    }
}
