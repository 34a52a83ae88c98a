package io.github.spo4j.kernels.tree;

import static io.github.spo4j.testutil.MessageParity.assertSameMessage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The tree backup's Java checks and {@code spo4j_tree_backup}'s give the same message for the same bad input:
 * stdEps, the sizes and the pointers. (The forest's structure and values: TreeBackupBadInputTest compares
 * {@link Forest#of} with the native check.)
 */
class TreeBackupMessageParityTest {
    private static final int CPU = Spo4jNative.SPO4J_DEVICE_CPU;

    private final TreeBackup cpu = TreeBackup.create(Backend.CPU);
    private PointerScope scope;
    private IntPointer offsets, parent;
    private FloatPointer reward, value;

    @BeforeEach
    void open() {
        scope = new PointerScope();
        offsets = new IntPointer(new int[] {0, 2});
        parent = new IntPointer(new int[] {-1, 0});
        reward = new FloatPointer(0f, 1f);
        value = new FloatPointer(2);
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @ParameterizedTest
    @ValueSource(floats = {-1f, Float.NaN, Float.POSITIVE_INFINITY})
    void stdEps(float stdEps) {
        TreeBackupConfig spo = TreeBackupConfig.spoTree();
        assertSameMessage(
                () -> spo.withStdEps(stdEps),
                () -> Spo4jNative.spo4j_tree_backup(
                        CPU,
                        2,
                        1,
                        offsets,
                        parent,
                        reward,
                        null,
                        spo.valueMode().code,
                        spo.advantageMode().code,
                        stdEps,
                        value,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null));
    }

    @Test
    void sizesAndPointers() {
        call(-1, 1, offsets, parent, reward, value, null, null);
        call(1L << 31, 1, offsets, parent, reward, value, null, null);
        call(2, -2, offsets, parent, reward, value, null, null);
        call(2, 0, offsets, parent, reward, value, null, null);
        call(2, 3, offsets, parent, reward, value, null, null);
        call(2, 1, null, parent, reward, value, null, null);
        call(2, 1, offsets, null, reward, value, null, null);
        call(2, 1, offsets, parent, null, value, null, null);
        call(2, 1, offsets, parent, reward, null, null, null);
        call(2, 1, offsets, parent, reward, value, null, new IntPointer(1));
    }

    private void call(
            long n,
            int numTrees,
            IntPointer treeOffsets,
            IntPointer parent,
            FloatPointer leafReward,
            FloatPointer value,
            FloatPointer advantage,
            IntPointer nonzeroAdvantages) {
        TreeBackupConfig c = TreeBackupConfig.spoTree();
        assertSameMessage(
                () -> cpu.backup(
                        c,
                        n,
                        numTrees,
                        treeOffsets,
                        parent,
                        leafReward,
                        null,
                        value,
                        advantage,
                        null,
                        null,
                        null,
                        nonzeroAdvantages),
                () -> Spo4jNative.spo4j_tree_backup(
                        CPU,
                        n,
                        numTrees,
                        treeOffsets,
                        parent,
                        leafReward,
                        null,
                        c.valueMode().code,
                        c.advantageMode().code,
                        c.stdEps(),
                        value,
                        advantage,
                        null,
                        null,
                        null,
                        nonzeroAdvantages,
                        null));
    }
}
