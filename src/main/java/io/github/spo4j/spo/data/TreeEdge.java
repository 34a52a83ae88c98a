package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import java.util.Arrays;

/**
 * One SPO-tree training sample (SPO_SPEC §3): the edge from a node's parent to the node. The query is the
 * parent's full text (prompt plus ancestor segments), the response is the node's segment, and every response
 * token carries the same advantage A(node). The response's old log-probs are those computed at generation
 * time and travel with the edge, so an edge replayed in a later iteration still uses them as π_old (and for
 * the probability mask; SPO_SPEC §3, §10.5). Immutable; arrays are copied in and out.
 */
public final class TreeEdge {
    private final int questionId;
    private final int iteration;
    private final int[] queryIds;
    private final int[] responseIds;
    private final float[] oldLogp;
    private final float advantage;

    /**
     * @param questionId  the question the tree was grown for
     * @param iteration   the training iteration the edge was generated in, &gt;= 0
     * @param queryIds    the parent's full text as token ids, non-empty
     * @param responseIds the node's segment, non-empty
     * @param oldLogp     [responseIds.length] generation-time log-probs of the response tokens, finite
     * @param advantage   A(node), finite
     * @throws IllegalArgumentException naming the argument at fault
     */
    public TreeEdge(
            int questionId, int iteration, int[] queryIds, int[] responseIds, float[] oldLogp, float advantage) {
        SpoArguments.require(iteration >= 0, "iteration must be >= 0, got " + iteration);
        SpoArguments.tokenIds(queryIds, "queryIds");
        SpoArguments.require(queryIds.length > 0, "queryIds must not be empty");
        SpoArguments.tokenIds(responseIds, "responseIds");
        SpoArguments.require(responseIds.length > 0, "responseIds must not be empty");
        SpoArguments.finite(oldLogp, "oldLogp");
        SpoArguments.length(oldLogp.length, responseIds.length, "oldLogp");
        SpoArguments.finite(advantage, "advantage");
        this.questionId = questionId;
        this.iteration = iteration;
        this.queryIds = queryIds.clone();
        this.responseIds = responseIds.clone();
        this.oldLogp = oldLogp.clone();
        this.advantage = advantage;
    }

    public int questionId() {
        return questionId;
    }

    /** The iteration the edge was generated in (its age in the replay buffer counts from here). */
    public int iteration() {
        return iteration;
    }

    /** A copy of the query token ids (prompt + ancestors' segments). */
    public int[] queryIds() {
        return queryIds.clone();
    }

    /** A copy of the response token ids (the node's segment). */
    public int[] responseIds() {
        return responseIds.clone();
    }

    /** A copy of the response tokens' generation-time log-probs. */
    public float[] oldLogp() {
        return oldLogp.clone();
    }

    /** The advantage of every response token. */
    public float advantage() {
        return advantage;
    }

    public int queryLength() {
        return queryIds.length;
    }

    public int responseLength() {
        return responseIds.length;
    }

    public float[] oldLogpArray() {
        return oldLogp;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TreeEdge e
                && questionId == e.questionId
                && iteration == e.iteration
                && Float.compare(advantage, e.advantage) == 0
                && Arrays.equals(queryIds, e.queryIds)
                && Arrays.equals(responseIds, e.responseIds)
                && Arrays.equals(oldLogp, e.oldLogp);
    }

    @Override
    public int hashCode() {
        return ((31 * questionId + iteration) * 31 + Arrays.hashCode(responseIds)) * 31 + Float.hashCode(advantage);
    }

    @Override
    public String toString() {
        return "TreeEdge[question=" + questionId + ", iteration=" + iteration + ", query=" + queryIds.length
                + " tokens, response=" + responseIds.length + " tokens, advantage=" + advantage + "]";
    }
}
