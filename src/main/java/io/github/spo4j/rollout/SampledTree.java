package io.github.spo4j.rollout;

import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One prompt's tree as {@link TreeSampler} sampled it, before scoring: nodes in breadth-first order (a parent before
 * its children), each a segment with its tokens, old log-probs and finish reason. {@link #toSamplingTree} scores the
 * leaves and gives the SPO core's {@link SamplingTree}.
 */
public final class SampledTree {
    /** One segment. {@code parent} is {@link SamplingTree#ROOT} for the prompt's children. */
    public record Node(int parent, int depth, long streamId, Completion segment) {}

    private final int[] promptIds;
    private final int maxDepth;
    private final List<Node> nodes;
    private final int[] childCount;

    SampledTree(int[] promptIds, int maxDepth, List<Node> nodes) {
        this.promptIds = promptIds.clone();
        this.maxDepth = maxDepth;
        this.nodes = List.copyOf(nodes);
        childCount = new int[nodes.size()];
        for (Node n : nodes) if (n.parent() != SamplingTree.ROOT) childCount[n.parent()]++;
    }

    public int[] promptIds() {
        return promptIds.clone();
    }

    public int maxDepth() {
        return maxDepth;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public int numNodes() {
        return nodes.size();
    }

    public boolean isLeaf(int node) {
        return childCount[node] == 0;
    }

    /** The leaves' indices, in node order. */
    public int[] leaves() {
        return java.util.stream.IntStream.range(0, nodes.size())
                .filter(this::isLeaf)
                .toArray();
    }

    /** The nodes from the prompt's child down to {@code node}. */
    public int[] path(int node) {
        List<Integer> p = new ArrayList<>();
        for (int n = node; n != SamplingTree.ROOT; n = nodes.get(n).parent()) p.add(0, n);
        return p.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The response up to and including {@code node}'s segment: its ancestors' segments and its own. */
    public int[] responseIds(int node) {
        int[] out = new int[0];
        for (int n : path(node)) {
            int[] seg = nodes.get(n).segment().tokens();
            int at = out.length;
            out = Arrays.copyOf(out, at + seg.length);
            System.arraycopy(seg, 0, out, at, seg.length);
        }
        return out;
    }

    /** Generated tokens in the whole tree (each shared segment once). */
    public long generatedTokens() {
        long n = 0;
        for (Node node : nodes) n += node.segment().length();
        return n;
    }

    /**
     * The tree for the SPO core, each leaf scored by {@code reward} on its whole response; inner nodes carry
     * {@link TreeNode#NO_REWARD}.
     */
    public SamplingTree toSamplingTree(int questionId, RewardFunction reward) {
        return toSamplingTree(questionId, reward, null);
    }

    /**
     * {@link #toSamplingTree(int, RewardFunction)} with each node's π_old log-probs given (a trainer's batched
     * forward, SPO_SPEC §3) instead of the sampler's.
     *
     * @param oldLogp [nodes][segment length] log-probs per node, or null for the sampler's
     */
    public SamplingTree toSamplingTree(int questionId, RewardFunction reward, float[][] oldLogp) {
        if (reward == null) throw new IllegalArgumentException("reward must not be null");
        if (oldLogp != null && oldLogp.length != nodes.size()) {
            throw new IllegalArgumentException(
                    "oldLogp has " + oldLogp.length + " rows, expected " + nodes.size() + " nodes");
        }
        List<TreeNode> out = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Completion c = n.segment();
            float r = TreeNode.NO_REWARD;
            if (isLeaf(i)) r = (float) reward.score(questionId, responseIds(i), c.finishReason());
            float[] logp = oldLogp == null ? c.logprobs() : oldLogp[i];
            if (logp == null || logp.length != c.length()) {
                throw new IllegalArgumentException("oldLogp[" + i + "] must hold " + c.length() + " log-probs");
            }
            out.add(new TreeNode(n.parent(), n.depth(), c.tokens(), logp, r, c.finishReason()));
        }
        return SamplingTree.of(questionId, promptIds, maxDepth, out);
    }

    /** Whether a leaf's response finished (EOS or stop string) rather than being cut. */
    public boolean finished(int node) {
        FinishReason f = nodes.get(node).segment().finishReason();
        return f.finished();
    }
}
