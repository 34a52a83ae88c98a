package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.tasks.FinishReason;
import java.util.Arrays;

/**
 * One generated segment of a {@link SamplingTree} (SPO_SPEC §3): the M tokens (or fewer) that one sampling
 * request appended to its parent's text. Immutable; the arrays are copied in and out.
 *
 * <p>A node that finished ({@link FinishReason#EOS}, {@link FinishReason#STOP}) is a leaf and carries the reward
 * of its full text. A node that hit the segment limit ({@link FinishReason#LENGTH}) is expanded with children
 * unless it is at the tree's last level; its reward is not read while it has children, so a sampler may pass
 * {@link #NO_REWARD} for it.
 */
public final class TreeNode {
    /** Reward placeholder for a node that will be expanded (read only at leaves, which must be finite). */
    public static final float NO_REWARD = Float.NaN;

    private final int parent;
    private final int depth;
    private final int[] tokenIds;
    private final float[] oldLogp;
    private final float reward;
    private final FinishReason finishReason;

    /**
     * @param parent       index of the parent node in its tree, or {@link SamplingTree#ROOT} for a child of the prompt
     * @param depth        1 for a child of the prompt, the parent's depth + 1 otherwise
     * @param tokenIds     [M] the segment's token ids (may be empty)
     * @param oldLogp      [M] log-probs of those tokens under the sampling policy at generation time, at the
     *                     sampling temperature (SPO_SPEC §3: edges keep them as π_old); finite
     * @param reward       reward of the node's full text if it stays a leaf; any value (e.g. {@link #NO_REWARD})
     *                     for a node that gets children
     * @param finishReason why the segment ended
     * @throws IllegalArgumentException naming the argument at fault
     */
    public TreeNode(int parent, int depth, int[] tokenIds, float[] oldLogp, float reward, FinishReason finishReason) {
        SpoArguments.require(parent >= SamplingTree.ROOT, "parent = " + parent + " must be ROOT (-1) or a node index");
        SpoArguments.require(depth >= 1, "depth = " + depth + " must be >= 1 (the prompt is depth 0)");
        SpoArguments.tokenIds(tokenIds, "tokenIds");
        SpoArguments.finite(oldLogp, "oldLogp");
        SpoArguments.length(oldLogp.length, tokenIds.length, "oldLogp");
        SpoArguments.notNull(finishReason, "finishReason");
        this.parent = parent;
        this.depth = depth;
        this.tokenIds = tokenIds.clone();
        this.oldLogp = oldLogp.clone();
        this.reward = reward;
        this.finishReason = finishReason;
    }

    /** The parent's index in the tree, or {@link SamplingTree#ROOT}. */
    public int parent() {
        return parent;
    }

    /** Levels below the prompt: 1 for the prompt's children. */
    public int depth() {
        return depth;
    }

    /** A copy of the segment's token ids. */
    public int[] tokenIds() {
        return tokenIds.clone();
    }

    /** A copy of the segment's generation-time log-probs. */
    public float[] oldLogp() {
        return oldLogp.clone();
    }

    public int numTokens() {
        return tokenIds.length;
    }

    /** The reward given by the sampler (read only if the node is a leaf). */
    public float reward() {
        return reward;
    }

    public FinishReason finishReason() {
        return finishReason;
    }

    // Unshared views for this package's builders (never handed out).
    public int[] tokenIdsArray() {
        return tokenIds;
    }

    public float[] oldLogpArray() {
        return oldLogp;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TreeNode n
                && parent == n.parent
                && depth == n.depth
                && Arrays.equals(tokenIds, n.tokenIds)
                && Arrays.equals(oldLogp, n.oldLogp)
                && Float.compare(reward, n.reward) == 0
                && finishReason == n.finishReason;
    }

    @Override
    public int hashCode() {
        return (31 * parent + depth) * 31 + Arrays.hashCode(tokenIds);
    }

    @Override
    public String toString() {
        return "TreeNode[parent=" + parent + ", depth=" + depth + ", tokens=" + tokenIds.length + ", reward=" + reward
                + ", " + finishReason + "]";
    }
}
