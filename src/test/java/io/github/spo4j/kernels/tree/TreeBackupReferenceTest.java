package io.github.spo4j.kernels.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Properties of the tree backup's math, on the reference. */
class TreeBackupReferenceTest {
    @Test
    void diffAdvantagesOfEveryNodesChildrenAverageToZero() {
        // With equal weights V(p) is the mean of its children, so Σ_c (V(c) − V(p)) = 0 for every p.
        Forest f = TreeBackupInputs.randomForest(400, 3, 6, 4, false);
        TreeBackupResult r = TreeBackupReference.backup(TreeBackupConfig.spoTree(), f);
        double[] sum = new double[f.numNodes()];
        for (int i = 0; i < f.numNodes(); i++) {
            if (f.parent(i) != Forest.NO_PARENT) sum[f.parent(i)] += r.advantage()[i];
        }
        for (int i = 0; i < f.numNodes(); i++) {
            if (r.childCount()[i] > 0) assertEquals(0, sum[i] / r.childCount()[i], 1e-6, "children of node " + i);
        }
    }

    @Test
    void weightedDiffAdvantagesAverageToZeroUnderTheWeights() {
        Forest f = TreeBackupInputs.randomForest(400, 4, 6, 4, true);
        TreeBackupResult r = TreeBackupReference.backup(TreeBackupConfig.spoTree(), f);
        double[] sum = new double[f.numNodes()], w = new double[f.numNodes()];
        for (int i = 0; i < f.numNodes(); i++) {
            int p = f.parent(i);
            if (p == Forest.NO_PARENT) continue;
            sum[p] += f.weight(i) * r.advantage()[i];
            w[p] += f.weight(i);
        }
        for (int i = 0; i < f.numNodes(); i++) {
            if (w[i] > 0) assertEquals(0, sum[i] / w[i], 1e-6, "children of node " + i);
        }
    }

    @Test
    void leaveOneOutIsTheDiffScaledByTheSiblingCount() {
        // Equal weights: V(n) − mean(others) = k/(k−1) · (V(n) − mean(all)).
        Forest f = TreeBackupInputs.randomForest(300, 5, 5, 3, false);
        TreeBackupResult diff = TreeBackupReference.backup(TreeBackupConfig.spoTree(), f);
        TreeBackupResult loo = TreeBackupReference.backup(
                TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.LEAVE_ONE_OUT), f);
        for (int i = 0; i < f.numNodes(); i++) {
            int p = f.parent(i);
            if (p == Forest.NO_PARENT) continue;
            int k = diff.childCount()[p];
            double expected = k == 1 ? 0 : diff.advantage()[i] * k / (k - 1.0);
            assertEquals(expected, loo.advantage()[i], 2e-6, "node " + i);
        }
    }

    @Test
    void diffOverStdGivesUnitPopulationStdAmongSiblings() {
        Forest f = TreeBackupInputs.randomForest(300, 6, 5, 3, false);
        TreeBackupResult r = TreeBackupReference.backup(
                TreeBackupConfig.spoTree()
                        .withAdvantageMode(TreeAdvantageMode.DIFF_OVER_STD)
                        .withStdEps(0f),
                f);
        double[] sq = new double[f.numNodes()];
        boolean[] allZero = new boolean[f.numNodes()];
        java.util.Arrays.fill(allZero, true);
        for (int i = 0; i < f.numNodes(); i++) {
            int p = f.parent(i);
            if (p == Forest.NO_PARENT) continue;
            sq[p] += (double) r.advantage()[i] * r.advantage()[i];
            allZero[p] &= r.advantage()[i] == 0;
        }
        for (int i = 0; i < f.numNodes(); i++) {
            if (r.childCount()[i] > 0 && !allZero[i]) {
                assertEquals(1.0, Math.sqrt(sq[i] / r.childCount()[i]), 1e-5, "children of node " + i);
            }
        }
    }

    @Test
    void depthsAndChildCountsDescribeTheStructure() {
        Forest f = TreeBackupInputs.fullForest(2, 1, 3, 2);
        TreeBackupResult r = TreeBackupReference.backup(TreeBackupConfig.spoTree(), f);
        assertEquals(20, f.numNodes()); // 2 trees of 1 + 3 + 6
        for (int i = 0; i < f.numNodes(); i++) {
            int expectedDepth = f.parent(i) == Forest.NO_PARENT ? 0 : r.depth()[f.parent(i)] + 1;
            assertEquals(expectedDepth, r.depth()[i]);
            assertEquals(r.depth()[i] == 0 ? 3 : r.depth()[i] == 1 ? 2 : 0, r.childCount()[i]);
        }
    }
}
