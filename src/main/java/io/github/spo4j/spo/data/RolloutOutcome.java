package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.tasks.FinishReason;

/**
 * How one Monte-Carlo rollout from a state ended.
 *
 * @param reward       the reward function's score of the completed response, finite
 * @param finishReason why the rollout stopped; {@link FinishReason#LENGTH} scores 0 whatever the reward
 */
public record RolloutOutcome(double reward, FinishReason finishReason) {

    public RolloutOutcome {
        SpoArguments.finite(reward, "reward");
        SpoArguments.notNull(finishReason, "finishReason");
    }

    /** This rollout's contribution to the state value: {@link MonteCarloValue#score}. */
    public double score() {
        return MonteCarloValue.score(reward, finishReason);
    }
}
