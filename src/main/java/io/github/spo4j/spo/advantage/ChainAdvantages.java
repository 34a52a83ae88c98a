package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.MonteCarloValue;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.EqualSplitPartition;
import io.github.spo4j.spo.partition.SegmentPartition;
import java.util.List;

/**
 * SPO-chain advantages (SPO_SPEC §2): Monte-Carlo values at segment boundaries and their differences.
 *
 * <pre>
 *   A_j    = V̂(s_{j+1}) − V̂(s_j)     for every segment but the last
 *   A_last = R − V̂(s_last)           (R is the trajectory's own reward, 0 if it was cut by the length limit)
 *   A_t    = A_j for every token t of segment j;  0 in the pre-segment;
 *            then A_t = 0 where p_t &gt; ρ when {@link ChainAdvantageConfig#zeroConfidentTokens()} (on by default)
 * </pre>
 *
 * V̂ is the mean reward of N rollouts from the state ({@link ValueEstimator}, {@link MonteCarloValue}). The prompt's
 * value is estimated only when the first segment starts at token 0; otherwise the first estimated state is the
 * prefix just before the first segment. There is no group baseline and no normalisation here (whitening belongs to
 * the loss, §4). Identical states across the batch are estimated once, in a single estimator call per batch.
 *
 * <p>With {@link ChainAdvantageConfig#tieRollouts()} M &gt; 0, the states around segments whose two values tie get M
 * more rollouts in a second estimator call (not in the paper; {@link SegmentCredit}).
 *
 * <p>With the default {@link CutpointPartition} this is the reference's SPO-chain (int5); any
 * {@link SegmentPartition} can be used, e.g. {@link EqualSplitPartition} for the §1c ablation.
 */
public final class ChainAdvantages {
    private final SegmentPartition partition;
    private final ValueEstimator estimator;
    private final ChainAdvantageConfig config;

    /**
     * @param partition how responses are cut into segments
     * @param estimator the Monte-Carlo value port
     * @param config    N, and the generator-side zeroing
     */
    public ChainAdvantages(SegmentPartition partition, ValueEstimator estimator, ChainAdvantageConfig config) {
        this.partition = SpoArguments.notNull(partition, "partition");
        this.estimator = SpoArguments.notNull(estimator, "estimator");
        this.config = SpoArguments.notNull(config, "config");
    }

    /** The reference SPO-chain: cutpoints with ρ = 0.9, K = 5; N = 9; zeroing of tokens with p &gt; 0.9. */
    public static ChainAdvantages spoChain(ValueEstimator estimator) {
        return new ChainAdvantages(CutpointPartition.defaults(), estimator, ChainAdvantageConfig.defaults());
    }

    public SegmentPartition partition() {
        return partition;
    }

    public ChainAdvantageConfig config() {
        return config;
    }

    /**
     * @param batch the trajectories of one iteration, non-empty, no null element
     * @return their segment and token advantages, in batch order
     * @throws IllegalArgumentException on a bad batch, before any partition or estimate is computed
     * @throws IllegalStateException    when the partition or the estimator breaks its contract
     */
    public SegmentAdvantageBatch compute(List<Trajectory> batch) {
        return SegmentCredit.assign(
                batch,
                partition,
                estimator,
                config.rollouts(),
                config.tieRollouts(),
                Integer.MAX_VALUE,
                config.zeroConfidentTokens(),
                config.rho());
    }
}
