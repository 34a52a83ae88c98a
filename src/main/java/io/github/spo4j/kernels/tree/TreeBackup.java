package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.engine.Staging;
import io.github.spo4j.kernels.engine.TensorArgs;
import static io.github.spo4j.kernels.engine.NativeArrays.capacity;
import static io.github.spo4j.kernels.engine.NativeArrays.cast;
import static io.github.spo4j.kernels.engine.NativeArrays.floats;
import static io.github.spo4j.kernels.engine.NativeArrays.ints;
import static io.github.spo4j.kernels.engine.NativeArrays.toFloats;
import static io.github.spo4j.kernels.engine.NativeArrays.toInts;

import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
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
        int n = forest.numNodes(), t = forest.numTrees();
        TreeBackupResult out = TreeBackupResult.allocate(n, t);
        try (PointerScope scope = new PointerScope()) {
            FloatPointer value = new FloatPointer(Math.max(n, 1));
            FloatPointer adv = new FloatPointer(Math.max(n, 1));
            IntPointer childCount = new IntPointer(Math.max(n, 1));
            IntPointer depth = new IntPointer(Math.max(n, 1));
            FloatPointer rootValue = new FloatPointer(Math.max(t, 1));
            IntPointer nonzero = new IntPointer(Math.max(t, 1));
            backup(config, n, t, ints(forest.treeOffsetsArray()), ints(forest.parentArray()),
                    floats(forest.leafRewardArray()), floats(forest.weightArray()), value, adv, childCount, depth,
                    rootValue, nonzero, true);
            if (n > 0) {
                value.get(out.value());
                adv.get(out.advantage());
                childCount.get(out.childCount());
                depth.get(out.depth());
                rootValue.get(out.rootValue());
                nonzero.get(out.nonzeroAdvantages());
            }
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
    public void backup(TreeBackupConfig config, long numNodes, int numTrees, IntPointer treeOffsets, IntPointer parent,
            FloatPointer leafReward, FloatPointer weight, FloatPointer value, FloatPointer advantage,
            IntPointer childCount, IntPointer depth, FloatPointer rootValue, IntPointer nonzeroAdvantages) {
        backup(config, numNodes, numTrees, treeOffsets, parent, leafReward, weight, value, advantage, childCount,
                depth, rootValue, nonzeroAdvantages, false);
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
    public void backup(TreeBackupConfig config, Tensor treeOffsets, Tensor parent, Tensor leafReward, Tensor weight,
            Tensor value, Tensor advantage, Tensor childCount, Tensor depth, Tensor rootValue,
            Tensor nonzeroAdvantages) {
        Checks.notNull(treeOffsets, "treeOffsets");
        Checks.notNull(parent, "parent");
        long n = parent.numel();
        TensorArgs t = new TensorArgs(backend);
        IntPointer offs = t.in(treeOffsets, "treeOffsets", -1, ScalarType.Int).asInts();
        long trees = treeOffsets.numel() - 1;
        IntPointer par = t.in(parent, "parent", n, ScalarType.Int).asInts();
        FloatPointer reward = t.in(leafReward, "leafReward", n, ScalarType.Float).asFloats();
        FloatPointer w = t.in(weight, "weight", n, ScalarType.Float).asFloats();
        FloatPointer val = t.out(value, "value", n, ScalarType.Float).asFloats();
        FloatPointer adv = t.out(advantage, "advantage", n, ScalarType.Float).asFloats();
        IntPointer cc = t.out(childCount, "childCount", n, ScalarType.Int).asInts();
        IntPointer dep = t.out(depth, "depth", n, ScalarType.Int).asInts();
        FloatPointer root = t.out(rootValue, "rootValue", trees, ScalarType.Float).asFloats();
        IntPointer nz = t.out(nonzeroAdvantages, "nonzeroAdvantages", trees, ScalarType.Int).asInts();
        Checks.require(trees <= Integer.MAX_VALUE, "treeOffsets has too many entries");
        try {
            backup(config, n, (int) trees, offs, par, reward, w, val, adv, cc, dep, root, nz, false);
        } finally {
            t.release();
        }
    }

    private void backup(TreeBackupConfig config, long n, int numTrees, IntPointer treeOffsets, IntPointer parent,
            FloatPointer leafReward, FloatPointer weight, FloatPointer value, FloatPointer advantage,
            IntPointer childCount, IntPointer depth, FloatPointer rootValue, IntPointer nonzeroAdvantages,
            boolean hostStaged) {
        Checks.notNull(config, "config");
        Checks.require(n >= 0, "numNodes must be >= 0, got " + n);
        Checks.require(n <= Integer.MAX_VALUE, "numNodes must fit in int32 (parent indices are int32), got " + n);
        Checks.require(numTrees >= 0, "numTrees must be >= 0, got " + numTrees);
        Checks.require(numTrees > 0 || n == 0, "numTrees = 0 trees cannot hold numNodes = " + n + " nodes");
        Checks.require(numTrees <= n, "numTrees = " + numTrees + " exceeds numNodes = " + n + " (every tree has a root)");
        if (numTrees > 0) {
            Checks.notNull(treeOffsets, "treeOffsets");
            Checks.notNull(parent, "parent");
            Checks.notNull(leafReward, "leafReward");
            Checks.notNull(value, "value");
            Checks.require(nonzeroAdvantages == null || advantage != null,
                    "nonzeroAdvantages needs the advantage output (it counts A != 0)");
        }
        capacity(treeOffsets, numTrees + 1L, "treeOffsets");
        capacity(parent, n, "parent");
        capacity(leafReward, n, "leafReward");
        capacity(weight, n, "weight");
        capacity(value, n, "value");
        capacity(advantage, n, "advantage");
        capacity(childCount, n, "childCount");
        capacity(depth, n, "depth");
        capacity(rootValue, numTrees, "rootValue");
        capacity(nonzeroAdvantages, numTrees, "nonzeroAdvantages");
        if (numTrees == 0) return;
        if (backend == Backend.REFERENCE) {
            Forest forest = Forest.of(toInts(treeOffsets, numTrees + 1L), toInts(parent, n), toFloats(leafReward, n),
                    toFloats(weight, n));
            TreeBackupResult r = TreeBackupReference.backup(config, forest);
            value.put(r.value());
            if (advantage != null) advantage.put(r.advantage());
            if (childCount != null) childCount.put(r.childCount());
            if (depth != null) depth.put(r.depth());
            if (rootValue != null) rootValue.put(r.rootValue());
            if (nonzeroAdvantages != null) nonzeroAdvantages.put(r.nonzeroAdvantages());
            return;
        }
        if (backend == Backend.CUDA && hostStaged) {
            try (Staging s = new Staging()) {
                DeviceMemory val = s.alloc(n * 4);
                DeviceMemory adv = advantage != null ? s.alloc(n * 4) : null;
                DeviceMemory cc = childCount != null ? s.alloc(n * 4) : null;
                DeviceMemory dep = depth != null ? s.alloc(n * 4) : null;
                DeviceMemory root = rootValue != null ? s.alloc(numTrees * 4L) : null;
                DeviceMemory nz = nonzeroAdvantages != null ? s.alloc(numTrees * 4L) : null;
                call(config, n, numTrees, s.in(treeOffsets, (numTrees + 1L) * 4), s.in(parent, n * 4),
                        s.in(leafReward, n * 4), s.in(weight, n * 4), val.pointer(), DeviceMemory.pointerOf(adv),
                        DeviceMemory.pointerOf(cc), DeviceMemory.pointerOf(dep), DeviceMemory.pointerOf(root),
                        DeviceMemory.pointerOf(nz));
                val.copyTo(value);
                if (adv != null) adv.copyTo(advantage);
                if (cc != null) cc.copyTo(childCount);
                if (dep != null) dep.copyTo(depth);
                if (root != null) root.copyTo(rootValue);
                if (nz != null) nz.copyTo(nonzeroAdvantages);
                return;
            }
        }
        call(config, n, numTrees, treeOffsets, parent, leafReward, weight, value, advantage, childCount, depth,
                rootValue, nonzeroAdvantages);
    }

    private void call(TreeBackupConfig config, long n, int numTrees, Pointer treeOffsets, Pointer parent,
            Pointer leafReward, Pointer weight, Pointer value, Pointer advantage, Pointer childCount, Pointer depth,
            Pointer rootValue, Pointer nonzeroAdvantages) {
        int device = backend == Backend.CUDA ? Spo4jNative.SPO4J_DEVICE_CUDA : Spo4jNative.SPO4J_DEVICE_CPU;
        NativeLibrary.check(Spo4jNative.spo4j_tree_backup(device, n, numTrees, cast(treeOffsets, IntPointer.class),
                cast(parent, IntPointer.class), cast(leafReward, FloatPointer.class), cast(weight, FloatPointer.class),
                config.valueMode().code, config.advantageMode().code, config.stdEps(), cast(value, FloatPointer.class),
                cast(advantage, FloatPointer.class), cast(childCount, IntPointer.class), cast(depth, IntPointer.class),
                cast(rootValue, FloatPointer.class), cast(nonzeroAdvantages, IntPointer.class), null));
    }
}
