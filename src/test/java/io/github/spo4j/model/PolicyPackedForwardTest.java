package io.github.spo4j.model;

import static io.github.spo4j.model.PolicyTrainingForwardTest.T;
import static io.github.spo4j.model.PolicyTrainingForwardTest.assertSameGradients;
import static io.github.spo4j.model.PolicyTrainingForwardTest.gradients;
import static io.github.spo4j.model.PolicyTrainingForwardTest.zeroGradients;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * The packed forward (each distinct prefix once, ancestor attention) against the per-sequence forward: the same
 * log-probs, fused-loss statistics and parameter gradients, on GRPO groups and SPO-tree edges of ragged shapes.
 */
class PolicyPackedForwardTest {
    /** Groups: shared prompts, ragged responses, a duplicate, a response that is a prefix of another, an empty one. */
    static TargetBatch groups(int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<int[]> q = new ArrayList<>(), r = new ArrayList<>();
        int[] promptLengths = {5, 1, 11};
        for (int promptLength : promptLengths) {
            int[] prompt = PolicyDecodeTest.randomTokens(rng, promptLength, vocab);
            int[] first = PolicyDecodeTest.randomTokens(rng, 9, vocab);
            for (int[] response : new int[][] {
                first,
                first.clone(),
                Arrays.copyOf(first, 4),
                PolicyDecodeTest.randomTokens(rng, 7, vocab),
                new int[0],
                PolicyDecodeTest.randomTokens(rng, 1, vocab)
            }) {
                q.add(prompt);
                r.add(response);
            }
        }
        return TargetBatch.ofPairs(q.toArray(new int[0][]), r.toArray(new int[0][]));
    }

    /**
     * Tree edges: a 3-3 tree under one prompt with ragged segments (an early leaf of 2 tokens) and a 2-level chain of
     * another tree's edges replayed beside it, shuffled as the replay buffer mixes them.
     */
    static TargetBatch treeEdges(int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<int[]> q = new ArrayList<>(), r = new ArrayList<>();
        int[] prompt = PolicyDecodeTest.randomTokens(rng, 13, vocab);
        for (int a = 0; a < 3; a++) {
            int[] top = PolicyDecodeTest.randomTokens(rng, a == 1 ? 2 : 6, vocab);
            q.add(prompt);
            r.add(top);
            if (a == 1) continue; // an early leaf
            int[] above = concat(prompt, top);
            for (int c = 0; c < 3; c++) {
                q.add(above);
                r.add(PolicyDecodeTest.randomTokens(rng, 3 + c, vocab));
            }
        }
        int[] other = PolicyDecodeTest.randomTokens(rng, 4, vocab);
        int[] otherTop = PolicyDecodeTest.randomTokens(rng, 5, vocab);
        q.add(other);
        r.add(otherTop);
        q.add(concat(other, otherTop));
        r.add(PolicyDecodeTest.randomTokens(rng, 6, vocab));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < q.size(); i++) order.add(i);
        java.util.Collections.shuffle(order, new java.util.Random(seed));
        int[][] qs = new int[q.size()][], rs = new int[q.size()][];
        for (int i = 0; i < order.size(); i++) {
            qs[i] = q.get(order.get(i));
            rs[i] = r.get(order.get(i));
        }
        return TargetBatch.ofPairs(qs, rs);
    }

    /** Sequences that share nothing, of ragged lengths (the plan's causal root buckets, with padding). */
    static TargetBatch disjoint(int vocab, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] lengths = {1, 9, 2, 14, 9, 5, 17};
        int[][] q = new int[lengths.length][], r = new int[lengths.length][];
        for (int i = 0; i < lengths.length; i++) {
            q[i] = PolicyDecodeTest.randomTokens(rng, 1, vocab);
            q[i][0] = i; // distinct first tokens: nothing shared
            r[i] = PolicyDecodeTest.randomTokens(rng, lengths[i], vocab);
        }
        return TargetBatch.ofPairs(q, r);
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void theForestHoldsEachDistinctPrefixOnceAndSeesExactlyItsAncestors() {
        for (TargetBatch b : List.of(groups(17, 1), treeEdges(17, 2), disjoint(17, 3))) {
            PackedForest f = new PackedForest(b);
            assertEquals(b.uniqueTokens(), f.size());
            assertArrayEquals(b.targets(), f.targets());
            assertSeesExactlyItsAncestors(f.parent(), f.depth(), f.attentionPlan());
            int[] tokens = f.tokens(), depth = f.depth();
            // Every target row's node is the token before the target in its sequence.
            int[] rows = f.targetRows();
            int[] offsets = b.seqOffsets();
            for (int s = 0; s < b.numSequences(); s++) {
                int[] seq = b.sequence(s);
                for (int k = offsets[s], i = b.contextLength(s); k < offsets[s + 1]; k++, i++) {
                    assertEquals(seq[i - 1], tokens[rows[k]]);
                    assertEquals(i - 1, depth[rows[k]]);
                }
            }
        }
    }

    /**
     * Brute force over the plan: node u's query row is its own and sees exactly u's ancestors and u, each once;
     * scores stay within {@link ForestAttention#MAX_PADDING} × {@link ForestAttention#MAX_GROUPING} of the chunks'
     * own.
     */
    static void assertSeesExactlyItsAncestors(int[] parent, int[] depth, ForestAttention.Plan plan) {
        int u = parent.length;
        int[] base = new int[plan.numBuckets() + 1];
        for (int b = 0; b < plan.numBuckets(); b++) base[b + 1] = base[b] + plan.count()[b] * plan.queries()[b];
        for (int i = 0; i < u; i++) {
            int row = plan.outputRows()[i];
            int b = 0;
            while (base[b + 1] <= row) b++;
            int local = row - base[b], slot = local / plan.queries()[b], nk = plan.keys()[b];
            assertEquals(i, plan.queryRows()[b][local], "node " + i + " reads its own query row");
            List<Integer> seen = new ArrayList<>();
            for (int k = 0; k < nk; k++) {
                boolean visible = k < plan.ancestorKeys()[b][local]
                        || (k >= plan.ownStart()[b][local] && k < plan.ownEnd()[b][local]);
                if (visible) seen.add(plan.keyRows()[b][slot * nk + k]);
            }
            List<Integer> expected = new ArrayList<>();
            for (int a = i; a >= 0; a = parent[a]) expected.add(0, a);
            assertEquals(expected, seen, "node " + i + " sees its ancestors and itself, in order of position");
            if (plan.causal()[b]) {
                assertEquals(depth[i], local % plan.queries()[b], "a causal bucket's row is its position");
                assertEquals(0, plan.ownStart()[b][local]);
            }
        }
        double bound = ForestAttention.MAX_PADDING * ForestAttention.MAX_GROUPING * chunkArea(parent, depth);
        assertTrue(plan.paddedScores() <= bound + 1e-9, "scores " + plan.paddedScores() + " within " + bound);
    }

    /** Σ over chunks of L · (P + L), from the forest directly (a chunk ends where a node has not one only child). */
    static long chunkArea(int[] parent, int[] depth) {
        int u = parent.length;
        int[] children = new int[u];
        for (int p : parent) if (p >= 0) children[p]++;
        long area = 0;
        for (int i = 0, start = 0; i < u; i++) {
            boolean last = i + 1 == u || parent[i + 1] != i || children[i] != 1;
            if (last) {
                area += (long) (i - start + 1) * (depth[i] + 1);
                start = i + 1;
            }
        }
        return area;
    }

    /** Random forests: roots, chains, bushes and leaves in creation order, as the trie builds them. */
    @Test
    void chunkPlansOfRandomForestsSeeExactlyTheAncestors() {
        long groupedRows = 0;
        for (int seed = 0; seed < 300; seed++) {
            SplittableRandom rng = new SplittableRandom(seed);
            int u = 1 + rng.nextInt(seed % 10 == 0 ? 400 : 60);
            int[] parent = new int[u], depth = new int[u];
            for (int i = 0; i < u; i++) {
                int kind = rng.nextInt(10);
                parent[i] = i == 0 || kind == 0 ? -1 : kind < 7 ? i - 1 : rng.nextInt(i);
                depth[i] = parent[i] < 0 ? 0 : depth[parent[i]] + 1;
            }
            ForestAttention.Plan plan = ForestAttention.plan(parent, depth);
            assertSeesExactlyItsAncestors(parent, depth, plan);
            for (int b = 0; b < plan.numBuckets(); b++) {
                for (int r = 0; r < plan.ownStart()[b].length; r++) {
                    if (plan.ownStart()[b][r] > plan.ancestorKeys()[b][r]) groupedRows++;
                }
            }
        }
        assertTrue(groupedRows > 0, "some plans attend siblings as one item");
    }

    @Test
    void logprobsLossAndGradientsEqualThePerSequenceForward() {
        for (ModelConfig c : new ModelConfig[] {
            PolicyTestModels.llama(), PolicyTestModels.qwen2(), PolicyTestModels.llamaBiasScaled()
        }) {
            for (TargetBatch b :
                    List.of(groups(c.vocabSize(), 31), treeEdges(c.vocabSize(), 32), disjoint(c.vocabSize(), 33))) {
                try (Policy p = PolicyTestModels.random(c, 25);
                        PointerScope s = new PointerScope()) {
                    int n = b.numTargets();
                    SplittableRandom rng = new SplittableRandom(11);
                    float[] adv = new float[n], old = new float[n], ref = new float[n];
                    boolean[] valid = new boolean[n];
                    float[] logp;
                    try (TrainingForward f = p.forward(b, T)) {
                        logp = f.logpArray();
                    }
                    for (int i = 0; i < n; i++) {
                        adv[i] = (float) rng.nextGaussian();
                        old[i] = logp[i] + (float) (rng.nextGaussian() * 0.3); // some ratios clipped
                        ref[i] = logp[i] + (float) (rng.nextGaussian() * 0.2);
                        valid[i] = i % 7 != 2;
                    }
                    PolicyLossConfig config =
                            PolicyLossConfig.spo().toBuilder().beta(0.04f).build();
                    String what = c.architecture() + " " + b.numSequences() + " sequences";

                    PolicyLossStats expected;
                    try (TrainingForward f = p.forward(b, T)) {
                        expected = f.policyLossBackward(config, old, ref, adv, valid);
                    }
                    Map<String, float[]> expectedGrad = gradients(p);
                    zeroGradients(p);
                    PolicyLossStats packed;
                    try (TrainingForward f = p.forwardPacked(b, T)) {
                        assertEquals(n, f.numTargets());
                        assertArrayEquals(b.seqOffsets(), f.seqOffsets());
                        assertAllClose(what + " logp", logp, f.logpArray(), 1e-5, 1e-5);
                        packed = f.policyLossBackward(config, old, ref, adv, valid);
                    }
                    assertEquals(expected.loss(), packed.loss(), 1e-5, what);
                    assertEquals(expected.keptTokens(), packed.keptTokens(), what);
                    assertEquals(expected.klRef(), packed.klRef(), 1e-5, what);
                    assertEquals(
                            expected.clipFracLow() + expected.clipFracHigh(),
                            packed.clipFracLow() + packed.clipFracHigh(),
                            1e-6,
                            what);
                    assertSameGradients(what + " packed", expectedGrad, gradients(p));
                }
            }
        }
    }

    /** Gathers backpropagate by index_add: the packed gradients are the same bits every run. */
    @Test
    void packedGradientsAreTheSameEveryRun() {
        ModelConfig c = PolicyTestModels.qwen2();
        TargetBatch b = treeEdges(c.vocabSize(), 41);
        try (Policy p = PolicyTestModels.random(c, 28);
                PointerScope s = new PointerScope()) {
            List<Map<String, float[]>> runs = new ArrayList<>();
            for (int run = 0; run < 3; run++) {
                zeroGradients(p);
                try (TrainingForward f = p.forwardPacked(b, T)) {
                    float[] upstream = new float[f.numTargets()];
                    for (int i = 0; i < upstream.length; i++) upstream[i] = (i % 5) - 2.1f;
                    f.backward(upstream);
                }
                runs.add(gradients(p));
            }
            for (Map<String, float[]> other : runs.subList(1, runs.size())) {
                for (String name : runs.get(0).keySet()) {
                    assertArrayEquals(runs.get(0).get(name), other.get(name), name);
                }
            }
        }
    }

    @Test
    void singleSequencesBatchesWithoutTargetsAndBadInput() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy p = PolicyTestModels.random(c, 26);
                PointerScope s = new PointerScope()) {
            TargetBatch one = new TargetBatch(new int[][] {{3}}, new int[] {1});
            try (TrainingForward f = p.forwardPacked(one, T)) {
                assertEquals(0, f.numTargets());
                f.backward(new float[0]);
            }
            TargetBatch single = new TargetBatch(new int[][] {{1, 2, 3, 4, 5}}, new int[] {1});
            try (TrainingForward a = p.forward(single, T);
                    TrainingForward b = p.forwardPacked(single, T)) {
                assertAllClose("single", a.logpArray(), b.logpArray(), 1e-5, 1e-5);
            }
            assertThrows(IllegalArgumentException.class, () -> p.forwardPacked(null, T));
            assertThrows(IllegalArgumentException.class, () -> p.forwardPacked(single, 0f));
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> p.forwardPacked(new TargetBatch(new int[][] {{1, c.vocabSize()}}, new int[] {1}), T));
            assertEquals(
                    "batch sequence 0 position 1 holds id " + c.vocabSize() + ", outside [0, V = " + c.vocabSize()
                            + ")",
                    e.getMessage());
        }
    }
}
