package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;

/**
 * The Monte-Carlo state value of SPO and VinePPO (SPO_SPEC §2 "value estimate", the reference's
 * {@code _compute_mc_value}), shared by every {@link io.github.spo4j.spo.advantage.ValueEstimator}:
 *
 * <pre>
 *   V̂(s) = (1/N) Σ_i score_i,   score_i = 0 if rollout i stopped at the length limit, else its reward R_i
 *   V̂(s) = 0 when there are no rollouts
 * </pre>
 */
public final class MonteCarloValue {

    /** The score of a response cut by the length limit ({@code unfinished_response_penalty = 0.0}). */
    public static final double UNFINISHED_SCORE = 0.0;

    private MonteCarloValue() {}

    /** One response's score: its reward when it finished (EOS or stop string), {@link #UNFINISHED_SCORE} if not. */
    public static double score(double reward, FinishReason finishReason) {
        SpoArguments.notNull(finishReason, "finishReason");
        SpoArguments.finite(reward, "reward");
        return finishReason.finished() ? reward : UNFINISHED_SCORE;
    }

    /** V̂ from the outcomes of the N rollouts of one state (0 for none). */
    public static double of(List<RolloutOutcome> rollouts) {
        SpoArguments.notNull(rollouts, "rollouts");
        if (rollouts.isEmpty()) return 0.0;
        double sum = 0;
        for (int i = 0; i < rollouts.size(); i++) {
            sum += SpoArguments.notNull(rollouts.get(i), "rollouts[" + i + "]").score();
        }
        return sum / rollouts.size();
    }

    /**
     * V̂ from parallel arrays.
     *
     * @param rewards       [N] each rollout's reward, finite
     * @param finishReasons [N] why each rollout stopped
     */
    public static double of(double[] rewards, FinishReason[] finishReasons) {
        SpoArguments.notNull(rewards, "rewards");
        SpoArguments.notNull(finishReasons, "finishReasons");
        SpoArguments.require(
                rewards.length == finishReasons.length,
                "finishReasons has length " + finishReasons.length + ", expected the number of rewards "
                        + rewards.length);
        for (int i = 0; i < rewards.length; i++) {
            SpoArguments.finite(rewards[i], "rewards[" + i + "]");
            SpoArguments.notNull(finishReasons[i], "finishReasons[" + i + "]");
        }
        if (rewards.length == 0) return 0.0;
        double sum = 0;
        for (int i = 0; i < rewards.length; i++) sum += score(rewards[i], finishReasons[i]);
        return sum / rewards.length;
    }
}
