package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.advantage.ValueEstimator;
import java.util.Arrays;

/**
 * A boundary state s = (x, y_&lt;b) of one question: the prompt followed by the first b response tokens. It is what
 * a {@link ValueEstimator} continues from, and the key under which identical states of a batch are estimated once
 * (SPO_SPEC §2, §9 "deduplicated by exact prefix").
 *
 * <p>Two prefixes are equal when question id, prompt tokens and response-prefix tokens are all equal. The question
 * id is part of the key because rollouts are scored against that question's answer; the reference deduplicates by
 * prefix text alone, which differs only when two questions share a prompt. Immutable.
 */
public final class StatePrefix {
    private final int questionId;
    private final int[] promptIds;
    private final int[] responsePrefixIds;
    private final int hash;

    /**
     * @param questionId        the question the state belongs to, &gt;= 0
     * @param promptIds         [P] prompt token ids, non-empty, no negative id
     * @param responsePrefixIds [b] the response tokens generated so far, no negative id (empty: the prompt alone)
     */
    public StatePrefix(int questionId, int[] promptIds, int[] responsePrefixIds) {
        this(checked(questionId, promptIds, responsePrefixIds).clone(), questionId, responsePrefixIds.clone());
    }

    private StatePrefix(int[] promptIds, int questionId, int[] responsePrefixIds) {
        this.questionId = questionId;
        this.promptIds = promptIds;
        this.responsePrefixIds = responsePrefixIds;
        this.hash = 31 * (31 * Integer.hashCode(questionId) + Arrays.hashCode(promptIds))
                + Arrays.hashCode(responsePrefixIds);
    }

    /** For {@link Trajectory#prefix}: shares the (never written) prompt array, owns the response prefix. */
    static StatePrefix sharingPrompt(int questionId, int[] promptIds, int[] ownedResponsePrefix) {
        return new StatePrefix(promptIds, questionId, ownedResponsePrefix);
    }

    private static int[] checked(int questionId, int[] promptIds, int[] responsePrefixIds) {
        SpoArguments.require(questionId >= 0, "questionId must be >= 0, got " + questionId);
        SpoArguments.notNull(promptIds, "promptIds");
        SpoArguments.notNull(responsePrefixIds, "responsePrefixIds");
        SpoArguments.require(promptIds.length > 0, "promptIds must not be empty");
        SpoArguments.tokenIds(promptIds, "promptIds");
        SpoArguments.tokenIds(responsePrefixIds, "responsePrefixIds");
        return promptIds;
    }

    public int questionId() {
        return questionId;
    }

    /** [P] a copy of the prompt token ids. */
    public int[] promptIds() {
        return promptIds.clone();
    }

    /** [b] a copy of the response tokens before the boundary. */
    public int[] responsePrefixIds() {
        return responsePrefixIds.clone();
    }

    public int promptLength() {
        return promptIds.length;
    }

    /** b, the number of response tokens in the state (0: the prompt alone). */
    public int responsePrefixLength() {
        return responsePrefixIds.length;
    }

    /** [P + b] prompt and response prefix in one array: the token sequence a rollout continues. */
    public int[] tokens() {
        int[] all = Arrays.copyOf(promptIds, promptIds.length + responsePrefixIds.length);
        System.arraycopy(responsePrefixIds, 0, all, promptIds.length, responsePrefixIds.length);
        return all;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StatePrefix s
                && hash == s.hash
                && questionId == s.questionId
                && Arrays.equals(responsePrefixIds, s.responsePrefixIds)
                && Arrays.equals(promptIds, s.promptIds);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "StatePrefix[questionId=" + questionId + ", prompt=" + promptIds.length + " tokens, response prefix="
                + Arrays.toString(responsePrefixIds) + "]";
    }
}
