package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.SpoArguments;

/**
 * Settings of {@link VinePpoAdvantages} (SPO_SPEC §8).
 *
 * @param rollouts          N &gt; 0, Monte-Carlo rollouts per state; 9 ({@code 9rolls.jsonnet})
 * @param maxStepsEstimated &gt;= 0; the values of the prompt and of the states after the first
 *                          {@code maxStepsEstimated} steps are estimated, later ones back-filled (the reference's
 *                          {@code max_step_for_value_estimation}, 25 for GSM8K; {@link #UNLIMITED} for none)
 */
public record VinePpoConfig(int rollouts, int maxStepsEstimated) {

    /** N of the reference. */
    public static final int DEFAULT_ROLLOUTS = 9;
    /** The GSM8K {@code max_step_for_value_estimation}. */
    public static final int DEFAULT_MAX_STEPS_ESTIMATED = 25;
    /** No cap: every state is estimated. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    public VinePpoConfig {
        SpoArguments.positive(rollouts, "rollouts");
        SpoArguments.require(maxStepsEstimated >= 0, "maxStepsEstimated must be >= 0, got " + maxStepsEstimated);
    }

    /** N = 9, cap 25. */
    public static VinePpoConfig defaults() {
        return new VinePpoConfig(DEFAULT_ROLLOUTS, DEFAULT_MAX_STEPS_ESTIMATED);
    }

    /** The number of leading states estimated: the prompt plus one per step, saturating at {@link #UNLIMITED}. */
    int estimatedStates() {
        return maxStepsEstimated == UNLIMITED ? UNLIMITED : maxStepsEstimated + 1;
    }
}
