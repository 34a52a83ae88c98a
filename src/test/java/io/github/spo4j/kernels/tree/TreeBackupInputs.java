package io.github.spo4j.kernels.tree;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded forests shared by the tree-backup tests and benchmarks. A test fixture: it lives in the library's tests and
 * reaches the benchmarks through the test jar.
 */
public final class TreeBackupInputs {
    private TreeBackupInputs() {}

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
            List<int[]> frontier = new ArrayList<>(); // {handle, depth}
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
}
