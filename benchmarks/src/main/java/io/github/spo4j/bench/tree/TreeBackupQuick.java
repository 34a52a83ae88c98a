package io.github.spo4j.bench.tree;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.bench.QuickCase;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupReference;
import io.github.spo4j.kernels.tree.TreeBackupResult;
import io.github.spo4j.kernels.tree.TreeBackupTorch;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The tree backup in the quick side-by-side ({@code tree_backup}): its "gradient" is the advantages, its "loss" the
 * sum of the trees' root values. {@code reference} is {@link TreeBackupReference} on the {@link Forest}, {@code cpu}
 * and {@code cuda} the native kernels through the zero-copy pointer entry with every output, {@code torch}
 * {@link TreeBackupTorch} (the level-synchronous {@code index_add_} composition).
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class TreeBackupQuick {
    private TreeBackupQuick() {}

    /**
     * The backup of {@code forest}; 24 B per node (parent, reward read; value, advantage, child count, depth
     * written).
     */
    public static QuickCase of(TreeBackupConfig config, Forest forest) {
        return new TreeCase(config, forest);
    }

    private record TreeCase(TreeBackupConfig config, Forest forest) implements QuickCase {
        @Override
        public String kernel() {
            return "tree_backup";
        }

        @Override
        public String shape() {
            return "T=" + forest.numTrees() + " N=" + forest.numNodes();
        }

        @Override
        public long bytes() {
            return 24L * forest.numNodes();
        }

        @Override
        public Impl create(String impl) {
            return switch (impl) {
                case "reference" -> new TreeOnReference(config, forest);
                case "cpu" -> new TreeOnPointers(config, forest, false);
                case "cuda" -> new TreeOnPointers(config, forest, true);
                case "torch" -> new TreeOnTorch(config, forest);
                default -> throw new IllegalArgumentException(impl);
            };
        }
    }

    private static final class TreeOnReference implements QuickCase.Impl {
        private final TreeBackupConfig config;
        private final Forest forest;
        private TreeBackupResult last;

        TreeOnReference(TreeBackupConfig config, Forest forest) {
            this.config = config;
            this.forest = forest;
        }

        @Override
        public double run() {
            last = TreeBackupReference.backup(config, forest);
            return QuickCase.sum(last.rootValue());
        }

        @Override
        public float[] gradient() {
            return last.advantage();
        }

        @Override
        public void close() {}
    }

    private static final class TreeOnPointers implements QuickCase.Impl {
        private final TreeBackupConfig config;
        private final TreeBackup backup;
        private final int n, t;
        private final BenchSupport.Buffers buf;
        private final IntPointer offsets, parent, childCount, depth, nonzero;
        private final FloatPointer reward, value, advantage, rootValue;

        TreeOnPointers(TreeBackupConfig config, Forest f, boolean cuda) {
            this.config = config;
            this.backup = TreeBackup.create(cuda ? Backend.CUDA : Backend.CPU);
            this.n = f.numNodes();
            this.t = f.numTrees();
            buf = new BenchSupport.Buffers(cuda);
            offsets = buf.ints(f.treeOffsets());
            parent = buf.ints(f.parents());
            reward = buf.floats(f.leafRewards());
            value = buf.floats((long) n);
            advantage = buf.floats((long) n);
            childCount = buf.ints((long) n);
            depth = buf.ints((long) n);
            rootValue = buf.floats((long) t);
            nonzero = buf.ints((long) t);
        }

        @Override
        public double run() {
            backup.backup(
                    config,
                    n,
                    t,
                    offsets,
                    parent,
                    reward,
                    null,
                    value,
                    advantage,
                    childCount,
                    depth,
                    rootValue,
                    nonzero);
            return QuickCase.sum(buf.read(rootValue, t));
        }

        @Override
        public float[] gradient() {
            return buf.read(advantage, n);
        }

        @Override
        public void close() {
            buf.close();
        }
    }

    /** {@link TreeBackupTorch}: the level-synchronous index_add composition. */
    private static final class TreeOnTorch implements QuickCase.Impl {
        private final TreeBackupConfig config;
        private final Tensor parent, reward;
        private final int[] roots;
        private float[] advantage;

        TreeOnTorch(TreeBackupConfig config, Forest f) {
            this.config = config;
            parent = BenchSupport.Tensors.ints(f.parents());
            reward = BenchSupport.Tensors.floats(f.leafRewards());
            roots = Arrays.copyOf(f.treeOffsets(), f.numTrees());
        }

        @Override
        public double run() {
            try (PointerScope scope = new PointerScope()) {
                TreeBackupTorch.Result r = TreeBackupTorch.backup(config, parent, reward, null);
                float[] value = BenchSupport.Tensors.toFloats(r.value());
                advantage = BenchSupport.Tensors.toFloats(r.advantage());
                double s = 0;
                for (int root : roots) s += value[root];
                return s;
            }
        }

        @Override
        public float[] gradient() {
            return advantage;
        }

        @Override
        public void close() {
            BenchSupport.Tensors.release(parent, reward);
        }
    }
}
