package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.engine.Checks;
import java.util.Arrays;

/**
 * Many trees in flat arrays (the layout of {@code spo4j_tree_backup}): tree k is the nodes
 * [treeOffsets[k], treeOffsets[k+1]), its first node is its root ({@code parent} = {@link #NO_PARENT}), and
 * every other node's parent lies in the same tree at a smaller index. A node without children is a leaf,
 * valued at its {@code leafReward}; {@code weight} (optional, &gt; 0) is a node's weight in its parent's
 * mean.
 *
 * <p>Construction validates the structure and copies the arrays, so a {@code Forest} is always well
 * formed and immutable; its accessors return copies. Build one node by node with {@link #builder()}.
 */
public final class Forest {
    /** The parent of a root. */
    public static final int NO_PARENT = -1;

    private final int[] treeOffsets;
    private final int[] parent;
    private final float[] leafReward;
    private final float[] weight;

    private Forest(int[] treeOffsets, int[] parent, float[] leafReward, float[] weight) {
        this.treeOffsets = treeOffsets;
        this.parent = parent;
        this.leafReward = leafReward;
        this.weight = weight;
    }

    /**
     * A validated copy of the given layout.
     *
     * @param treeOffsets [T+1]: 0, strictly increasing, N
     * @param parent      [N]
     * @param leafReward  [N], finite at leaves (other entries are not read)
     * @param weight      [N] finite and &gt; 0, or null for equal weights
     * @throws IllegalArgumentException naming the argument and node when the layout is not a forest
     */
    public static Forest of(int[] treeOffsets, int[] parent, float[] leafReward, float[] weight) {
        validate(treeOffsets, parent, leafReward, weight);
        return new Forest(
                treeOffsets.clone(), parent.clone(), leafReward.clone(), weight == null ? null : weight.clone());
    }

    /** {@link #of(int[], int[], float[], float[])} with equal weights. */
    public static Forest of(int[] treeOffsets, int[] parent, float[] leafReward) {
        return of(treeOffsets, parent, leafReward, null);
    }

    /** A builder that takes nodes as a sampler produces them, trees interleaved. */
    public static ForestBuilder builder() {
        return new ForestBuilder();
    }

    /** Wraps arrays the caller hands over (already validated; not copied). */
    static Forest wrap(int[] treeOffsets, int[] parent, float[] leafReward, float[] weight) {
        return new Forest(treeOffsets, parent, leafReward, weight);
    }

    public int numTrees() {
        return treeOffsets.length - 1;
    }

    public int numNodes() {
        return parent.length;
    }

    /** Index of tree k's root, its first node. */
    public int treeStart(int k) {
        return treeOffsets[k];
    }

    public int treeSize(int k) {
        return treeOffsets[k + 1] - treeOffsets[k];
    }

    public int parent(int node) {
        return parent[node];
    }

    public float leafReward(int node) {
        return leafReward[node];
    }

    /** The node's weight (1 when the forest has none). */
    public float weight(int node) {
        return weight == null ? 1f : weight[node];
    }

    public boolean hasWeights() {
        return weight != null;
    }

    public int[] treeOffsets() {
        return treeOffsets.clone();
    }

    public int[] parents() {
        return parent.clone();
    }

    public float[] leafRewards() {
        return leafReward.clone();
    }

    /** A copy of the weights, or null for equal weights. */
    public float[] weights() {
        return weight == null ? null : weight.clone();
    }

    // The arrays themselves, for the facade and the reference (never handed to users).
    int[] treeOffsetsArray() {
        return treeOffsets;
    }

    int[] parentArray() {
        return parent;
    }

    float[] leafRewardArray() {
        return leafReward;
    }

    float[] weightArray() {
        return weight;
    }

    /**
     * Checks a forest layout; the messages are those of the native check. Sizes first, then
     * {@code treeOffsets}, then tree by tree: parents, weights, leaf rewards; the first fault is reported.
     *
     * @throws IllegalArgumentException naming the argument (and node) at fault
     */
    public static void validate(int[] treeOffsets, int[] parent, float[] leafReward, float[] weight) {
        Checks.notNull(treeOffsets, "treeOffsets");
        Checks.notNull(parent, "parent");
        Checks.notNull(leafReward, "leafReward");
        Checks.require(treeOffsets.length >= 1, "treeOffsets must have T+1 >= 1 entries");
        int n = parent.length;
        Checks.length(leafReward.length, n, "leafReward");
        if (weight != null) Checks.length(weight.length, n, "weight");
        int numTrees = treeOffsets.length - 1;
        Checks.require(treeOffsets[0] == 0, "treeOffsets[0] must be 0, got " + treeOffsets[0]);
        for (int k = 1; k <= numTrees; k++) {
            if (treeOffsets[k] <= treeOffsets[k - 1]) {
                throw new IllegalArgumentException("treeOffsets must be strictly increasing (every tree has a root): "
                        + "treeOffsets[" + k + "] = " + treeOffsets[k] + " <= treeOffsets[" + (k - 1) + "] = "
                        + treeOffsets[k - 1]);
            }
        }
        Checks.require(
                treeOffsets[numTrees] == n,
                "treeOffsets[T] must equal the node count N = " + n + ", got " + treeOffsets[numTrees]);
        int[] childCount = new int[n];
        for (int k = 0; k < numTrees; k++) {
            int begin = treeOffsets[k], end = treeOffsets[k + 1];
            for (int i = begin; i < end; i++) {
                int p = parent[i];
                if (i == begin) {
                    Checks.require(
                            p == NO_PARENT,
                            "parent[" + i + "] = " + p + ": node " + i + " starts tree " + k
                                    + " and must be its root (parent -1)");
                    continue;
                }
                Checks.require(p != NO_PARENT, "parent[" + i + "] = -1: tree " + k + " has a second root at node " + i);
                Checks.require(
                        !(p >= i && p < end),
                        "parent[" + i + "] = " + p
                                + ": a parent must come before its child (a later parent, or a cycle)");
                Checks.require(p >= begin && p < end, "parent[" + i + "] = " + p + " is outside tree " + k);
                childCount[p]++;
            }
            if (weight != null) {
                for (int i = begin; i < end; i++) {
                    Checks.require(
                            Float.isFinite(weight[i]) && weight[i] > 0,
                            "weight[" + i + "] = " + weight[i] + " must be finite and > 0");
                }
            }
            for (int i = begin; i < end; i++) {
                Checks.require(
                        childCount[i] > 0 || Float.isFinite(leafReward[i]),
                        "leafReward[" + i + "] = " + leafReward[i] + " is not finite (node " + i + " is a leaf)");
            }
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Forest f
                && Arrays.equals(treeOffsets, f.treeOffsets)
                && Arrays.equals(parent, f.parent)
                && Arrays.equals(leafReward, f.leafReward)
                && Arrays.equals(weight, f.weight);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(parent) * 31 + Arrays.hashCode(leafReward);
    }

    @Override
    public String toString() {
        return "Forest[trees=" + numTrees() + ", nodes=" + numNodes() + (weight != null ? ", weighted" : "") + "]";
    }
}
