package io.github.spo4j.spo.advantage;

import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.TreeNode;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded random SPO-trees as a sampler would grow them: depth-first, 1–4 children per node, nodes at
 * depth &lt; maxDepth finishing early about a third of the time, last-level nodes sometimes truncated, rewards
 * 0/1 with the odd fractional or negative one (SPO's −2), some empty segments.
 */
final class RandomTrees {
    private RandomTrees() {}

    static List<SamplingTree> batch(int numTrees, long seed) {
        Random rnd = new Random(seed);
        List<SamplingTree> trees = new ArrayList<>();
        for (int k = 0; k < numTrees; k++) trees.add(tree(rnd, 100 + k % 5, 1 + rnd.nextInt(4)));
        return trees;
    }

    static SamplingTree tree(Random rnd, int questionId, int maxDepth) {
        int[] prompt = tokens(rnd, 1 + rnd.nextInt(6));
        SamplingTree.Builder b = SamplingTree.builder(questionId, prompt, maxDepth);
        grow(rnd, b, SamplingTree.ROOT, 0, maxDepth);
        return b.build();
    }

    private static void grow(Random rnd, SamplingTree.Builder b, int parent, int parentDepth, int maxDepth) {
        int children = 1 + rnd.nextInt(4);
        for (int c = 0; c < children; c++) {
            int depth = parentDepth + 1;
            int len = rnd.nextInt(10) == 0 ? 0 : 1 + rnd.nextInt(5);
            int[] ids = tokens(rnd, len);
            float[] logp = new float[len];
            for (int t = 0; t < len; t++) logp[t] = (float) Math.log(0.01 + 0.99 * rnd.nextDouble());
            boolean expand = depth < maxDepth && rnd.nextInt(3) != 0;
            if (expand) {
                int node = b.add(parent, ids, logp, TreeNode.NO_REWARD, FinishReason.LENGTH);
                grow(rnd, b, node, depth, maxDepth);
            } else {
                FinishReason why = depth == maxDepth && rnd.nextInt(4) == 0
                        ? FinishReason.LENGTH
                        : rnd.nextBoolean() ? FinishReason.EOS : FinishReason.STOP;
                b.add(parent, ids, logp, reward(rnd), why);
            }
        }
    }

    private static float reward(Random rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0.25f;
            case 1 -> -2f;
            default -> rnd.nextBoolean() ? 1f : 0f;
        };
    }

    private static int[] tokens(Random rnd, int len) {
        int[] ids = new int[len];
        for (int t = 0; t < len; t++) ids[t] = rnd.nextInt(32000);
        return ids;
    }
}
