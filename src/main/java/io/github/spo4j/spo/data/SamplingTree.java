package io.github.spo4j.spo.data;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One question's SPO-tree as sampled (SPO_SPEC §3): the prompt is the root (depth 0, implicit), and every
 * {@link TreeNode} is a segment generated from its parent's full text. A node at depth d &lt; maxDepth that hit
 * the segment limit is expanded; a finished node is a leaf; a node at depth maxDepth is a leaf whatever its
 * finish reason (its generation was unlimited except by the context, so {@link FinishReason#LENGTH} there
 * means it was truncated).
 *
 * <p>Nodes are indexed 0, 1, ... in the order they were added, a parent before its children, so the
 * asynchronous DFS of the reference code and a breadth-first sampler both fit. Validated on construction:
 *
 * <ul>
 *   <li>{@code promptIds} non-empty token ids; {@code maxDepth} &gt;= 1; at least one node;
 *   <li>each node's parent is {@link #ROOT} or an earlier node, and its depth is the parent's + 1, at most
 *       maxDepth;
 *   <li>a parent is unfinished ({@link FinishReason#LENGTH}): a finished text cannot be continued;
 *   <li>every leaf (a node without children) has a finite reward.
 * </ul>
 *
 * Immutable.
 */
public final class SamplingTree {
    /** The parent index that means "the prompt". */
    public static final int ROOT = -1;

    private final int questionId;
    private final int[] promptIds;
    private final int maxDepth;
    private final List<TreeNode> nodes;
    private final int[] childCount;

    private SamplingTree(int questionId, int[] promptIds, int maxDepth, List<TreeNode> nodes, int[] childCount) {
        this.questionId = questionId;
        this.promptIds = promptIds;
        this.maxDepth = maxDepth;
        this.nodes = nodes;
        this.childCount = childCount;
    }

    /**
     * A validated tree.
     *
     * @param questionId the question's id (its dataset index in SPO), the replay buffer's grouping key
     * @param promptIds  the prompt's token ids, non-empty
     * @param maxDepth   D, the number of levels below the prompt (3 for SPO's 6-6-6 trees)
     * @param nodes      the generated segments, parents before children
     * @throws IllegalArgumentException naming the argument (and node) at fault
     */
    public static SamplingTree of(int questionId, int[] promptIds, int maxDepth, List<TreeNode> nodes) {
        SpoArguments.tokenIds(promptIds, "promptIds");
        SpoArguments.require(promptIds.length > 0, "promptIds must not be empty");
        SpoArguments.require(maxDepth >= 1, "maxDepth must be >= 1, got " + maxDepth);
        SpoArguments.notNull(nodes, "nodes");
        SpoArguments.require(!nodes.isEmpty(), "nodes must not be empty (the prompt needs at least one child)");
        List<TreeNode> copy = new ArrayList<>(nodes.size());
        int[] childCount = new int[nodes.size()];
        for (int i = 0; i < nodes.size(); i++) {
            TreeNode node = nodes.get(i);
            SpoArguments.require(node != null, "nodes[" + i + "] is null");
            int p = node.parent();
            SpoArguments.require(
                    p < i,
                    "parent of node " + i + " = " + p
                            + " must be ROOT (-1) or an earlier node (a parent is added before its children)");
            int expectedDepth = p == ROOT ? 1 : nodes.get(p).depth() + 1;
            SpoArguments.require(
                    node.depth() == expectedDepth,
                    "depth of node " + i + " = " + node.depth() + ", expected " + expectedDepth
                            + " (its parent's depth + 1)");
            SpoArguments.require(
                    node.depth() <= maxDepth,
                    "depth of node " + i + " = " + node.depth() + " exceeds maxDepth = " + maxDepth);
            if (p != ROOT) {
                SpoArguments.require(
                        nodes.get(p).finishReason() == FinishReason.LENGTH,
                        "parent of node " + i + " = " + p + " finished with "
                                + nodes.get(p).finishReason() + " and cannot be continued");
                childCount[p]++;
            }
            copy.add(node);
        }
        for (int i = 0; i < copy.size(); i++) {
            if (childCount[i] == 0 && !Float.isFinite(copy.get(i).reward())) {
                throw new IllegalArgumentException("reward of node " + i + " = "
                        + copy.get(i).reward() + " is not finite (node " + i + " is a leaf)");
            }
        }
        return new SamplingTree(
                questionId, promptIds.clone(), maxDepth, Collections.unmodifiableList(copy), childCount);
    }

    /** A builder that takes nodes as a sampler produces them. */
    public static Builder builder(int questionId, int[] promptIds, int maxDepth) {
        return new Builder(questionId, promptIds, maxDepth);
    }

    public int questionId() {
        return questionId;
    }

    /** A copy of the prompt's token ids. */
    public int[] promptIds() {
        return promptIds.clone();
    }

    public int maxDepth() {
        return maxDepth;
    }

    public int numNodes() {
        return nodes.size();
    }

    public TreeNode node(int i) {
        return nodes.get(i);
    }

    /** The nodes, unmodifiable. */
    public List<TreeNode> nodes() {
        return nodes;
    }

    public int childCount(int node) {
        return childCount[node];
    }

    /** A node without children: valued at its (scored) reward. */
    public boolean isLeaf(int node) {
        return childCount[node] == 0;
    }

    /**
     * The text a node's segment continues, as token ids: the prompt followed by the segments of the node's
     * ancestors, root side first (the parent's full prefix; SPO_SPEC §3's edge query).
     */
    public int[] queryIds(int node) {
        int length = promptIds.length;
        for (int a = nodes.get(node).parent(); a != ROOT; a = nodes.get(a).parent()) {
            length += nodes.get(a).numTokens();
        }
        int[] query = Arrays.copyOf(promptIds, length);
        int end = length;
        for (int a = nodes.get(node).parent(); a != ROOT; a = nodes.get(a).parent()) {
            int[] segment = nodes.get(a).tokenIdsArray();
            end -= segment.length;
            System.arraycopy(segment, 0, query, end, segment.length);
        }
        return query;
    }

    @Override
    public String toString() {
        return "SamplingTree[question=" + questionId + ", prompt=" + promptIds.length + " tokens, maxDepth=" + maxDepth
                + ", nodes=" + nodes.size() + "]";
    }

    /**
     * Collects a tree's nodes in the order a sampler produces them; the depth of each node is derived from
     * its parent. {@link #build()} validates.
     *
     * <pre>{@code
     * SamplingTree.Builder b = SamplingTree.builder(questionId, promptIds, 3);
     * int mid = b.add(SamplingTree.ROOT, segment, logp, TreeNode.NO_REWARD, FinishReason.LENGTH);
     * b.add(mid, tail, tailLogp, 1f, FinishReason.EOS);
     * SamplingTree tree = b.build();
     * }</pre>
     */
    public static final class Builder {
        private final int questionId;
        private final int[] promptIds;
        private final int maxDepth;
        private final List<TreeNode> nodes = new ArrayList<>();

        private Builder(int questionId, int[] promptIds, int maxDepth) {
            this.questionId = questionId;
            this.promptIds = SpoArguments.notNull(promptIds, "promptIds").clone();
            this.maxDepth = maxDepth;
        }

        /**
         * Adds a generated segment.
         *
         * @param parent SamplingTree.ROOT or the index a previous {@code add} returned
         * @return the new node's index
         * @throws IllegalArgumentException naming the argument at fault
         */
        public int add(int parent, int[] tokenIds, float[] oldLogp, float reward, FinishReason finishReason) {
            SpoArguments.require(
                    parent >= ROOT && parent < nodes.size(),
                    "parent = " + parent + " must be ROOT (-1) or a node added before (0.." + (nodes.size() - 1) + ")");
            int depth = parent == ROOT ? 1 : nodes.get(parent).depth() + 1;
            nodes.add(new TreeNode(parent, depth, tokenIds, oldLogp, reward, finishReason));
            return nodes.size() - 1;
        }

        public int numNodes() {
            return nodes.size();
        }

        /** The validated tree. */
        public SamplingTree build() {
            return SamplingTree.of(questionId, promptIds, maxDepth, nodes);
        }
    }
}
