package io.github.spo4j.cli;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.ForestBuilder;
import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.TokenBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.BytePointer;

/** Seeded synthetic inputs shared by {@code spo4j bench} and the JMH benchmarks, so both time the same data. */
public final class BenchInputs {
    private BenchInputs() {}

    /**
     * N tokens in ragged sequences of 256..767 tokens (about 512; the last one cut at N); oldLogp = log U(0.02, 1),
     * logp and refLogp within about 0.05 of it (near on-policy: the ratio skip does not fire), Gaussian
     * advantages, 90% of tokens valid. With ρ = 0.9 about 85% of tokens are kept.
     */
    public static TokenBatch tokenBatch(int n, SplittableRandom rnd) {
        int[] offsets = raggedOffsets(n, rnd);
        float[] logp = new float[n], old = new float[n], ref = new float[n], adv = new float[n];
        boolean[] valid = new boolean[n];
        for (int t = 0; t < n; t++) {
            old[t] = (float) Math.log(0.02 + 0.98 * rnd.nextDouble());
            logp[t] = old[t] + (float) (0.05 * gaussian(rnd));
            ref[t] = logp[t] + (float) (0.05 * gaussian(rnd));
            adv[t] = (float) gaussian(rnd);
            valid[t] = rnd.nextDouble() < 0.9;
        }
        return new TokenBatch(offsets, logp, old, ref, adv, valid);
    }

    /**
     * N rows of V logits, uniform in [-4, 4] with each target's logit raised by 6..16 (target probabilities
     * spread over (0, 1), as for sampled tokens), T = 1; oldLogp and refLogp within about 0.05 of the rows'
     * log-probs; sequences, advantages and validity as {@link #tokenBatch}.
     */
    public static LogitsBatch logitsBatch(int n, int v, SplittableRandom rnd) {
        float[] logits = new float[Math.multiplyExact(n, v)];
        int[] targets = new int[n];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (8 * rnd.nextDouble() - 4);
        for (int t = 0; t < n; t++) {
            targets[t] = rnd.nextInt(v);
            logits[t * v + targets[t]] += (float) (6 + 10 * rnd.nextDouble());
        }
        float temperature = 1f;
        float[] logp = new float[n];
        PolicyLoss.create(Backend.autoHost()).tokenLogprobs(logits, v, targets, temperature, logp, null);
        TokenBatch tokens = tokenBatch(n, rnd);
        float[] old = new float[n], ref = new float[n];
        for (int t = 0; t < n; t++) {
            old[t] = logp[t] + (float) (0.05 * gaussian(rnd));
            ref[t] = logp[t] + (float) (0.05 * gaussian(rnd));
        }
        return new LogitsBatch(tokens.seqOffsets(), logits, v, targets, temperature, old, ref, tokens.advantages(),
                tokens.valid());
    }

    private static int[] raggedOffsets(int n, SplittableRandom rnd) {
        List<Integer> offs = new ArrayList<>();
        offs.add(0);
        for (int at = 0; at < n; ) {
            at = Math.min(n, at + 256 + rnd.nextInt(512));
            offs.add(at);
        }
        return offs.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    /**
     * A seeded random forest of {@code numTrees} trees; each node below {@code maxDepth} has 0..maxBranch children (a root at least
     * one when the tree is not meant to be a single node), rewards in {-2, 0, 1} or uniform in [-1, 1].
     * Trees are laid out depth-first or breadth-first at random.
     */
    public static Forest randomForest(int numTrees, long seed, int maxBranch, int maxDepth, boolean weighted) {
        Random rnd = new Random(seed);
        ForestBuilder b = Forest.builder();
        for (int k = 0; k < numTrees; k++) {
            int root = b.addRoot();
            int depthLimit = rnd.nextInt(maxDepth + 1);
            boolean breadthFirst = rnd.nextBoolean();
            List<int[]> frontier = new ArrayList<>();  // {handle, depth}
            frontier.add(new int[] {root, 0});
            while (!frontier.isEmpty()) {
                int[] node = breadthFirst ? frontier.remove(0) : frontier.remove(frontier.size() - 1);
                int depth = node[1];
                int children = depth < depthLimit ? rnd.nextInt(maxBranch + 1) : 0;
                if (depth == 0 && depthLimit > 0 && children == 0) children = 1;
                if (children == 0) b.setReward(node[0], randomReward(rnd));
                List<int[]> added = new ArrayList<>();
                for (int c = 0; c < children; c++) {
                    int h = b.addChild(node[0]);
                    if (weighted) b.setWeight(h, 0.25f + rnd.nextInt(12) * 0.25f);
                    added.add(new int[] {h, depth + 1});
                }
                if (breadthFirst) frontier.addAll(added);
                else for (int c = added.size() - 1; c >= 0; c--) frontier.add(added.get(c));
            }
        }
        return b.build();
    }

    /** {@code numTrees} full trees with the given branching per level (6-6-6: 259 nodes each). */
    public static Forest fullForest(int numTrees, long seed, int... branching) {
        Random rnd = new Random(seed);
        ForestBuilder b = Forest.builder();
        for (int k = 0; k < numTrees; k++) grow(b, b.addRoot(), branching, 0, rnd);
        return b.build();
    }

    private static void grow(ForestBuilder b, int node, int[] branching, int depth, Random rnd) {
        if (depth == branching.length) {
            b.setReward(node, rnd.nextInt(3) == 0 ? 1f : 0f);
            return;
        }
        for (int c = 0; c < branching[depth]; c++) grow(b, b.addChild(node), branching, depth + 1, rnd);
    }

    private static float randomReward(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> 1f;
            case 1 -> 0f;
            case 2 -> -2f;
            default -> rnd.nextFloat() * 2 - 1;
        };
    }

    public static BytePointer bytes(boolean[] a) {
        byte[] b = new byte[a.length];
        for (int i = 0; i < a.length; i++) b[i] = (byte) (a[i] ? 1 : 0);
        return new BytePointer(b);
    }
}
