package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.engine.Checks;

/**
 * The tree backup in plain Java: the test oracle of the native kernels, written for reading.
 *
 * <pre>
 *   CHILD_MEAN: V(n) = Σ_c w_c V(c) / Σ_c w_c over n's children;  a leaf: V = R
 *   LEAF_MEAN:  V(n) = Σ_l w_l R(l) / Σ_l w_l over the leaves under n
 *   DIFF:          A(n) = V(n) − V(p)
 *   DIFF_OVER_STD: A(n) = (V(n) − V(p)) / (σ_p + ε),  σ_p² = Σ_c w_c (V(c) − μ_p)² / Σ_c w_c,  μ_p = Σ_c w_c V(c) / Σ_c w_c
 *   LEAVE_ONE_OUT: A(n) = V(n) − Σ_{c≠n} w_c V(c) / Σ_{c≠n} w_c
 * </pre>
 *
 * Sums are in double over the float child values, each over a node's children in decreasing index (the
 * order of the native kernels' bottom-up pass), so the three implementations agree bit for bit.
 */
public final class TreeBackupReference {
    private TreeBackupReference() {}

    public static TreeBackupResult backup(TreeBackupConfig config, Forest forest) {
        Checks.notNull(config, "config");
        Checks.notNull(forest, "forest");
        TreeBackupResult out = TreeBackupResult.allocate(forest.numNodes(), forest.numTrees());
        for (int k = 0; k < forest.numTrees(); k++) backupTree(config, forest, k, out);
        return out;
    }

    private static void backupTree(TreeBackupConfig config, Forest f, int k, TreeBackupResult out) {
        int begin = f.treeStart(k), end = begin + f.treeSize(k);
        int[][] children = childrenOf(f, begin, end);
        for (int i = begin; i < end; i++) {
            out.childCount()[i] = children[i - begin].length;
            out.depth()[i] = i == begin ? 0 : out.depth()[f.parent(i)] + 1;
        }
        // Children have larger indices than their parent: going down from the end, they are done first.
        double[] leafSum = new double[end - begin], leafWeight = new double[end - begin];
        for (int i = end - 1; i >= begin; i--) {
            int[] ch = children[i - begin];
            if (ch.length == 0) {
                out.value()[i] = f.leafReward(i);
                leafSum[i - begin] = (double) f.weight(i) * f.leafReward(i);
                leafWeight[i - begin] = f.weight(i);
            } else if (config.valueMode() == TreeValueMode.CHILD_MEAN) {
                out.value()[i] = (float) (weightedSum(f, ch, out.value()) / weightSum(f, ch));
            } else {
                double s = 0, w = 0;
                for (int j = ch.length - 1; j >= 0; j--) {
                    s += leafSum[ch[j] - begin];
                    w += leafWeight[ch[j] - begin];
                }
                leafSum[i - begin] = s;
                leafWeight[i - begin] = w;
                out.value()[i] = (float) (s / w);
            }
        }
        out.rootValue()[k] = out.value()[begin];
        int nonzero = 0;
        for (int i = begin + 1; i < end; i++) {
            int p = f.parent(i);
            int[] siblings = children[p - begin]; // n included
            double v = out.value()[i];
            double a = switch (config.advantageMode()) {
                case DIFF -> v - out.value()[p];
                case DIFF_OVER_STD -> {
                    double mean = weightedSum(f, siblings, out.value()) / weightSum(f, siblings);
                    double sq = 0;
                    for (int j = siblings.length - 1; j >= 0; j--) {
                        double d = out.value()[siblings[j]] - mean;
                        sq += f.weight(siblings[j]) * (d * d);
                    }
                    double denom = Math.sqrt(sq / weightSum(f, siblings)) + config.stdEps();
                    yield denom == 0 ? 0 : (v - out.value()[p]) / denom;
                }
                case LEAVE_ONE_OUT -> {
                    if (siblings.length == 1) yield 0;
                    double w = f.weight(i);
                    yield v - (weightedSum(f, siblings, out.value()) - w * v) / (weightSum(f, siblings) - w);
                }
            };
            out.advantage()[i] = (float) a;
            if ((float) a != 0f) nonzero++;
        }
        out.nonzeroAdvantages()[k] = nonzero;
    }

    /** Σ_c w_c V(c), in decreasing child index. */
    private static double weightedSum(Forest f, int[] children, float[] value) {
        double s = 0;
        for (int j = children.length - 1; j >= 0; j--) s += (double) f.weight(children[j]) * value[children[j]];
        return s;
    }

    private static double weightSum(Forest f, int[] children) {
        double w = 0;
        for (int j = children.length - 1; j >= 0; j--) w += f.weight(children[j]);
        return w;
    }

    /** Children of each node of tree [begin, end), in increasing index. */
    private static int[][] childrenOf(Forest f, int begin, int end) {
        int[] count = new int[end - begin];
        for (int i = begin + 1; i < end; i++) count[f.parent(i) - begin]++;
        int[][] children = new int[end - begin][];
        for (int j = 0; j < children.length; j++) children[j] = new int[count[j]];
        int[] fill = new int[end - begin];
        for (int i = begin + 1; i < end; i++) {
            int p = f.parent(i) - begin;
            children[p][fill[p]++] = i;
        }
        return children;
    }
}
