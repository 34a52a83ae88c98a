package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.KernelCall;
import io.github.spo4j.kernels.engine.KernelCall.Arg;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Values and advantages of every node of a {@link Forest} in one call (SPO-tree's backup), on one
 * {@link Backend}. The math is on {@link TreeBackupReference}; the CPU and CUDA kernels give the same bits.
 *
 * <p>Three input forms: a {@link Forest} (validated when it was made); JavaCPP pointers (zero copy; host
 * memory for {@link Backend#CPU} and {@link Backend#REFERENCE}, device memory for {@link Backend#CUDA});
 * libtorch {@link Tensor}s (zero copy; dtype, device and contiguity checked). The structure of pointer and
 * tensor inputs is checked by the native code in a read-only pass with the messages of
 * {@link Forest#validate}: a bad forest is an {@link IllegalArgumentException} and no output is written.
 *
 * <pre>{@code
 * TreeBackupResult r = TreeBackup.create().backup(TreeBackupConfig.spoTree(), forest);
 * float a = r.advantage()[node];
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class TreeBackup {
    private final Backend backend;

    private TreeBackup(Backend backend) {
        this.backend = backend;
    }

    /** On {@link Backend#auto()}. */
    public static TreeBackup create() {
        return new TreeBackup(Backend.auto());
    }

    /** On the given backend; throws {@link IllegalStateException} if it cannot run here. */
    public static TreeBackup create(Backend backend) {
        Checks.notNull(backend, "backend");
        return new TreeBackup(backend.requireAvailable());
    }

    public Backend backend() {
        return backend;
    }

    /** The backup of a forest; all outputs are filled. */
    public TreeBackupResult backup(TreeBackupConfig config, Forest forest) {
        Checks.notNull(config, "config");
        Checks.notNull(forest, "forest");
        if (backend == Backend.REFERENCE) return TreeBackupReference.backup(config, forest);
        TreeBackupResult out = TreeBackupResult.allocate(forest.numNodes(), forest.numTrees());
        try (KernelCall c = new KernelCall(backend)) {
            backup(
                    c,
                    config,
                    forest.numNodes(),
                    forest.numTrees(),
                    c.host(forest.treeOffsetsArray()),
                    c.host(forest.parentArray()),
                    c.host(forest.leafRewardArray()),
                    c.host(forest.weightArray()),
                    c.hostOut(out.value()),
                    c.hostOut(out.advantage()),
                    c.hostOut(out.childCount()),
                    c.hostOut(out.depth()),
                    c.hostOut(out.rootValue()),
                    c.hostOut(out.nonzeroAdvantages()));
        }
        return out;
    }

    /**
     * The backup over JavaCPP pointers, without copies (host memory for CPU and REFERENCE, device memory
     * for CUDA). Pointers are read from their position.
     *
     * @param numNodes          N
     * @param numTrees          T
     * @param treeOffsets       [T+1] int32
     * @param parent            [N] int32
     * @param leafReward        [N]
     * @param weight            [N], or null for equal weights
     * @param value             [N] output
     * @param advantage         [N] output, or null
     * @param childCount        [N] output, or null
     * @param depth             [N] output, or null
     * @param rootValue         [T] output, or null
     * @param nonzeroAdvantages [T] output, or null (needs {@code advantage})
     */
    public void backup(
            TreeBackupConfig config,
            long numNodes,
            int numTrees,
            IntPointer treeOffsets,
            IntPointer parent,
            FloatPointer leafReward,
            FloatPointer weight,
            FloatPointer value,
            FloatPointer advantage,
            IntPointer childCount,
            IntPointer depth,
            FloatPointer rootValue,
            IntPointer nonzeroAdvantages) {
        try (KernelCall c = new KernelCall(backend)) {
            backup(
                    c,
                    config,
                    numNodes,
                    numTrees,
                    treeOffsets,
                    parent,
                    leafReward,
                    weight,
                    value,
                    advantage,
                    childCount,
                    depth,
                    rootValue,
                    nonzeroAdvantages);
        }
    }

    /**
     * The backup over libtorch tensors on this backend's device, zero copy (inputs that are not contiguous
     * are copied; outputs must be contiguous).
     *
     * @param treeOffsets int32 [T+1]
     * @param parent      int32, N elements
     * @param leafReward  float32, N elements
     * @param weight      float32 or null
     * @param value       float32 output, N elements
     * @param advantage   float32 output or null; likewise childCount, depth (int32 [N]), rootValue (float32
     *                    [T]) and nonzeroAdvantages (int32 [T])
     */
    public void backup(
            TreeBackupConfig config,
            Tensor treeOffsets,
            Tensor parent,
            Tensor leafReward,
            Tensor weight,
            Tensor value,
            Tensor advantage,
            Tensor childCount,
            Tensor depth,
            Tensor rootValue,
            Tensor nonzeroAdvantages) {
        Checks.notNull(treeOffsets, "treeOffsets");
        Checks.notNull(parent, "parent");
        long n = parent.numel();
        try (KernelCall c = new KernelCall(backend)) {
            IntPointer offs =
                    c.tensor("treeOffsets", treeOffsets, -1, ScalarType.Int).asInts();
            long trees = treeOffsets.numel() - 1;
            IntPointer par = c.tensor("parent", parent, n, ScalarType.Int).asInts();
            FloatPointer reward =
                    c.tensor("leafReward", leafReward, n, ScalarType.Float).asFloats();
            FloatPointer w = c.tensor("weight", weight, n, ScalarType.Float).asFloats();
            FloatPointer val = c.tensorOut("value", value, n, ScalarType.Float).asFloats();
            FloatPointer adv =
                    c.tensorOut("advantage", advantage, n, ScalarType.Float).asFloats();
            IntPointer cc =
                    c.tensorOut("childCount", childCount, n, ScalarType.Int).asInts();
            IntPointer dep = c.tensorOut("depth", depth, n, ScalarType.Int).asInts();
            FloatPointer root =
                    c.tensorOut("rootValue", rootValue, trees, ScalarType.Float).asFloats();
            IntPointer nz = c.tensorOut("nonzeroAdvantages", nonzeroAdvantages, trees, ScalarType.Int)
                    .asInts();
            Checks.require(trees <= Integer.MAX_VALUE, "treeOffsets has too many entries");
            backup(c, config, n, (int) trees, offs, par, reward, w, val, adv, cc, dep, root, nz);
        }
    }

    /** Every form: the op's checks, its arguments, then the reference or the native kernel. */
    private void backup(
            KernelCall c,
            TreeBackupConfig config,
            long n,
            int numTrees,
            IntPointer treeOffsets,
            IntPointer parent,
            FloatPointer leafReward,
            FloatPointer weight,
            FloatPointer value,
            FloatPointer advantage,
            IntPointer childCount,
            IntPointer depth,
            FloatPointer rootValue,
            IntPointer nonzeroAdvantages) {
        Checks.notNull(config, "config");
        Checks.require(n >= 0, "numNodes must be >= 0, got " + n);
        Checks.require(n <= Integer.MAX_VALUE, "numNodes must fit in int32 (parent indices are int32), got " + n);
        Checks.require(numTrees >= 0, "numTrees must be >= 0, got " + numTrees);
        Checks.require(numTrees > 0 || n == 0, "numTrees = 0 trees cannot hold numNodes = " + n + " nodes");
        Checks.require(
                numTrees <= n, "numTrees = " + numTrees + " exceeds numNodes = " + n + " (every tree has a root)");
        if (numTrees > 0) {
            Checks.notNull(treeOffsets, "treeOffsets");
            Checks.notNull(parent, "parent");
            Checks.notNull(leafReward, "leafReward");
            Checks.notNull(value, "value");
            Checks.require(
                    nonzeroAdvantages == null || advantage != null,
                    "nonzeroAdvantages needs the advantage output (it counts A != 0)");
        }
        Arg offs = c.in("treeOffsets", treeOffsets, numTrees + 1L);
        Arg par = c.in("parent", parent, n);
        Arg reward = c.in("leafReward", leafReward, n);
        Arg w = c.in("weight", weight, n);
        Arg val = c.out("value", value, n);
        Arg adv = c.out("advantage", advantage, n);
        Arg cc = c.out("childCount", childCount, n);
        Arg dep = c.out("depth", depth, n);
        Arg root = c.out("rootValue", rootValue, numTrees);
        Arg nz = c.out("nonzeroAdvantages", nonzeroAdvantages, numTrees);
        if (numTrees == 0) return;
        if (c.reference()) {
            TreeBackupResult r = TreeBackupReference.backup(
                    config, Forest.of(offs.readInts(), par.readInts(), reward.readFloats(), w.readFloats()));
            val.write(r.value());
            adv.write(r.advantage());
            cc.write(r.childCount());
            dep.write(r.depth());
            root.write(r.rootValue());
            nz.write(r.nonzeroAdvantages());
            return;
        }
        c.run(() -> Spo4jNative.spo4j_tree_backup(
                c.device(),
                n,
                numTrees,
                offs.asInts(),
                par.asInts(),
                reward.asFloats(),
                w.asFloats(),
                config.valueMode().code,
                config.advantageMode().code,
                config.stdEps(),
                val.asFloats(),
                adv.asFloats(),
                cc.asInts(),
                dep.asInts(),
                root.asFloats(),
                nz.asInts(),
                c.stream()));
    }
}
