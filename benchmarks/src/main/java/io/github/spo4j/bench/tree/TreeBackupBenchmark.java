package io.github.spo4j.bench.tree;

import io.github.spo4j.bench.BenchSupport;
import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupInputs;
import io.github.spo4j.kernels.tree.TreeBackupReference;
import io.github.spo4j.kernels.tree.TreeBackupTorch;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The tree backup (SPO-tree config: child-mean values, A = V(n) − V(parent)) of a whole forest, all outputs
 * (value, advantage, child count, depth, root value, non-zero count per tree).
 *
 * <ul>
 *   <li>{@code reference}: {@link TreeBackupReference#backup} on a {@link Forest} (the baseline).</li>
 *   <li>{@code cpu}: the native kernel through the zero-copy pointer entry, buffers allocated once.</li>
 *   <li>{@code torch}: {@link TreeBackupTorch#backup} (level-synchronous {@code index_add_} composition) on
 *       tensors made once; values and advantages only.</li>
 *   <li>{@code cuda}: the native CUDA kernel on device buffers; only with {@code -p impl=cuda}.</li>
 * </ul>
 *
 * Shapes: {@code 666xT} is T full 6-6-6 trees (259 nodes each: 1, 64, 4096 trees, the last 1.06 M nodes);
 * {@code randomxT} is T trees of random shape (0..6 children per node, depth 0..6, early leaves, weights),
 * about 40 nodes per tree on average.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(
        value = 1,
        jvmArgsPrepend = {
            "--enable-native-access=ALL-UNNAMED",
            "-Xss4m",
            "-Dorg.bytedeco.javacpp.cachedir=target/javacpp-cache"
        })
@State(Scope.Benchmark)
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public class TreeBackupBenchmark {
    @Param({"reference", "cpu", "torch"})
    public String impl;

    @Param({"666x1", "666x64", "666x4096", "randomx4096"})
    public String shape;

    private final TreeBackupConfig config = TreeBackupConfig.spoTree();
    private DoubleSupplier step;
    private AutoCloseable resources;

    /** The forest of a shape parameter. */
    public static Forest forest(String shape) {
        String[] kind = shape.split("x");
        int trees = Integer.parseInt(kind[1]);
        return switch (kind[0]) {
            case "666" -> TreeBackupInputs.fullForest(trees, BenchSupport.SEED, 6, 6, 6);
            case "random" -> TreeBackupInputs.randomForest(trees, BenchSupport.SEED, 6, 6, true);
            default -> throw new IllegalArgumentException("shape must be 666xT or randomxT, got " + shape);
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        BenchSupport.configureThreads();
        Forest f = forest(shape);
        int n = f.numNodes(), t = f.numTrees();
        switch (impl) {
            case "reference" ->
                step = () -> TreeBackupReference.backup(config, f).rootValue()[0];
            case "cpu", "cuda" -> {
                boolean cuda = impl.equals("cuda");
                if (cuda) BenchSupport.requireCuda();
                TreeBackup backup = TreeBackup.create(cuda ? Backend.CUDA : Backend.CPU);
                BenchSupport.Buffers buf = new BenchSupport.Buffers(cuda);
                resources = buf;
                IntPointer offsets = buf.ints(f.treeOffsets());
                IntPointer parent = buf.ints(f.parents());
                FloatPointer reward = buf.floats(f.leafRewards());
                FloatPointer weight = f.hasWeights() ? buf.floats(f.weights()) : null;
                FloatPointer value = buf.floats((long) n), adv = buf.floats((long) n), root = buf.floats((long) t);
                IntPointer childCount = buf.ints((long) n), depth = buf.ints((long) n), nonzero = buf.ints((long) t);
                step = () -> {
                    backup.backup(
                            config,
                            n,
                            t,
                            offsets,
                            parent,
                            reward,
                            weight,
                            value,
                            adv,
                            childCount,
                            depth,
                            root,
                            nonzero);
                    return n;
                };
            }
            case "torch" -> {
                Tensor parent = BenchSupport.Tensors.ints(f.parents());
                Tensor reward = BenchSupport.Tensors.floats(f.leafRewards());
                Tensor weight = f.hasWeights() ? BenchSupport.Tensors.floats(f.weights()) : null;
                resources = () -> BenchSupport.Tensors.release(parent, reward, weight);
                step = () -> {
                    try (PointerScope scope = new PointerScope()) {
                        return TreeBackupTorch.backup(config, parent, reward, weight)
                                .value()
                                .numel();
                    }
                };
            }
            default -> throw new IllegalArgumentException("impl must be reference, cpu, torch or cuda; got " + impl);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (resources != null) resources.close();
        resources = null;
    }

    /** One backup of the whole forest. */
    @Benchmark
    public double backup() {
        return step.getAsDouble();
    }
}
