package io.github.spo4j.spo.advantage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.tree.TreeAdvantageMode;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.spo.advantage.TreeAdvantages.TruncatedLeafScoring;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** SPO-tree values, advantages and edges (SPO_SPEC §3) against hand-computed trees and random-tree properties. */
class TreeAdvantagesTest {
    private static final int[] PROMPT = {7, 8, 9};

    static Stream<Backend> hostBackends() {
        return Stream.of(Backend.REFERENCE, Backend.CPU).filter(Backend::isAvailable);
    }

    private static TreeAdvantages spoTree(Backend backend) {
        return new TreeAdvantages(backend, TreeBackupConfig.spoTree(), TruncatedLeafScoring.ZERO);
    }

    private static float[] logp(int len, double p) {
        float[] l = new float[len];
        java.util.Arrays.fill(l, (float) Math.log(p));
        return l;
    }

    /**
     * The spec's figure, under a prompt: Pa (depth 1) has children c1 (leaf, R = 1), c2 (three leaves 1, 1, 0:
     * V = 2/3) and c3 (leaf, R = 0), so V(Pa) = (1 + 2/3 + 0)/3 = 5/9, not the leaf mean 3/5; Pa's sibling s is
     * a leaf with R = 1, so V(prompt) = (5/9 + 1)/2 = 7/9.
     */
    static final class Figure {
        final SamplingTree tree;
        final int pa, s, c1, c2, c3, g1, g2, g3;

        Figure() {
            SamplingTree.Builder b = SamplingTree.builder(42, PROMPT, 3);
            pa = b.add(SamplingTree.ROOT, new int[] {10, 11}, logp(2, 0.5), TreeNode.NO_REWARD, FinishReason.LENGTH);
            c1 = b.add(pa, new int[] {20}, logp(1, 0.4), 1f, FinishReason.EOS);
            c2 = b.add(pa, new int[] {21, 22, 23}, logp(3, 0.3), TreeNode.NO_REWARD, FinishReason.LENGTH);
            g1 = b.add(c2, new int[] {30}, logp(1, 0.2), 1f, FinishReason.EOS);
            g2 = b.add(c2, new int[] {31, 32}, logp(2, 0.2), 1f, FinishReason.STOP);
            g3 = b.add(c2, new int[] {33}, logp(1, 0.2), 0f, FinishReason.EOS);
            c3 = b.add(pa, new int[] {24}, logp(1, 0.4), 0f, FinishReason.EOS);
            s = b.add(SamplingTree.ROOT, new int[] {12}, logp(1, 0.6), 1f, FinishReason.EOS);
            tree = b.build();
        }
    }

    @ParameterizedTest
    @MethodSource("hostBackends")
    void specFigureParentIsTheMeanOfItsChildren(Backend backend) {
        Figure f = new Figure();
        TreeAdvantageResult r = spoTree(backend).compute(List.of(f.tree), 3);
        float[] v = r.values(0), a = r.advantages(0);
        assertEquals(5.0 / 9, v[f.pa], 1e-6, "V(Pa) = (1 + 2/3 + 0)/3");
        assertEquals(2.0 / 3, v[f.c2], 1e-6);
        assertEquals(7.0 / 9, r.rootValue(0), 1e-6);
        double[] expected = new double[f.tree.numNodes()];
        expected[f.pa] = 5.0 / 9 - 7.0 / 9;
        expected[f.s] = 1 - 7.0 / 9;
        expected[f.c1] = 1 - 5.0 / 9;
        expected[f.c2] = 2.0 / 3 - 5.0 / 9;
        expected[f.c3] = 0 - 5.0 / 9;
        expected[f.g1] = 1 - 2.0 / 3;
        expected[f.g2] = 1 - 2.0 / 3;
        expected[f.g3] = 0 - 2.0 / 3;
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], a[i], 1e-6, "A(node " + i + ")");

        // Every advantage is non-zero and every segment non-empty: one edge per node, in node order.
        List<TreeEdge> edges = r.edges();
        assertEquals(f.tree.numNodes(), edges.size());
        assertEquals(edges.size(), r.edgeCount(0));
        for (int i = 0; i < edges.size(); i++) {
            TreeEdge e = edges.get(i);
            assertEquals(42, e.questionId());
            assertEquals(3, e.iteration());
            assertEquals(a[i], e.advantage());
            assertArrayEquals(f.tree.node(i).tokenIds(), e.responseIds());
            assertArrayEquals(f.tree.node(i).oldLogp(), e.oldLogp());
        }
        assertArrayEquals(PROMPT, edges.get(f.pa).queryIds());
        assertArrayEquals(new int[] {7, 8, 9, 10, 11}, edges.get(f.c1).queryIds());
        assertArrayEquals(
                new int[] {7, 8, 9, 10, 11, 21, 22, 23}, edges.get(f.g2).queryIds());
        assertArrayEquals(PROMPT, edges.get(f.s).queryIds());
    }

    @Test
    void siblingStdModeDividesByThePopulationStdOfTheSiblings() {
        Figure f = new Figure();
        TreeBackupConfig cfg = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.DIFF_OVER_STD);
        float[] a = new TreeAdvantages(Backend.REFERENCE, cfg, TruncatedLeafScoring.ZERO)
                .compute(List.of(f.tree), 0)
                .advantages(0);
        double mean = 5.0 / 9;
        double sigma = Math.sqrt((Math.pow(1 - mean, 2) + Math.pow(2.0 / 3 - mean, 2) + Math.pow(mean, 2)) / 3);
        assertEquals((1 - mean) / (sigma + 1e-8), a[f.c1], 1e-5);
        assertEquals((0 - mean) / (sigma + 1e-8), a[f.c3], 1e-5);
    }

    @Test
    void leaveOneOutModeUsesTheOtherSiblings() {
        Figure f = new Figure();
        TreeBackupConfig cfg = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.LEAVE_ONE_OUT);
        float[] a = new TreeAdvantages(Backend.REFERENCE, cfg, TruncatedLeafScoring.ZERO)
                .compute(List.of(f.tree), 0)
                .advantages(0);
        assertEquals(1 - (2.0 / 3 + 0) / 2, a[f.c1], 1e-6);
        assertEquals(0 - (1 + 2.0 / 3) / 2, a[f.c3], 1e-6);
    }

    @Test
    void zeroAdvantagesAndEmptySegmentsGiveNoEdge() {
        SamplingTree.Builder b = SamplingTree.builder(1, PROMPT, 2);
        int x = b.add(SamplingTree.ROOT, new int[] {1}, logp(1, 0.5), TreeNode.NO_REWARD, FinishReason.LENGTH);
        b.add(x, new int[] {2}, logp(1, 0.5), 1f, FinishReason.EOS); // V = 1 = V(x): A = 0
        b.add(x, new int[] {3}, logp(1, 0.5), 1f, FinishReason.EOS); // A = 0
        int empty = b.add(SamplingTree.ROOT, new int[0], new float[0], 0f, FinishReason.EOS);
        b.add(SamplingTree.ROOT, new int[] {4}, logp(1, 0.5), 0f, FinishReason.EOS);
        SamplingTree tree = b.build();
        // V(prompt) = (1 + 0 + 0)/3: A(x) = 2/3, A(empty) = A(last) = −1/3.
        TreeAdvantageResult r = TreeAdvantages.create().compute(List.of(tree), 0);
        assertEquals(1.0 / 3, r.rootValue(0), 1e-6);
        assertEquals(-1.0 / 3, r.advantages(0)[empty], 1e-6);
        assertEquals(2, r.edges().size(), "x and the last node; not x's children (A = 0) nor the empty segment");
        assertArrayEquals(new int[] {1}, r.edges().get(0).responseIds());
        assertEquals(2.0 / 3, r.edges().get(0).advantage(), 1e-6);
        assertArrayEquals(new int[] {4}, r.edges().get(1).responseIds());
        assertEquals(-1.0 / 3, r.edges().get(1).advantage(), 1e-6);
        assertEquals(2, r.edgeCount(0));
    }

    /** Last level: x (depth 2) truncated with the sampler's reward 1, beside a finished leaf with R = 0. */
    @Test
    void truncatedLastLevelLeafScoresZeroUnlessTheQuirkIsKept() {
        SamplingTree.Builder b = SamplingTree.builder(1, PROMPT, 2);
        int mid = b.add(SamplingTree.ROOT, new int[] {1}, logp(1, 0.5), TreeNode.NO_REWARD, FinishReason.LENGTH);
        int truncated = b.add(mid, new int[] {2, 3}, logp(2, 0.5), 1f, FinishReason.LENGTH);
        int finished = b.add(mid, new int[] {4}, logp(1, 0.5), 0f, FinishReason.EOS);
        int other = b.add(SamplingTree.ROOT, new int[] {5}, logp(1, 0.5), 1f, FinishReason.EOS);
        SamplingTree tree = b.build();

        TreeAdvantageResult zero = TreeAdvantages.create().compute(List.of(tree), 0);
        assertEquals(0f, zero.scoredRewards(0)[truncated]);
        assertEquals(0f, zero.values(0)[mid]);
        assertEquals(0.5f, zero.rootValue(0), 1e-6);
        assertEquals(0f, zero.advantages(0)[truncated], "no edge: V = 0 = V(mid)");
        assertEquals(2, zero.edges().size());

        TreeAdvantageResult quirk = new TreeAdvantages(
                        Backend.autoHost(), TreeBackupConfig.spoTree(), TruncatedLeafScoring.OWN_REWARD)
                .compute(List.of(tree), 0);
        assertEquals(1f, quirk.scoredRewards(0)[truncated]);
        assertEquals(0.5f, quirk.values(0)[mid], 1e-6);
        assertEquals(0.75f, quirk.rootValue(0), 1e-6);
        assertEquals(0.5f, quirk.advantages(0)[truncated], 1e-6);
        assertEquals(-0.5f, quirk.advantages(0)[finished], 1e-6);
        assertEquals(0.25f, quirk.advantages(0)[other], 1e-6);
        assertTrue(Float.isNaN(quirk.scoredRewards(0)[mid]), "inner nodes have no scored reward");
    }

    @Test
    void defaultsAreSpoTreeOnTheFastestHostBackend() {
        TreeAdvantages t = TreeAdvantages.create();
        assertEquals(Backend.autoHost(), t.backend());
        assertEquals(TreeBackupConfig.spoTree(), t.config());
        assertEquals(TruncatedLeafScoring.ZERO, t.truncatedLeafScoring());
    }

    // ---- properties over random trees ---------------------------------------------------------------------

    /** V(n) by recursion over the tree, in double: the test's own oracle of the child-mean backup. */
    private static double[] childMeanValues(SamplingTree tree, TruncatedLeafScoring scoring) {
        int n = tree.numNodes();
        double[] sum = new double[n], value = new double[n];
        int[] count = new int[n];
        for (int i = n - 1; i >= 0; i--) {
            TreeNode node = tree.node(i);
            if (count[i] == 0) {
                boolean zero = node.finishReason() == FinishReason.LENGTH && scoring == TruncatedLeafScoring.ZERO;
                value[i] = zero ? 0 : node.reward();
            } else {
                value[i] = sum[i] / count[i];
            }
            if (node.parent() != SamplingTree.ROOT) {
                sum[node.parent()] += value[i];
                count[node.parent()]++;
            }
        }
        return value;
    }

    private static int[] expectedQuery(SamplingTree tree, int node) {
        List<Integer> ids = new ArrayList<>();
        List<Integer> chain = new ArrayList<>();
        for (int a = tree.node(node).parent();
                a != SamplingTree.ROOT;
                a = tree.node(a).parent()) chain.add(0, a);
        for (int id : tree.promptIds()) ids.add(id);
        for (int a : chain) for (int id : tree.node(a).tokenIds()) ids.add(id);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @ParameterizedTest
    @MethodSource("hostBackends")
    void randomTreesSatisfyTheSpoTreeProperties(Backend backend) {
        for (TruncatedLeafScoring scoring : TruncatedLeafScoring.values()) {
            List<SamplingTree> trees = RandomTrees.batch(37, 2025);
            TreeAdvantageResult r = new TreeAdvantages(backend, TreeBackupConfig.spoTree(), scoring).compute(trees, 5);
            int edgeAt = 0;
            for (int k = 0; k < trees.size(); k++) {
                SamplingTree tree = trees.get(k);
                float[] v = r.values(k), a = r.advantages(k), scored = r.scoredRewards(k);
                double[] oracle = childMeanValues(tree, scoring);
                double rootSum = 0;
                int rootChildren = 0;
                double[] childAdvSum = new double[tree.numNodes()];
                for (int i = 0; i < tree.numNodes(); i++) {
                    TreeNode node = tree.node(i);
                    assertEquals(oracle[i], v[i], 1e-6, "tree " + k + " V(node " + i + ")");
                    if (tree.isLeaf(i)) {
                        boolean truncated = node.finishReason() == FinishReason.LENGTH;
                        float want = truncated && scoring == TruncatedLeafScoring.ZERO ? 0f : node.reward();
                        assertEquals(want, scored[i], "tree " + k + " scored reward of leaf " + i);
                    }
                    if (node.parent() == SamplingTree.ROOT) {
                        rootSum += oracle[i];
                        rootChildren++;
                        assertEquals(v[i] - r.rootValue(k), a[i], 1e-6);
                    } else {
                        childAdvSum[node.parent()] += a[i];
                        assertEquals(v[i] - v[node.parent()], a[i], 1e-6);
                    }
                }
                assertEquals(rootSum / rootChildren, r.rootValue(k), 1e-6, "tree " + k + " root value");
                // DIFF: the advantages of a node's children average to zero.
                double rootAdvSum = 0;
                for (int i = 0; i < tree.numNodes(); i++) {
                    if (tree.node(i).parent() == SamplingTree.ROOT) rootAdvSum += a[i];
                    if (!tree.isLeaf(i)) {
                        assertEquals(0, childAdvSum[i] / tree.childCount(i), 1e-6, "tree " + k + " children of " + i);
                    }
                }
                assertEquals(0, rootAdvSum / rootChildren, 1e-6, "tree " + k + " children of the prompt");

                // Edges: exactly the nodes with A ≠ 0 and a non-empty segment, in order, with the right texts.
                int count = 0;
                for (int i = 0; i < tree.numNodes(); i++) {
                    TreeNode node = tree.node(i);
                    if (a[i] == 0f || node.numTokens() == 0) continue;
                    TreeEdge e = r.edges().get(edgeAt++);
                    count++;
                    assertEquals(tree.questionId(), e.questionId());
                    assertEquals(5, e.iteration());
                    assertEquals(a[i], e.advantage());
                    assertTrue(e.advantage() != 0f);
                    assertArrayEquals(expectedQuery(tree, i), e.queryIds(), "tree " + k + " query of node " + i);
                    assertArrayEquals(tree.queryIds(i), e.queryIds());
                    assertArrayEquals(node.tokenIds(), e.responseIds());
                    assertArrayEquals(node.oldLogp(), e.oldLogp());
                }
                assertEquals(count, r.edgeCount(k));
            }
            assertEquals(edgeAt, r.edges().size(), "no other edges");
        }
    }

    @Test
    void randomTreesHaveSomeDroppedEdgesTruncatedLeavesAndEmptySegments() {
        // Guards the property test above against a generator that never exercises its branches.
        List<SamplingTree> trees = RandomTrees.batch(37, 2025);
        TreeAdvantageResult r = TreeAdvantages.create().compute(trees, 0);
        int nodes = 0, truncatedLeaves = 0, empty = 0, zeroAdvantage = 0;
        for (int k = 0; k < trees.size(); k++) {
            SamplingTree t = trees.get(k);
            for (int i = 0; i < t.numNodes(); i++) {
                nodes++;
                if (t.isLeaf(i) && t.node(i).finishReason() == FinishReason.LENGTH) truncatedLeaves++;
                if (t.node(i).numTokens() == 0) empty++;
                if (r.advantages(k)[i] == 0f) zeroAdvantage++;
            }
        }
        assertTrue(
                truncatedLeaves > 0 && empty > 0 && zeroAdvantage > 0,
                "truncated " + truncatedLeaves + ", empty " + empty + ", A = 0 " + zeroAdvantage);
        assertTrue(r.edges().size() < nodes);
    }

    @Test
    void cpuAndReferenceBackendsAgreeBitForBit() {
        assumeTrue(Backend.CPU.isAvailable(), "native CPU library not loaded");
        List<SamplingTree> trees = RandomTrees.batch(64, 77);
        for (TreeAdvantageMode mode : TreeAdvantageMode.values()) {
            TreeBackupConfig cfg = TreeBackupConfig.spoTree().withAdvantageMode(mode);
            TreeAdvantageResult ref =
                    new TreeAdvantages(Backend.REFERENCE, cfg, TruncatedLeafScoring.ZERO).compute(trees, 1);
            TreeAdvantageResult cpu = new TreeAdvantages(Backend.CPU, cfg, TruncatedLeafScoring.ZERO).compute(trees, 1);
            for (int k = 0; k < trees.size(); k++) {
                assertEquals(ref.rootValue(k), cpu.rootValue(k), mode + " root " + k);
                assertArrayEquals(ref.values(k), cpu.values(k), mode + " values " + k);
                assertArrayEquals(ref.advantages(k), cpu.advantages(k), mode + " advantages " + k);
            }
            assertEquals(ref.edges(), cpu.edges(), mode + " edges");
        }
    }

    @Test
    void oneBatchIsTheSameAsTreeByTree() {
        List<SamplingTree> trees = RandomTrees.batch(9, 4);
        TreeAdvantages t = TreeAdvantages.create();
        TreeAdvantageResult batch = t.compute(trees, 0);
        List<TreeEdge> edges = new ArrayList<>();
        for (int k = 0; k < trees.size(); k++) {
            TreeAdvantageResult single = t.compute(List.of(trees.get(k)), 0);
            assertArrayEquals(single.advantages(0), batch.advantages(k));
            edges.addAll(single.edges());
        }
        assertEquals(edges, batch.edges());
    }
}
