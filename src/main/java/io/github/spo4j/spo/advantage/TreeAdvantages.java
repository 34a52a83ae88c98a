package io.github.spo4j.spo.advantage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupResult;
import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.List;

/**
 * SPO-tree advantages (SPO_SPEC §3) for a batch of {@link SamplingTree}s, in one {@link TreeBackup} call.
 *
 * <pre>
 *   leaf:  V(n) = R(n)   (0 for a truncated leaf under {@link TruncatedLeafScoring#ZERO})
 *   inner: V(n) = mean of V(c) over n's children    (each child counts once: V(Pa) = (1 + 2/3 + 0)/3)
 *   edge:  A(n) = V(n) − V(parent(n))               (the prompt is the root; its value is V of the tree)
 * </pre>
 *
 * That is {@link TreeBackupConfig#spoTree()}; the kernel's other modes (sibling-std, leave-one-out, leaf-mean)
 * are chosen with the config. The batch is laid out as one {@link Forest}: tree k's prompt is its root and its
 * nodes follow in their own order. Every non-root node with A ≠ 0 and a non-empty segment becomes a
 * {@link TreeEdge} (the reference's {@code only_adv_greater_than_zero} keeps A ≠ 0 in practice, and it drops
 * empty segments).
 *
 * <p>Immutable and thread-safe.
 */
public final class TreeAdvantages {

    /** How a truncated leaf (finish reason {@link FinishReason#LENGTH}, no children) is scored. */
    public enum TruncatedLeafScoring {
        /**
         * 0, the reward of an unfinished response (SPO_SPEC §3, §5: the sound choice). Such a leaf is normally a
         * last-level node that ran into the context limit; a sampler that leaves a shallower LENGTH node
         * unexpanded gets the same rule.
         */
        ZERO,
        /** The reward the sampler gave the node: the reference code's quirk (its reward of the last segment). */
        OWN_REWARD
    }

    private final TreeBackup backup;
    private final TreeBackupConfig config;
    private final TruncatedLeafScoring truncatedLeafScoring;

    /**
     * @param backend              where the backup runs (a host backend: CPU or REFERENCE)
     * @param config               value and advantage modes
     * @param truncatedLeafScoring how truncated leaves are scored
     * @throws IllegalArgumentException naming a null argument; {@link IllegalStateException} if the backend
     *                                  cannot run here
     */
    public TreeAdvantages(Backend backend, TreeBackupConfig config, TruncatedLeafScoring truncatedLeafScoring) {
        SpoArguments.notNull(backend, "backend");
        this.config = SpoArguments.notNull(config, "config");
        this.truncatedLeafScoring = SpoArguments.notNull(truncatedLeafScoring, "truncatedLeafScoring");
        this.backup = TreeBackup.create(backend);
    }

    /** SPO-tree as released, truncated leaves scored 0, on {@link Backend#autoHost()}. */
    public static TreeAdvantages create() {
        return new TreeAdvantages(Backend.autoHost(), TreeBackupConfig.spoTree(), TruncatedLeafScoring.ZERO);
    }

    public Backend backend() {
        return backup.backend();
    }

    public TreeBackupConfig config() {
        return config;
    }

    public TruncatedLeafScoring truncatedLeafScoring() {
        return truncatedLeafScoring;
    }

    /**
     * Values, advantages and training edges of a batch of trees.
     *
     * @param trees     the batch, non-empty
     * @param iteration the training iteration the trees were sampled in (tagged on the edges), &gt;= 0
     * @throws IllegalArgumentException naming the argument at fault
     */
    public TreeAdvantageResult compute(List<SamplingTree> trees, int iteration) {
        SpoArguments.notNull(trees, "trees");
        SpoArguments.require(!trees.isEmpty(), "trees must not be empty");
        SpoArguments.require(iteration >= 0, "iteration must be >= 0, got " + iteration);
        int numTrees = trees.size();
        int[] treeOffsets = new int[numTrees + 1];
        for (int k = 0; k < numTrees; k++) {
            SpoArguments.require(trees.get(k) != null, "trees[" + k + "] is null");
            treeOffsets[k + 1] = treeOffsets[k] + 1 + trees.get(k).numNodes();
        }
        int n = treeOffsets[numTrees];
        int[] parent = new int[n];
        float[] leafReward = new float[n];
        float[][] scoredReward = new float[numTrees][];
        for (int k = 0; k < numTrees; k++) {
            SamplingTree tree = trees.get(k);
            int root = treeOffsets[k];
            parent[root] = Forest.NO_PARENT;
            scoredReward[k] = new float[tree.numNodes()];
            for (int i = 0; i < tree.numNodes(); i++) {
                TreeNode node = tree.node(i);
                parent[root + 1 + i] = node.parent() == SamplingTree.ROOT ? root : root + 1 + node.parent();
                float r = tree.isLeaf(i) ? score(node) : Float.NaN;
                scoredReward[k][i] = r;
                leafReward[root + 1 + i] = tree.isLeaf(i) ? r : 0f; // inner nodes' entries are not read
            }
        }
        TreeBackupResult r = backup.backup(config, Forest.of(treeOffsets, parent, leafReward));

        List<TreeEdge> edges = new ArrayList<>();
        float[] rootValue = new float[numTrees];
        float[][] value = new float[numTrees][], advantage = new float[numTrees][];
        int[] edgeCount = new int[numTrees];
        for (int k = 0; k < numTrees; k++) {
            SamplingTree tree = trees.get(k);
            int first = treeOffsets[k] + 1;
            rootValue[k] = r.value()[treeOffsets[k]];
            value[k] = java.util.Arrays.copyOfRange(r.value(), first, first + tree.numNodes());
            advantage[k] = java.util.Arrays.copyOfRange(r.advantage(), first, first + tree.numNodes());
            for (int i = 0; i < tree.numNodes(); i++) {
                TreeNode node = tree.node(i);
                if (advantage[k][i] == 0f || node.numTokens() == 0) continue;
                edges.add(new TreeEdge(
                        tree.questionId(),
                        iteration,
                        tree.queryIds(i),
                        node.tokenIdsArray(),
                        node.oldLogpArray(),
                        advantage[k][i]));
                edgeCount[k]++;
            }
        }
        return new TreeAdvantageResult(edges, rootValue, value, advantage, scoredReward, edgeCount);
    }

    private float score(TreeNode leaf) {
        if (leaf.finishReason() == FinishReason.LENGTH && truncatedLeafScoring == TruncatedLeafScoring.ZERO) return 0f;
        return leaf.reward();
    }
}
