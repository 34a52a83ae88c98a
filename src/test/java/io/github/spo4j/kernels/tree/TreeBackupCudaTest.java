package io.github.spo4j.kernels.tree;

import static io.github.spo4j.kernels.tree.TreeBackupKernelTest.assertSame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.testutil.GpuRequirements;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA tree backup against the CPU kernel and the reference: the same bits on random forests in every mode
 * (trees over the kernel's shared memory included), the device-pointer entry, and bad forests over device
 * pointers rejected with the CPU's message and no output written. Skipped without a CUDA device.
 */
@Tag("gpu")
class TreeBackupCudaTest {
    private TreeBackup cuda;
    private TreeBackup cpu;

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
        cuda = TreeBackup.create(Backend.CUDA);
        cpu = TreeBackup.create(Backend.CPU);
    }

    static Stream<Arguments> configs() {
        List<Arguments> out = new ArrayList<>();
        for (TreeValueMode v : TreeValueMode.values()) {
            for (TreeAdvantageMode a : TreeAdvantageMode.values()) {
                for (boolean weighted : new boolean[] {false, true}) {
                    out.add(Arguments.of(new TreeBackupConfig(v, a, TreeBackupConfig.DEFAULT_STD_EPS), weighted));
                }
            }
        }
        out.add(Arguments.of(
                new TreeBackupConfig(TreeValueMode.CHILD_MEAN, TreeAdvantageMode.DIFF_OVER_STD, 0f), true));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} weighted={1}")
    @MethodSource("configs")
    void randomForestsMatchCpuAndReferenceBitForBit(TreeBackupConfig config, boolean weighted) {
        Forest forest = new Gen(41 + (weighted ? 1 : 0)).mixed(1000, 3, 2).build(weighted);
        TreeBackupResult expected = TreeBackupReference.backup(config, forest);
        assertSame(config + " cpu", expected, cpu.backup(config, forest));
        assertSame(config + " cuda", expected, cuda.backup(config, forest));
    }

    @Test
    void sixSixSixForestsMatchCpu() {
        TreeBackupConfig config = TreeBackupConfig.spoTree();
        for (int trees : new int[] {1, 64, 4096}) {
            Gen g = new Gen(trees);
            for (int k = 0; k < trees; k++) g.full(6, 3, k % 2 == 1);
            Forest forest = g.build(false);
            assertEquals(259 * trees, forest.numNodes());
            assertSame(trees + " trees", cpu.backup(config, forest), cuda.backup(config, forest));
        }
    }

    @Test
    void treesOverSharedMemoryMatchCpu() {
        // 3-5 K nodes: one tree per block in opt-in shared memory; 10-30 K: one thread on global scratch.
        Gen g = new Gen(5);
        for (int k = 0; k < 30; k++) g.random(6, 3, k % 2 == 0);
        g.recursive(3500);
        for (int k = 0; k < 30; k++) g.random(6, 3, k % 2 == 0);
        g.recursive(30000);
        g.single();
        g.recursive(10000);
        g.recursive(5000);
        Forest forest = g.build(true);
        for (TreeBackupConfig config : new TreeBackupConfig[] {
            TreeBackupConfig.spoTree(),
            new TreeBackupConfig(TreeValueMode.LEAF_MEAN, TreeAdvantageMode.DIFF_OVER_STD, 1e-8f)
        }) {
            assertSame(config + "", cpu.backup(config, forest), cuda.backup(config, forest));
        }
    }

    @Test
    void runsGiveTheSameBits() {
        Forest forest = new Gen(9).mixed(3000, 2, 1).build(true);
        TreeBackupConfig config = new TreeBackupConfig(TreeValueMode.LEAF_MEAN, TreeAdvantageMode.LEAVE_ONE_OUT, 0f);
        assertSame("run to run", cuda.backup(config, forest), cuda.backup(config, forest));
    }

    @Test
    void devicePointerEntryWithOptionalOutputsOmitted() {
        Forest forest = new Gen(3).mixed(700, 1, 0).build(true);
        int n = forest.numNodes(), t = forest.numTrees();
        TreeBackupConfig config = TreeBackupConfig.spoTree().withAdvantageMode(TreeAdvantageMode.DIFF_OVER_STD);
        TreeBackupResult expected = cpu.backup(config, forest);
        try (PointerScope scope = new PointerScope();
                DeviceMemory offs = DeviceMemory.copyOf(new IntPointer(forest.treeOffsets()), 4L * (t + 1));
                DeviceMemory parent = DeviceMemory.copyOf(new IntPointer(forest.parents()), 4L * n);
                DeviceMemory reward = DeviceMemory.copyOf(new FloatPointer(forest.leafRewards()), 4L * n);
                DeviceMemory weight = DeviceMemory.copyOf(new FloatPointer(forest.weights()), 4L * n);
                DeviceMemory value = DeviceMemory.allocate(4L * n);
                DeviceMemory adv = DeviceMemory.allocate(4L * n);
                DeviceMemory root = DeviceMemory.allocate(4L * t)) {
            cuda.backup(
                    config,
                    n,
                    t,
                    ints(offs),
                    ints(parent),
                    floats(reward),
                    floats(weight),
                    floats(value),
                    floats(adv),
                    null,
                    null,
                    floats(root),
                    null);
            assertArrayEquals(expected.value(), download(value, n), "value");
            assertArrayEquals(expected.advantage(), download(adv, n), "advantage");
            assertArrayEquals(expected.rootValue(), download(root, t), "rootValue");
        }
    }

    /** name, treeOffsets, parent, leafReward (a valid forest of 3 trees, broken in one place). */
    static Stream<Arguments> brokenForests() {
        float nan = Float.NaN;
        int[] offs = {0, 4, 5, 9};
        int[] parent = {-1, 0, 0, 1, -1, -1, 5, 5, 6};
        float[] reward = {nan, nan, 1, 0.5f, 2, nan, nan, -1, 3};
        return Stream.of(
                Arguments.of("parent after child", offs, with(parent, 1, 3), reward),
                Arguments.of("self loop", offs, with(parent, 7, 7), reward),
                Arguments.of("parent in another tree", offs, with(parent, 6, 2), reward),
                Arguments.of("negative parent", offs, with(parent, 8, -4), reward),
                Arguments.of("second root", offs, with(parent, 2, -1), reward),
                Arguments.of("root with a parent", offs, with(parent, 4, 0), reward),
                Arguments.of("NaN leaf reward", offs, parent, with(reward, 7, nan)),
                Arguments.of("infinite single-node reward", offs, parent, with(reward, 4, Float.NEGATIVE_INFINITY)),
                Arguments.of(
                        "two faults: the lower tree's is reported",
                        offs,
                        with(parent, 8, 9),
                        with(reward, 2, Float.POSITIVE_INFINITY)),
                Arguments.of("empty tree", new int[] {0, 4, 4, 9}, parent, reward),
                Arguments.of("offsets not starting at 0", new int[] {1, 4, 5, 9}, parent, reward),
                Arguments.of("offsets not ending at N", new int[] {0, 4, 5, 8}, parent, reward));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenForests")
    void badForestOverDevicePointersIsRejectedWithTheCpuMessage(
            String name, int[] offsets, int[] parent, float[] reward) {
        int n = parent.length, t = offsets.length - 1;
        TreeBackupConfig config = TreeBackupConfig.spoTree();
        String cpuMessage;
        try (PointerScope scope = new PointerScope()) {
            cpuMessage = assertThrows(
                            IllegalArgumentException.class,
                            () -> cpu.backup(
                                    config,
                                    n,
                                    t,
                                    new IntPointer(offsets),
                                    new IntPointer(parent),
                                    new FloatPointer(reward),
                                    null,
                                    new FloatPointer(n),
                                    null,
                                    null,
                                    null,
                                    null,
                                    null))
                    .getMessage();
        }
        float[] sentinel = new float[n];
        Arrays.fill(sentinel, -7f);
        try (PointerScope scope = new PointerScope();
                DeviceMemory offs = DeviceMemory.copyOf(new IntPointer(offsets), 4L * (t + 1));
                DeviceMemory par = DeviceMemory.copyOf(new IntPointer(parent), 4L * n);
                DeviceMemory rew = DeviceMemory.copyOf(new FloatPointer(reward), 4L * n);
                DeviceMemory value = DeviceMemory.copyOf(new FloatPointer(sentinel), 4L * n);
                DeviceMemory adv = DeviceMemory.copyOf(new FloatPointer(sentinel), 4L * n)) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> cuda.backup(
                            config,
                            n,
                            t,
                            ints(offs),
                            ints(par),
                            floats(rew),
                            null,
                            floats(value),
                            floats(adv),
                            null,
                            null,
                            null,
                            null));
            assertEquals(cpuMessage, e.getMessage());
            assertArrayEquals(sentinel, download(value, n), "value written on a rejected call");
            assertArrayEquals(sentinel, download(adv, n), "advantage written on a rejected call");
        }
    }

    private static int[] with(int[] a, int i, int x) {
        int[] b = a.clone();
        b[i] = x;
        return b;
    }

    private static float[] with(float[] a, int i, float x) {
        float[] b = a.clone();
        b[i] = x;
        return b;
    }

    private static IntPointer ints(DeviceMemory d) {
        return new IntPointer(d.pointer());
    }

    private static FloatPointer floats(DeviceMemory d) {
        return new FloatPointer(d.pointer());
    }

    private static float[] download(DeviceMemory d, int count) {
        float[] out = new float[count];
        try (FloatPointer host = new FloatPointer(Math.max(count, 1))) {
            d.copyTo(host);
            host.get(out);
        }
        return out;
    }

    /**
     * Random forests, tree by tree, each laid out depth-first or breadth-first. Leaf rewards are sometimes exactly
     * 0 or 1 (tied siblings: zero advantages and zero sibling std); half the inner nodes get a NaN reward, which
     * must not be read.
     */
    static final class Gen {
        private final SplittableRandom rng;
        private int[] parent = new int[1024];
        private int size;
        private final List<Integer> offsets = new ArrayList<>(List.of(0));

        Gen(long seed) {
            rng = new SplittableRandom(seed);
        }

        /**
         * {@code trees} trees: single nodes, random branching 1..8 and depth 0..6 with early leaves, full 6-6-6,
         * small random recursive trees; plus {@code medium} trees of 3-5 K nodes and {@code huge} ones of 8-20 K.
         */
        Gen mixed(int trees, int medium, int huge) {
            int[] kind = new int[trees];
            for (int i = 0; i < medium; i++) kind[rng.nextInt(trees)] = 1;
            for (int i = 0; i < huge; i++) kind[rng.nextInt(trees)] = 2;
            for (int k = 0; k < trees; k++) {
                boolean bfs = rng.nextBoolean();
                double x = rng.nextDouble();
                if (kind[k] == 1) recursive(3000 + rng.nextInt(2000));
                else if (kind[k] == 2) recursive(8000 + rng.nextInt(12000));
                else if (x < 0.15) single();
                else if (x < 0.25) full(6, 3, bfs);
                else if (x < 0.30) recursive(2 + rng.nextInt(300));
                else random(8, 6, bfs);
            }
            return this;
        }

        void single() {
            add(-1);
            endTree();
        }

        /** Every inner node has {@code branch} children down to {@code depth}. */
        void full(int branch, int depth, boolean bfs) {
            grow(bfs, d -> d < depth ? branch : 0);
        }

        /** A depth limit drawn from 0..{@code depth}; 1..{@code branch} children; a quarter stop early. */
        void random(int branch, int depth, boolean bfs) {
            int limit = rng.nextInt(depth + 1);
            grow(bfs, d -> d >= limit || (d > 0 && rng.nextDouble() < 0.25) ? 0 : 1 + rng.nextInt(branch));
        }

        /** Each node the child of a uniformly chosen earlier node of the tree. */
        void recursive(int nodes) {
            int root = size;
            add(-1);
            for (int i = 1; i < nodes; i++) add(root + rng.nextInt(i));
            endTree();
        }

        private void grow(boolean bfs, IntUnaryOperator children) {
            int root = size;
            add(-1);
            if (bfs) {
                List<int[]> queue = new ArrayList<>();
                queue.add(new int[] {root, 0});
                for (int h = 0; h < queue.size(); h++) {
                    int[] e = queue.get(h);
                    for (int c = children.applyAsInt(e[1]); c > 0; c--) {
                        queue.add(new int[] {size, e[1] + 1});
                        add(e[0]);
                    }
                }
            } else {
                growDepthFirst(root, 0, children);
            }
            endTree();
        }

        private void growDepthFirst(int node, int depth, IntUnaryOperator children) {
            for (int c = children.applyAsInt(depth); c > 0; c--) {
                int child = size;
                add(node);
                growDepthFirst(child, depth + 1, children);
            }
        }

        private void add(int p) {
            if (size == parent.length) parent = Arrays.copyOf(parent, 2 * size);
            parent[size++] = p;
        }

        private void endTree() {
            offsets.add(size);
        }

        Forest build(boolean weighted) {
            int[] par = Arrays.copyOf(parent, size);
            boolean[] inner = new boolean[size];
            for (int p : par) {
                if (p >= 0) inner[p] = true;
            }
            float[] reward = new float[size];
            float[] weight = weighted ? new float[size] : null;
            for (int i = 0; i < size; i++) {
                double x = rng.nextDouble();
                reward[i] = x < 0.1 ? 1f : x < 0.2 ? 0f : (float) (0.3 + rng.nextDouble() * 2 - 1);
                if (inner[i] && rng.nextBoolean()) reward[i] = Float.NaN;
                if (weighted) weight[i] = (float) (0.1 + 2.9 * rng.nextDouble());
            }
            return Forest.of(offsets.stream().mapToInt(Integer::intValue).toArray(), par, reward, weight);
        }
    }
}
