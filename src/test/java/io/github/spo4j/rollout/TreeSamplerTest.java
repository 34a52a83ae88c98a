package io.github.spo4j.rollout;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TreeSamplerTest {
    static Policy policy;

    @BeforeAll
    static void model() {
        policy = io.github.spo4j.testutil.TestPolicies.sharp(RolloutTestSupport.config(), 42);
    }

    @AfterAll
    static void free() {
        policy.close();
    }

    static GenerationConfig gen(long seed, int maxTokens) {
        return GenerationConfig.of(
                SamplerConfig.builder().temperature(1.0f).topP(0.95f).seed(seed).build(), maxTokens, 2);
    }

    /** The structure SPO-tree needs, and every leaf equal to an unshared decode of its path's streams. */
    @Test
    void leavesOfAForkedTreeEqualIndependentDecodes() {
        int v = policy.config().vocabSize();
        List<int[]> prompts = List.of(RolloutTestSupport.tokens(80, v, 1), RolloutTestSupport.tokens(3, v, 2));
        TreeShape shape = new TreeShape(new int[] {3, 2, 3}, 5);
        try (KvCache pool = policy.createKvCache(16, 1024)) {
            TreeSampler sampler = new TreeSampler(policy, pool);
            GenerationConfig g = gen(17, 24);
            List<SampledTree> trees = sampler.sample(prompts, shape, g);
            assertEquals(2, trees.size());
            int checkedLeaves = 0;
            for (int t = 0; t < trees.size(); t++) {
                SampledTree tree = trees.get(t);
                int[] children = new int[tree.numNodes()];
                int roots = 0;
                for (int i = 0; i < tree.numNodes(); i++) {
                    SampledTree.Node n = tree.nodes().get(i);
                    assertEquals(((long) t << 32) | i, n.streamId());
                    if (n.parent() == SamplingTree.ROOT) {
                        roots++;
                        assertEquals(1, n.depth());
                    } else {
                        assertTrue(n.parent() < i, "parent first");
                        assertEquals(tree.nodes().get(n.parent()).depth() + 1, n.depth());
                        children[n.parent()]++;
                    }
                }
                assertEquals(3, roots);
                for (int i = 0; i < tree.numNodes(); i++) {
                    SampledTree.Node n = tree.nodes().get(i);
                    Completion c = n.segment();
                    int used = tree.responseIds(i).length;
                    if (children[i] > 0) {
                        assertEquals(shape.branching()[n.depth()], children[i]);
                        assertEquals(FinishReason.LENGTH, c.finishReason());
                        assertEquals(5, c.length(), "an expanded node filled its segment");
                    } else if (n.depth() < 3) {
                        assertTrue(c.finishReason() == FinishReason.EOS || used == 24, "an early leaf finished");
                    } else {
                        assertTrue(
                                c.finishReason() == FinishReason.EOS || used == 24,
                                "the last level runs to EOS or the limit");
                    }
                    assertTrue(used <= 24);
                    if (children[i] == 0) {
                        Completion alone = decodedAlone(tree, i, prompts.get(t), g);
                        assertArrayEquals(alone.tokens(), tree.responseIds(i), "tree " + t + " leaf " + i);
                        float[] lps = new float[0];
                        for (int k : tree.path(i)) {
                            float[] seg = tree.nodes().get(k).segment().logprobs();
                            int at = lps.length;
                            lps = java.util.Arrays.copyOf(lps, at + seg.length);
                            System.arraycopy(seg, 0, lps, at, seg.length);
                        }
                        assertAllClose("leaf logprobs", alone.logprobs(), lps, 2e-5, 2e-4);
                        checkedLeaves++;
                    }
                }
            }
            assertTrue(checkedLeaves >= 6);
            assertEquals(0, pool.liveSequences());
            assertEquals(0, pool.blocksInUse());
        }
    }

    /** What an unshared decode of {@code leaf}'s path draws from the streams of its nodes, segment by segment. */
    static Completion decodedAlone(SampledTree tree, int leaf, int[] prompt, GenerationConfig g) {
        int[] path = tree.path(leaf);
        long[] streams = new long[path.length];
        int[] lengths = new int[path.length];
        for (int k = 0; k < path.length; k++) {
            streams[k] = tree.nodes().get(path[k]).streamId();
            lengths[k] = tree.nodes().get(path[k]).segment().length();
        }
        return RolloutTestSupport.independent(policy, prompt, streams, lengths, g.sampling());
    }

    /** The most likely next token's probability at temperature T after {@code prefix}, decoded alone. */
    static double topProbability(int[] prefix, double temperature) {
        try (KvCache pool = policy.createKvCache(16, prefix.length / 16 + 2);
                org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            float[] logits = RolloutTestSupport.floats(
                    policy.prefill(pool, new int[] {pool.newSequence()}, new int[][] {prefix}));
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float l : logits) max = Math.max(max, l);
            for (float l : logits) sum += Math.exp((l - max) / temperature);
            return 1 / sum;
        }
    }

    static int[] concat(int[] a, int[] b, int bLength) {
        int[] out = java.util.Arrays.copyOf(a, a.length + bLength);
        System.arraycopy(b, 0, out, a.length, bLength);
        return out;
    }

    /**
     * With a branching threshold, a segment below the last level runs while the policy is sure of its next token and
     * stops before the first step (after its first token) where it is not; its children draw that step afresh. Every
     * leaf still equals an unshared decode of its path's streams.
     */
    @Test
    void segmentsEndBeforeUncertainSteps() {
        int v = policy.config().vocabSize();
        List<int[]> prompts = List.of(RolloutTestSupport.tokens(40, v, 1), RolloutTestSupport.tokens(3, v, 2));
        double rho = 0.6;
        int segment = 4;
        TreeShape shape = new TreeShape(new int[] {3, 2, 3}, segment, rho);
        int early = 0, full = 0, sureSteps = 0;
        try (KvCache pool = policy.createKvCache(16, 1024)) {
            TreeSampler sampler = new TreeSampler(policy, pool);
            double temperature = 0.15;
            GenerationConfig g = GenerationConfig.of(
                    SamplerConfig.builder()
                            .temperature((float) temperature)
                            .seed(17)
                            .build(),
                    30,
                    2);
            List<SampledTree> trees = sampler.sample(prompts, shape, g);
            for (int t = 0; t < trees.size(); t++) {
                SampledTree tree = trees.get(t);
                int[] prompt = prompts.get(t);
                int[] children = new int[tree.numNodes()];
                for (SampledTree.Node n : tree.nodes()) if (n.parent() != SamplingTree.ROOT) children[n.parent()]++;
                for (int i = 0; i < tree.numNodes(); i++) {
                    SampledTree.Node n = tree.nodes().get(i);
                    int[] seg = n.segment().tokens();
                    int[] above = n.parent() == SamplingTree.ROOT
                            ? prompt
                            : concat(prompt, tree.responseIds(n.parent()), tree.responseIds(n.parent()).length);
                    if (n.depth() < shape.depth()) {
                        assertTrue(seg.length <= segment);
                        for (int j = 1; j < seg.length; j++) {
                            assertTrue(
                                    topProbability(concat(above, seg, j), temperature) >= rho,
                                    "tree " + t + " node " + i);
                            sureSteps++;
                        }
                    }
                    if (children[i] > 0) {
                        assertEquals(shape.branching()[n.depth()], children[i]);
                        if (seg.length < segment) {
                            assertTrue(
                                    topProbability(concat(above, seg, seg.length), temperature) < rho,
                                    "stopped before doubt");
                            early++;
                        } else {
                            full++;
                        }
                    } else {
                        Completion alone = decodedAlone(tree, i, prompt, g);
                        assertArrayEquals(alone.tokens(), tree.responseIds(i), "tree " + t + " leaf " + i);
                    }
                }
            }
            assertEquals(0, pool.liveSequences());
            assertEquals(0, pool.blocksInUse());
            // Same seed, same trees.
            List<SampledTree> again = sampler.sample(prompts, shape, g);
            for (int t = 0; t < trees.size(); t++) {
                assertEquals(trees.get(t).numNodes(), again.get(t).numNodes());
                for (int i = 0; i < trees.get(t).numNodes(); i++) {
                    assertArrayEquals(
                            trees.get(t).nodes().get(i).segment().tokens(),
                            again.get(t).nodes().get(i).segment().tokens());
                }
            }
            // Below p 1 every step is in doubt: every inner segment holds one token.
            for (SampledTree tree : sampler.sample(prompts, new TreeShape(new int[] {2, 2, 2}, segment, 1.0), g)) {
                for (int i = 0; i < tree.numNodes(); i++) {
                    if (!tree.isLeaf(i))
                        assertEquals(1, tree.nodes().get(i).segment().length());
                }
            }
        }
        assertTrue(early > 0, "some segments stopped before an uncertain step");
        assertTrue(full > 0, "some ran their M tokens");
        assertTrue(sureSteps > 0, "some steps were sure");
    }

    @Test
    void scoredTreeFeedsTheSpoCore() {
        int v = policy.config().vocabSize();
        try (KvCache pool = policy.createKvCache(8, 2048)) {
            TreeSampler sampler = new TreeSampler(policy, pool);
            List<SampledTree> trees = sampler.sample(
                    List.of(RolloutTestSupport.tokens(9, v, 4)), TreeShape.parse("4-3-2", 3), gen(5, 30));
            SampledTree tree = trees.get(0);
            SamplingTree st = tree.toSamplingTree(7, (q, ids, f) -> ids.length % 3 == 0 ? 1 : 0);
            assertEquals(tree.numNodes(), st.numNodes());
            assertEquals(7, st.questionId());
            for (int leaf : tree.leaves()) {
                assertEquals(
                        tree.responseIds(leaf).length % 3 == 0 ? 1f : 0f,
                        st.node(leaf).reward());
            }
            // Same seed, same tree.
            SampledTree again = sampler.sample(
                            List.of(RolloutTestSupport.tokens(9, v, 4)), TreeShape.parse("4-3-2", 3), gen(5, 30))
                    .get(0);
            assertEquals(tree.numNodes(), again.numNodes());
            for (int i = 0; i < tree.numNodes(); i++) {
                assertArrayEquals(
                        tree.nodes().get(i).segment().tokens(),
                        again.nodes().get(i).segment().tokens());
            }
            assertTrue(tree.generatedTokens() > 0);
        }
    }

    @Test
    void shapesAndArgumentsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new TreeShape(new int[0], 4));
        assertThrows(IllegalArgumentException.class, () -> new TreeShape(new int[] {2, 0}, 4));
        assertThrows(IllegalArgumentException.class, () -> new TreeShape(new int[] {2}, 0));
        assertThrows(IllegalArgumentException.class, () -> TreeShape.parse("6-x-6", 4));
        assertThrows(IllegalArgumentException.class, () -> new TreeShape(new int[] {2}, 4, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new TreeShape(new int[] {2}, 4, Double.NaN));
        assertEquals(216, TreeShape.parse("6-6-6", 4).maxLeaves());
        try (KvCache pool = policy.createKvCache(8, 64)) {
            TreeSampler sampler = new TreeSampler(policy, pool);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> sampler.sample(List.of(new int[0]), TreeShape.parse("2", 2), gen(1, 4)));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> sampler.sample(List.of(new int[1024]), TreeShape.parse("2", 2), gen(1, 4)));
            assertEquals(
                    0,
                    sampler.sample(List.of(), TreeShape.parse("2", 2), gen(1, 4))
                            .size());
        }
    }
}
