package io.github.spo4j.kernels.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The native CPU tree backup against the reference: the same bits on random forests, in every mode. */
class TreeBackupKernelTest {
    private static final TreeBackup CPU = TreeBackup.create(Backend.CPU);

    static List<TreeBackupConfig> allConfigs() {
        List<TreeBackupConfig> out = new ArrayList<>();
        for (TreeValueMode v : TreeValueMode.values()) {
            for (TreeAdvantageMode a : TreeAdvantageMode.values()) {
                out.add(new TreeBackupConfig(v, a, TreeBackupConfig.DEFAULT_STD_EPS));
            }
        }
        out.add(new TreeBackupConfig(TreeValueMode.LEAF_MEAN, TreeAdvantageMode.DIFF_OVER_STD, 0f));
        return out;
    }

    static Stream<Arguments> randomCases() {
        List<Arguments> out = new ArrayList<>();
        for (TreeBackupConfig c : allConfigs()) {
            for (boolean weighted : new boolean[] {false, true}) out.add(Arguments.of(c, weighted));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} weighted={1}")
    @MethodSource("randomCases")
    void randomForestsMatchReferenceBitForBit(TreeBackupConfig config, boolean weighted) {
        // Thousands of trees of random shape; > 16K nodes, so several parallel chunks.
        Forest forest = TreeBackupInputs.randomForest(3000, 17 + (weighted ? 1 : 0), 5, 5, weighted);
        assertSame(config + "", TreeBackupReference.backup(config, forest), CPU.backup(config, forest));
    }

    @Test
    void sixSixSixForestsOfEverySizeMatchReference() {
        for (int trees : new int[] {1, 64, 1111}) {
            Forest forest = TreeBackupInputs.fullForest(trees, trees, 6, 6, 6);
            assertEquals(259 * trees, forest.numNodes());
            assertSame(
                    trees + " trees",
                    TreeBackupReference.backup(TreeBackupConfig.spoTree(), forest),
                    CPU.backup(TreeBackupConfig.spoTree(), forest));
        }
    }

    @Test
    void oneHugeTreeMatchesReference() {
        // 61,551 nodes in one tree: one chunk, big scratch
        Forest forest = TreeBackupInputs.fullForest(1, 3, 50, 40, 30);
        TreeBackupConfig config = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.DIFF_OVER_STD);
        assertSame("huge", TreeBackupReference.backup(config, forest), CPU.backup(config, forest));
    }

    @Test
    void emptyForestIsANoOp() {
        Forest empty = Forest.of(new int[] {0}, new int[0], new float[0]);
        TreeBackupResult r = CPU.backup(TreeBackupConfig.spoTree(), empty);
        assertEquals(0, r.value().length);
        assertEquals(0, r.rootValue().length);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Forest forest = TreeBackupInputs.randomForest(4000, 99, 6, 4, true);
        TreeBackupConfig config = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.LEAVE_ONE_OUT);
        int threads = Spo4jNative.spo4j_get_num_threads();
        try {
            Spo4jNative.spo4j_set_num_threads(1);
            TreeBackupResult one = CPU.backup(config, forest);
            Spo4jNative.spo4j_set_num_threads(3);
            TreeBackupResult three = CPU.backup(config, forest);
            assertSame("1 vs 3 threads", one, three);
            assertSame("run to run", three, CPU.backup(config, forest));
        } finally {
            Spo4jNative.spo4j_set_num_threads(threads);
        }
    }

    @Test
    void pointerEntryWithOptionalOutputsOmitted() {
        Forest forest = TreeBackupInputs.randomForest(500, 5, 4, 4, false);
        TreeBackupConfig config = TreeBackupConfig.spoTree();
        TreeBackupResult expected = TreeBackupReference.backup(config, forest);
        int n = forest.numNodes(), t = forest.numTrees();
        for (Backend backend : new Backend[] {Backend.CPU, Backend.REFERENCE}) {
            try (PointerScope scope = new PointerScope()) {
                FloatPointer value = new FloatPointer(n);
                FloatPointer root = new FloatPointer(t);
                TreeBackup.create(backend)
                        .backup(
                                config,
                                n,
                                t,
                                new IntPointer(forest.treeOffsets()),
                                new IntPointer(forest.parents()),
                                new FloatPointer(forest.leafRewards()),
                                null,
                                value,
                                null,
                                null,
                                null,
                                root,
                                null);
                float[] v = new float[n], r = new float[t];
                value.get(v);
                root.get(r);
                assertArrayEquals(expected.value(), v, backend + " value");
                assertArrayEquals(expected.rootValue(), r, backend + " rootValue");
            }
        }
    }

    @Test
    void nonzeroCountsAreTheEdgesWithNonzeroAdvantage() {
        Forest forest = TreeBackupInputs.randomForest(800, 8, 4, 3, false);
        TreeBackupResult r = CPU.backup(TreeBackupConfig.spoTree(), forest);
        for (int k = 0; k < forest.numTrees(); k++) {
            int count = 0;
            for (int i = forest.treeStart(k) + 1; i < forest.treeStart(k) + forest.treeSize(k); i++) {
                if (r.advantage()[i] != 0f) count++;
            }
            assertEquals(count, r.nonzeroAdvantages()[k], "tree " + k);
        }
    }

    static void assertSame(String what, TreeBackupResult expected, TreeBackupResult actual) {
        assertArrayEquals(expected.value(), actual.value(), what + " value");
        assertArrayEquals(expected.advantage(), actual.advantage(), what + " advantage");
        assertArrayEquals(expected.childCount(), actual.childCount(), what + " childCount");
        assertArrayEquals(expected.depth(), actual.depth(), what + " depth");
        assertArrayEquals(expected.rootValue(), actual.rootValue(), what + " rootValue");
        assertArrayEquals(expected.nonzeroAdvantages(), actual.nonzeroAdvantages(), what + " nonzeroAdvantages");
    }
}
