package io.github.spo4j.kernels.tree;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The libtorch Tensor entry (zero copy, checked) and the composed-torch baseline as a second oracle. */
class TreeBackupTensorTest {
    @BeforeAll
    static void threads() {
        torch.set_num_threads(1);
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void tensorEntryEqualsForestEntry(Backend backend) {
        Forest f = TreeBackupInputs.randomForest(700, 21, 5, 4, true);
        TreeBackupConfig config = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.DIFF_OVER_STD);
        TreeBackupResult expected = TreeBackupReference.backup(config, f);
        int n = f.numNodes(), t = f.numTrees();
        try (PointerScope scope = new PointerScope()) {
            Tensor value = torch.zeros(n), adv = torch.zeros(n), root = torch.zeros(t);
            Tensor childCount = torch.zeros(new long[] {n}, new TensorOptions(ScalarType.Int));
            Tensor depth = torch.zeros(new long[] {n}, new TensorOptions(ScalarType.Int));
            Tensor nonzero = torch.zeros(new long[] {t}, new TensorOptions(ScalarType.Int));
            TreeBackup.create(backend)
                    .backup(
                            config,
                            AbstractTensor.create(f.treeOffsets()),
                            AbstractTensor.create(f.parents()),
                            AbstractTensor.create(f.leafRewards()),
                            AbstractTensor.create(f.weights()),
                            value,
                            adv,
                            childCount,
                            depth,
                            root,
                            nonzero);
            assertArrayEquals(expected.value(), floats(value));
            assertArrayEquals(expected.advantage(), floats(adv));
            assertArrayEquals(expected.rootValue(), floats(root));
            assertArrayEquals(expected.childCount(), ints(childCount));
            assertArrayEquals(expected.depth(), ints(depth));
            assertArrayEquals(expected.nonzeroAdvantages(), ints(nonzero));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.github.spo4j.kernels.tree.TreeBackupKernelTest#allConfigs")
    void composedTorchAgreesWithReference(TreeBackupConfig config) {
        Forest f = TreeBackupInputs.randomForest(500, 31, 5, 5, true);
        TreeBackupResult expected = TreeBackupReference.backup(config, f);
        try (PointerScope scope = new PointerScope()) {
            TreeBackupTorch.Result r = TreeBackupTorch.backup(
                    config,
                    AbstractTensor.create(f.parents()),
                    AbstractTensor.create(f.leafRewards()),
                    AbstractTensor.create(f.weights()));
            assertAllClose(config + " value", expected.value(), floats(r.value()), 1e-6, 1e-6);
            assertAllClose(config + " advantage", expected.advantage(), floats(r.advantage()), 1e-5, 1e-5);
        }
    }

    @Test
    void badTensorsAreNamed() {
        Forest f = TreeBackupInputs.randomForest(3, 1, 3, 2, false);
        int n = f.numNodes();
        TreeBackup cpu = TreeBackup.create(Backend.CPU);
        try (PointerScope scope = new PointerScope()) {
            Tensor offs = AbstractTensor.create(f.treeOffsets());
            Tensor parent = AbstractTensor.create(f.parents());
            Tensor reward = AbstractTensor.create(f.leafRewards());
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.backup(
                            TreeBackupConfig.spoTree(),
                            offs,
                            parent.to(ScalarType.Long),
                            reward,
                            null,
                            torch.zeros(n),
                            null,
                            null,
                            null,
                            null,
                            null));
            assertTrue(e.getMessage().startsWith("parent must have dtype Int"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.backup(
                            TreeBackupConfig.spoTree(),
                            offs,
                            parent,
                            reward,
                            null,
                            torch.zeros(n, 2).t().select(0, 0),
                            null,
                            null,
                            null,
                            null,
                            null));
            assertTrue(e.getMessage().startsWith("value is an output and must be contiguous"), e.getMessage());
            e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cpu.backup(
                            TreeBackupConfig.spoTree(),
                            offs,
                            parent,
                            reward,
                            null,
                            torch.zeros(n + 1),
                            null,
                            null,
                            null,
                            null,
                            null));
            assertTrue(e.getMessage().startsWith("value has " + (n + 1) + " elements"), e.getMessage());
        }
    }

    private static float[] floats(Tensor t) {
        float[] out = new float[(int) t.numel()];
        if (out.length > 0) t.contiguous().data_ptr_float().get(out);
        return out;
    }

    private static int[] ints(Tensor t) {
        int[] out = new int[(int) t.numel()];
        if (out.length > 0) t.contiguous().data_ptr_int().get(out);
        return out;
    }
}
