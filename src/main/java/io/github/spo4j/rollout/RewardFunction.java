package io.github.spo4j.rollout;

import io.github.spo4j.tasks.FinishReason;

/** Scores one complete response to a question (the task's reward, SPO_SPEC §1): finite. */
@FunctionalInterface
public interface RewardFunction {
    /**
     * @param questionId   the question the response answers
     * @param responseIds  the whole response's tokens (every segment, the stop token included)
     * @param finishReason how it ended; SPO scores a LENGTH-truncated response 0 whatever this returns
     */
    double score(int questionId, int[] responseIds, FinishReason finishReason);
}
