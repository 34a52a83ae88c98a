package io.github.spo4j.model;

import static io.github.spo4j.model.PolicyTrainingForwardTest.T;
import static io.github.spo4j.model.PolicyTrainingForwardTest.assertSameGradients;
import static io.github.spo4j.model.PolicyTrainingForwardTest.gradients;
import static io.github.spo4j.model.PolicyTrainingForwardTest.zeroGradients;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void theForestHoldsEachDistinctPrefixOnceAndSeesExactlyItsAncestors() {
        for (TargetBatch b : List.of(groups(17, 1), treeEdges(17, 2))) {
            PackedForest f = new PackedForest(b);
            assertEquals(b.uniqueTokens(), f.size());
            assertArrayEquals(b.targets(), f.targets());
            byte[] mask = f.ancestorMask();
            int u = f.size();
            // Brute force: the ancestors of node i are the nodes of the prefixes of a sequence through i.
            int[] tokens = f.tokens(), depth = f.depth();
            for (int i = 0; i < u; i++) {
                int seen = 0;
                for (int j = 0; j < u; j++) seen += mask[i * u + j];
                assertEquals(depth[i] + 1, seen, "node " + i + " sees one node per position up to its own");
                assertEquals(1, mask[i * u + i]);
            }
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

    @Test
    void logprobsLossAndGradientsEqualThePerSequenceForward() {
        for (ModelConfig c : new ModelConfig[] {
            PolicyTestModels.llama(), PolicyTestModels.qwen2(), PolicyTestModels.llamaBiasScaled()
        }) {
            for (TargetBatch b : List.of(groups(c.vocabSize(), 31), treeEdges(c.vocabSize(), 32))) {
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
                    String what = c.architecture() + " " + (b.numSequences() == 18 ? "groups" : "tree");

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

    /** The chooser packs where U² ≤ B·T² and gives the same log-probs either way. */
    @Test
    void sharingPrefixesPacksOnlyWhereItsAttentionIsSmaller() {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 27);
                PointerScope s = new PointerScope()) {
            SplittableRandom rng = new SplittableRandom(5);
            int[] prompt = PolicyDecodeTest.randomTokens(rng, 60, c.vocabSize());
            // Eight 3-token continuations of a 60-token prompt: U = 84, U² = 7,056 ≤ 8 · 63² = 31,752: packed.
            int[][] q = new int[8][], r = new int[8][];
            for (int i = 0; i < 8; i++) {
                q[i] = prompt;
                r[i] = PolicyDecodeTest.randomTokens(rng, 3, c.vocabSize());
                r[i][0] = i % c.vocabSize();
            }
            TargetBatch shared = TargetBatch.ofPairs(q, r);
            assertEquals(84, shared.uniqueTokens());
            // Eight disjoint 63-token sequences: U ≈ 504, U² ≈ 254,016 > 31,752: per sequence.
            int[][] dq = new int[8][];
            for (int i = 0; i < 8; i++) dq[i] = PolicyDecodeTest.randomTokens(rng, 60, c.vocabSize());
            for (TargetBatch b : List.of(shared, TargetBatch.ofPairs(dq, r))) {
                try (TrainingForward a = p.forward(b, T);
                        TrainingForward x = p.forwardSharingPrefixes(b, T)) {
                    assertAllClose("chooser", a.logpArray(), x.logpArray(), 1e-5, 1e-5);
                }
            }
            assertEquals(true, Policy.packingPays(shared));
            assertEquals(false, Policy.packingPays(TargetBatch.ofPairs(dq, r)));
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
