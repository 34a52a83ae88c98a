package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.TokenTextDecoder;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.spo.partition.SegmentPartition;
import java.util.List;

/**
 * VinePPO step advantages (SPO_SPEC §8).
 *
 * <pre>
 *   states    s_0 = the prompt, s_i = the state after step i−1, i = 1 … S−1   (no state after the last step)
 *   values    V̂(s_i) estimated for i ≤ maxStepsEstimated; the rest back-filled V_i = r_i + V_{i+1};
 *             V(terminal) = 0
 *   rewards   r_i = 0, except r_{S−1} = R (0 if the response was cut by the length limit)
 *   A_i       = r_i + V_{i+1} − V_i, given to every token of step i
 * </pre>
 *
 * The steps come from a {@link SegmentPartition}, normally {@link NewlineStepPartition} (each token in the step of
 * its first character). There is no probability mask or zeroing (VinePPO's {@code use_prob_mask: false}). As in
 * the reference, {@code maxStepsEstimated} counts steps, so up to {@code maxStepsEstimated + 1} states are
 * estimated with the prompt; identical states across the batch are estimated once, in one estimator call.
 */
public final class VinePpoAdvantages {
    private final SegmentPartition steps;
    private final ValueEstimator estimator;
    private final VinePpoConfig config;

    /**
     * @param steps     how a response is cut into reasoning steps
     * @param estimator the Monte-Carlo value port
     * @param config    N and the estimation cap
     */
    public VinePpoAdvantages(SegmentPartition steps, ValueEstimator estimator, VinePpoConfig config) {
        this.steps = SpoArguments.notNull(steps, "steps");
        this.estimator = SpoArguments.notNull(estimator, "estimator");
        this.config = SpoArguments.notNull(config, "config");
    }

    /** VinePPO on GSM8K: newline steps, N = 9, 25 estimated steps. */
    public static VinePpoAdvantages gsm8k(TokenTextDecoder decoder, ValueEstimator estimator) {
        return new VinePpoAdvantages(new NewlineStepPartition(decoder), estimator, VinePpoConfig.defaults());
    }

    public SegmentPartition steps() {
        return steps;
    }

    public VinePpoConfig config() {
        return config;
    }

    /**
     * @param batch the trajectories of one iteration, non-empty, no null element
     * @return their step (segment) and token advantages, in batch order; a step's
     *     {@link Segment#startValueEstimated()} is false where its start value was back-filled
     * @throws IllegalArgumentException on a bad batch, before any partition or estimate is computed
     * @throws IllegalStateException    when the partition or the estimator breaks its contract
     */
    public SegmentAdvantageBatch compute(List<Trajectory> batch) {
        return SegmentCredit.assign(
                batch, steps, estimator, config.rollouts(), 0, config.estimatedStates(), false, 1.0);
    }
}
