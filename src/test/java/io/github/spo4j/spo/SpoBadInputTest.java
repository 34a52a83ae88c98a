package io.github.spo4j.spo;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.loss.AdvantageWhitening;
import io.github.spo4j.kernels.loss.ProbabilityMask;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.spo.advantage.GroupAdvantages;
import io.github.spo4j.spo.advantage.GroupAdvantages.StdEstimator;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.advantage.TreeAdvantages.TruncatedLeafScoring;
import io.github.spo4j.spo.advantage.Whitening;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.spo.replay.ReplayBuffer;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every public entry of the SPO-tree code rejects bad input with an IllegalArgumentException naming the argument. */
class SpoBadInputTest {
    private static final int[] PROMPT = {1, 2};
    private static final float[] LOGP1 = {-0.5f};

    private static void assertRejected(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, argument);
        assertTrue(
                e.getMessage() != null && e.getMessage().contains(argument),
                "message should name '" + argument + "': " + e.getMessage());
    }

    private static TreeNode leaf(int parent, int depth, float reward) {
        return new TreeNode(parent, depth, new int[] {5}, LOGP1, reward, FinishReason.EOS);
    }

    private static TreeNode inner(int parent, int depth) {
        return new TreeNode(parent, depth, new int[] {5}, LOGP1, TreeNode.NO_REWARD, FinishReason.LENGTH);
    }

    @Test
    void treeNodes() {
        assertRejected("tokenIds", () -> new TreeNode(-1, 1, null, LOGP1, 0f, FinishReason.EOS));
        assertRejected("oldLogp", () -> new TreeNode(-1, 1, new int[] {5}, null, 0f, FinishReason.EOS));
        assertRejected("oldLogp", () -> new TreeNode(-1, 1, new int[] {5, 6}, LOGP1, 0f, FinishReason.EOS));
        assertRejected(
                "oldLogp", () -> new TreeNode(-1, 1, new int[] {5}, new float[] {Float.NaN}, 0f, FinishReason.EOS));
        assertRejected("tokenIds", () -> new TreeNode(-1, 1, new int[] {-3}, LOGP1, 0f, FinishReason.EOS));
        assertRejected("finishReason", () -> new TreeNode(-1, 1, new int[] {5}, LOGP1, 0f, null));
        assertRejected("parent", () -> new TreeNode(-2, 1, new int[] {5}, LOGP1, 0f, FinishReason.EOS));
        assertRejected("depth", () -> new TreeNode(-1, 0, new int[] {5}, LOGP1, 0f, FinishReason.EOS));
    }

    @Test
    void samplingTrees() {
        assertRejected("promptIds", () -> SamplingTree.of(0, new int[0], 2, List.of(leaf(-1, 1, 1f))));
        assertRejected("promptIds", () -> SamplingTree.of(0, null, 2, List.of(leaf(-1, 1, 1f))));
        assertRejected("maxDepth", () -> SamplingTree.of(0, PROMPT, 0, List.of(leaf(-1, 1, 1f))));
        assertRejected("nodes", () -> SamplingTree.of(0, PROMPT, 2, List.of()));
        assertRejected("nodes", () -> SamplingTree.of(0, PROMPT, 2, null));
        assertRejected("nodes", () -> SamplingTree.of(0, PROMPT, 2, Arrays.asList(leaf(-1, 1, 1f), null)));
        // Broken parent links: a parent after its child, a parent pointing at itself.
        assertRejected("parent", () -> SamplingTree.of(0, PROMPT, 2, List.of(leaf(1, 2, 1f), inner(-1, 1))));
        assertRejected("parent", () -> SamplingTree.of(0, PROMPT, 2, List.of(inner(-1, 1), inner(1, 2))));
        assertRejected("depth", () -> SamplingTree.of(0, PROMPT, 3, List.of(inner(-1, 1), leaf(0, 3, 1f))));
        assertRejected("depth", () -> SamplingTree.of(0, PROMPT, 1, List.of(inner(-1, 1), leaf(0, 2, 1f))));
        assertRejected("parent", () -> SamplingTree.of(0, PROMPT, 2, List.of(leaf(-1, 1, 1f), leaf(0, 2, 1f))));
        assertRejected("reward", () -> SamplingTree.of(0, PROMPT, 2, List.of(leaf(-1, 1, Float.NaN))));
        assertRejected("reward", () -> SamplingTree.of(0, PROMPT, 2, List.of(inner(-1, 1))));
        assertRejected("reward", () -> SamplingTree.of(0, PROMPT, 2, List.of(leaf(-1, 1, Float.POSITIVE_INFINITY))));

        SamplingTree.Builder b = SamplingTree.builder(0, PROMPT, 2);
        assertRejected("parent", () -> b.add(0, new int[] {1}, LOGP1, 1f, FinishReason.EOS));
        assertRejected("oldLogp", () -> b.add(-1, new int[] {1}, new float[0], 1f, FinishReason.EOS));
        assertRejected("promptIds", () -> SamplingTree.builder(0, null, 2));
    }

    @Test
    void treeAdvantages() {
        SamplingTree tree = SamplingTree.of(0, PROMPT, 1, List.of(leaf(-1, 1, 1f), leaf(-1, 1, 0f)));
        TreeAdvantages t = TreeAdvantages.create();
        assertRejected("trees", () -> t.compute(List.of(), 0));
        assertRejected("trees", () -> t.compute(null, 0));
        assertRejected("trees", () -> t.compute(Arrays.asList(tree, null), 0));
        assertRejected("iteration", () -> t.compute(List.of(tree), -1));
        assertRejected(
                "backend", () -> new TreeAdvantages(null, TreeBackupConfig.spoTree(), TruncatedLeafScoring.ZERO));
        assertRejected("config", () -> new TreeAdvantages(Backend.REFERENCE, null, TruncatedLeafScoring.ZERO));
        assertRejected(
                "truncatedLeafScoring", () -> new TreeAdvantages(Backend.REFERENCE, TreeBackupConfig.spoTree(), null));
    }

    @Test
    void treeEdges() {
        int[] q = {1}, r = {2};
        assertRejected("queryIds", () -> new TreeEdge(0, 0, new int[0], r, LOGP1, 1f));
        assertRejected("responseIds", () -> new TreeEdge(0, 0, q, new int[0], new float[0], 1f));
        assertRejected("oldLogp", () -> new TreeEdge(0, 0, q, r, new float[] {-1f, -1f}, 1f));
        assertRejected("oldLogp", () -> new TreeEdge(0, 0, q, r, new float[] {Float.NaN}, 1f));
        assertRejected("advantage", () -> new TreeEdge(0, 0, q, r, LOGP1, Float.NaN));
        assertRejected("iteration", () -> new TreeEdge(0, -1, q, r, LOGP1, 1f));
        assertRejected("responseIds", () -> new TreeEdge(0, 0, q, null, LOGP1, 1f));
    }

    @Test
    void groupAdvantages() {
        assertRejected("rewards", () -> GroupAdvantages.grpo(new float[0], StdEstimator.BESSEL, 1e-6f));
        assertRejected("rewards", () -> GroupAdvantages.grpo(null, StdEstimator.BESSEL, 1e-6f));
        assertRejected("rewards", () -> GroupAdvantages.drGrpo(new float[] {1f, Float.NaN}));
        assertRejected("rewards", () -> GroupAdvantages.rloo(new float[] {Float.NEGATIVE_INFINITY}));
        assertRejected("std", () -> GroupAdvantages.grpo(new float[] {1f}, null, 1e-6f));
        assertRejected("eps", () -> GroupAdvantages.grpo(new float[] {1f}, StdEstimator.POPULATION, -1f));
        assertRejected("eps", () -> GroupAdvantages.grpo(new float[] {1f}, StdEstimator.POPULATION, Float.NaN));
        float[] four = {1, 0, 1, 0};
        assertRejected("groupOffsets", () -> GroupAdvantages.rloo(four, new int[] {0, 2, 2, 4}));
        assertRejected("groupOffsets", () -> GroupAdvantages.rloo(four, new int[] {0, 3}));
        assertRejected("groupOffsets", () -> GroupAdvantages.drGrpo(four, new int[] {1, 4}));
        assertRejected("groupOffsets", () -> GroupAdvantages.drGrpo(four, new int[] {0}));
        assertRejected("groupOffsets", () -> GroupAdvantages.grpo(four, null, StdEstimator.BESSEL, 0f));
    }

    @Test
    void maskAndWhitening() {
        float[] a = {1f, 2f}, old = {-1f, -1f};
        for (float rho : new float[] {0f, -0.5f, 1.5f, Float.NaN}) {
            assertRejected("rho", () -> ProbabilityMask.mask(old, null, rho));
            assertRejected("rho", () -> ProbabilityMask.keeps(-1f, rho));
            assertRejected("rho", () -> ProbabilityMask.logThreshold(rho));
            assertRejected("rho", () -> Whitening.microBatch(a, old, null, rho));
        }
        assertRejected("oldLogp", () -> ProbabilityMask.keeps(Float.NaN, 0.9f));
        assertRejected("oldLogp", () -> ProbabilityMask.mask(new float[] {Float.NaN}, null, 0.9f));
        assertRejected("oldLogp", () -> ProbabilityMask.mask(null, null, 0.9f));
        assertRejected("response", () -> ProbabilityMask.mask(old, new boolean[3], 0.9f));
        assertRejected("advantages", () -> AdvantageWhitening.moments(new float[] {Float.NaN}, null));
        assertRejected("over", () -> AdvantageWhitening.moments(a, new boolean[1]));
        assertRejected("kept", () -> AdvantageWhitening.whiten(a, new boolean[1], null, 1e-8f));
        assertRejected("eps", () -> AdvantageWhitening.whiten(a, new boolean[2], null, -1f));
        assertRejected("kept", () -> AdvantageWhitening.statisticsMask(null, null));

        assertRejected("oldLogp", () -> Whitening.microBatch(a, new float[1], null, 0.9f));
        assertRejected("advantages", () -> Whitening.microBatch(new float[] {Float.NaN, 0f}, old, null, 0.9f));
        assertRejected("advantages", () -> Whitening.microBatch(null, old, null, 0.9f));
        assertRejected("response", () -> Whitening.microBatch(a, old, new boolean[5], 0.9f));
        assertRejected("eps", () -> Whitening.microBatch(a, old, null, 0.9f, Float.NaN));
        assertRejected("seqOffsets", () -> Whitening.perMicroBatch(new int[] {0, 1}, 1, a, old, null, 0.9f, 1e-8f));
        assertRejected("seqOffsets", () -> Whitening.perMicroBatch(null, 1, a, old, null, 0.9f, 1e-8f));
        assertRejected(
                "sequencesPerMicroBatch",
                () -> Whitening.perMicroBatch(new int[] {0, 2}, 0, a, old, null, 0.9f, 1e-8f));
        assertRejected("rho", () -> Whitening.perMicroBatch(new int[] {0, 2}, 1, a, old, null, 2f, 1e-8f));
        assertRejected("microBatch", () -> Whitening.edges(List.of(), 0.9f));
        assertRejected("microBatch", () -> Whitening.edges(null, 0.9f));
        TreeEdge e = new TreeEdge(0, 0, new int[] {1}, new int[] {2}, LOGP1, 1f);
        assertRejected("rho", () -> Whitening.edges(List.of(e), 0f));
    }

    @Test
    void replayBuffer() {
        assertRejected("episodesPerIteration", () -> new ReplayBuffer(0, 1));
        assertRejected("maxAge", () -> new ReplayBuffer(8, 0, 32, 1));
        assertRejected("maxPerQuestion", () -> new ReplayBuffer(8, 8, -1, 1));
        ReplayBuffer buffer = new ReplayBuffer(8, 1);
        TreeEdge e3 = new TreeEdge(0, 3, new int[] {1}, new int[] {2}, LOGP1, 1f);
        assertRejected("newEdges", () -> buffer.nextBatch(2, List.of(e3)));
        assertRejected("newEdges", () -> buffer.nextBatch(3, null));
        List<TreeEdge> withNull = new ArrayList<>();
        withNull.add(null);
        assertRejected("newEdges", () -> buffer.nextBatch(3, withNull));
        assertRejected("iteration", () -> buffer.nextBatch(-1, List.of()));
        buffer.nextBatch(3, List.of(e3));
        assertRejected("iteration", () -> buffer.nextBatch(2, List.of()));
    }
}
