package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.tasks.FinishReason;
import java.util.Arrays;

/**
 * One sampled response to a question, with what SPO needs to assign it credit (SPO_SPEC §0 steps 2–3).
 *
 * <p>Immutable: the arrays are copied on the way in and on the way out.
 *
 * @param questionId   the question's id (its dataset index, SPO_SPEC §0), &gt;= 0; rollouts are scored against it
 * @param promptIds    [P] prompt token ids x, non-empty, no negative id
 * @param responseIds  [L] response token ids y_0..y_{L−1}, no negative id; may be empty; no EOS appended (§4)
 * @param oldLogp      [L] log π_old(y_t | x, y_&lt;t) computed with logits / T at the sampling temperature T (§0,
 *                     §10.4), finite
 * @param reward       R as the task's reward function scored the response, finite
 * @param finishReason why the response ended; a {@link FinishReason#LENGTH} response ends with value 0
 *                     ({@link #endValue()})
 */
public record Trajectory(
        int questionId, int[] promptIds, int[] responseIds, float[] oldLogp, double reward, FinishReason finishReason) {

    public Trajectory {
        SpoArguments.require(questionId >= 0, "questionId must be >= 0, got " + questionId);
        SpoArguments.notNull(promptIds, "promptIds");
        SpoArguments.notNull(responseIds, "responseIds");
        SpoArguments.notNull(oldLogp, "oldLogp");
        SpoArguments.notNull(finishReason, "finishReason");
        SpoArguments.require(promptIds.length > 0, "promptIds must not be empty");
        SpoArguments.require(
                oldLogp.length == responseIds.length,
                "oldLogp has length " + oldLogp.length + ", expected the response length " + responseIds.length);
        SpoArguments.tokenIds(promptIds, "promptIds");
        SpoArguments.tokenIds(responseIds, "responseIds");
        SpoArguments.finite(oldLogp, "oldLogp");
        SpoArguments.finite(reward, "reward");
        promptIds = promptIds.clone();
        responseIds = responseIds.clone();
        oldLogp = oldLogp.clone();
    }

    /** L, the number of response tokens. */
    public int responseLength() {
        return responseIds.length;
    }

    /** p_t = exp(oldLogp_t), the old policy's probability of response token t at temperature T. */
    public double tokenProbability(int t) {
        return Math.exp(oldLogp[t]);
    }

    /**
     * The value of the finished trajectory, which ends the last segment's advantage (SPO_SPEC §2 "end value"):
     * R, or 0 when the response was cut by the length limit, as SPO scores truncated responses (§5, §8).
     */
    public double endValue() {
        return MonteCarloValue.score(reward, finishReason);
    }

    /** The state (x, y_&lt;responseTokens): the prompt and the first {@code responseTokens} response tokens. */
    public StatePrefix prefix(int responseTokens) {
        if (responseTokens < 0 || responseTokens > responseIds.length) {
            throw new IllegalArgumentException(
                    "responseTokens must be in [0, " + responseIds.length + "], got " + responseTokens);
        }
        // Both arrays are private and never written: the prefix may share the prompt.
        return StatePrefix.sharingPrompt(questionId, promptIds, Arrays.copyOf(responseIds, responseTokens));
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }

    @Override
    public int[] responseIds() {
        return responseIds.clone();
    }

    @Override
    public float[] oldLogp() {
        return oldLogp.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Trajectory t
                && questionId == t.questionId
                && Arrays.equals(promptIds, t.promptIds)
                && Arrays.equals(responseIds, t.responseIds)
                && Arrays.equals(oldLogp, t.oldLogp)
                && Double.compare(reward, t.reward) == 0
                && finishReason == t.finishReason;
    }

    @Override
    public int hashCode() {
        int h = Integer.hashCode(questionId);
        h = 31 * h + Arrays.hashCode(promptIds);
        h = 31 * h + Arrays.hashCode(responseIds);
        h = 31 * h + Arrays.hashCode(oldLogp);
        h = 31 * h + Double.hashCode(reward);
        return 31 * h + finishReason.hashCode();
    }

    @Override
    public String toString() {
        return "Trajectory[questionId=" + questionId + ", prompt=" + promptIds.length + " tokens, response="
                + responseIds.length + " tokens, reward=" + reward + ", finishReason=" + finishReason + "]";
    }
}
