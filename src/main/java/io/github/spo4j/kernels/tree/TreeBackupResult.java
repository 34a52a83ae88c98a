package io.github.spo4j.kernels.tree;

/**
 * Per-node and per-tree results of a tree backup over a forest of N nodes in T trees.
 *
 * @param value             [N] V(n)
 * @param advantage         [N] A(n) (0 at roots)
 * @param childCount        [N] number of children (0 for leaves)
 * @param depth             [N] edges from the root (0 at roots)
 * @param rootValue         [T] value of each tree's root
 * @param nonzeroAdvantages [T] number of non-root nodes of each tree with A ≠ 0 (SPO-tree's edges, before it
 *                          also drops edges with empty segments)
 */
public record TreeBackupResult(
        float[] value, float[] advantage, int[] childCount, int[] depth, float[] rootValue, int[] nonzeroAdvantages) {

    /** Zero-filled outputs for a forest of the given size. */
    static TreeBackupResult allocate(int numNodes, int numTrees) {
        return new TreeBackupResult(
                new float[numNodes],
                new float[numNodes],
                new int[numNodes],
                new int[numNodes],
                new float[numTrees],
                new int[numTrees]);
    }
}
