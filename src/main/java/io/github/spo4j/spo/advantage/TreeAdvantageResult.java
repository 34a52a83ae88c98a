package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.data.TreeEdge;
import java.util.Collections;
import java.util.List;

/**
 * What {@link TreeAdvantages#compute} gives for a batch of T trees: the training edges, and per tree the
 * prompt's value and each node's value, advantage and scored reward (for logging). Per-node arrays are
 * indexed like the tree's nodes. Immutable; arrays are copied out.
 */
public final class TreeAdvantageResult {
    private final List<TreeEdge> edges;
    private final float[] rootValue;
    private final float[][] value;
    private final float[][] advantage;
    private final float[][] scoredReward;
    private final int[] edgeCount;

    TreeAdvantageResult(
            List<TreeEdge> edges,
            float[] rootValue,
            float[][] value,
            float[][] advantage,
            float[][] scoredReward,
            int[] edgeCount) {
        this.edges = Collections.unmodifiableList(edges);
        this.rootValue = rootValue;
        this.value = value;
        this.advantage = advantage;
        this.scoredReward = scoredReward;
        this.edgeCount = edgeCount;
    }

    /** The training edges of every tree, tree by tree, each tree's in node order; unmodifiable. */
    public List<TreeEdge> edges() {
        return edges;
    }

    public int numTrees() {
        return rootValue.length;
    }

    /** V of tree k's prompt (the mean of its children's values). */
    public float rootValue(int tree) {
        return rootValue[tree];
    }

    /** [nodes] V(n) of tree k's nodes. */
    public float[] values(int tree) {
        return value[tree].clone();
    }

    /** [nodes] A(n) of tree k's nodes. */
    public float[] advantages(int tree) {
        return advantage[tree].clone();
    }

    /** [nodes] the reward each leaf of tree k was valued at (after truncation scoring); NaN at inner nodes. */
    public float[] scoredRewards(int tree) {
        return scoredReward[tree].clone();
    }

    /** Number of edges tree k contributed. */
    public int edgeCount(int tree) {
        return edgeCount[tree];
    }
}
