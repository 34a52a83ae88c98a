package io.github.spo4j.kernels.attention;

import static io.github.spo4j.kernels.attention.PrefixAttentionKernelTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.NativeArrays;
import io.github.spo4j.testutil.GpuRequirements;
import io.github.spo4j.testutil.PagedKvScene;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CUDA prefix attention against the CPU kernel: paged, shared and prefill plans on the kernel test's
 * shapes, head dim 256 (over 48 KiB of shared memory), 216 branches, run-to-run determinism, and q's NaN
 * check on the device. Skipped without a CUDA device.
 */
@Tag("gpu")
class PrefixAttentionCudaTest {
    private PrefixAttention cuda;
    private final PrefixAttention cpu = PrefixAttention.create(Backend.CPU);

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
        cuda = PrefixAttention.create(Backend.CUDA);
    }

    private static DeviceMemory upload(PagedKvScene scene) {
        return DeviceMemory.copyOf(scene.cache, scene.config.totalBytes());
    }

    @ParameterizedTest(name = "Hq={0} Hkv={1} D={2} block={3}")
    @MethodSource("io.github.spo4j.kernels.attention.PrefixAttentionKernelTest#shapes")
    void pagedSharedAndPrefillMatchCpu(int qHeads, int kvHeads, int headDim, int blockSize) {
        try (PagedKvScene scene = new PagedKvScene(2, kvHeads, headDim, blockSize, 2000, 3 + headDim)) {
            int[] leaves = scene.tree(41, new int[] {3, 5}, 7);
            try (DeviceMemory cache = upload(scene)) {
                float scale = PrefixAttention.defaultScale(headDim);
                PrefixAttentionPlan[] plans = {
                    PrefixAttentionPlan.decode(scene.tables(leaves), scene.lengths(leaves), blockSize),
                    PrefixAttentionPlan.decodeShared(scene.tables(leaves), scene.lengths(leaves), blockSize, 1),
                    PrefixAttentionPlan.prefill(
                            scene.tables(leaves), scene.lengths(leaves), fresh(leaves.length), blockSize)
                };
                for (PrefixAttentionPlan plan : plans) {
                    float[] q = scene.queries(plan.numQueries(), qHeads);
                    float[] lseCpu = new float[plan.numQueries() * qHeads], lseGpu = new float[lseCpu.length];
                    float[] expected = cpu.attend(scene.config, scene.cache, 1, plan, qHeads, scale, q, lseCpu);
                    float[] actual = cuda.attend(scene.config, cache.pointer(), 1, plan, qHeads, scale, q, lseGpu);
                    assertClose(expected, actual, 1e-4f, "out " + plan);
                    assertClose(lseCpu, lseGpu, 1e-4f, "lse " + plan);
                }
            }
        }
    }

    private static int[] fresh(int n) {
        int[] f = new int[n];
        for (int i = 0; i < n; i++) f[i] = 1 + i % 4;
        return f;
    }

    @Test
    void headDim256And216BranchesAndDeterminism() {
        try (PagedKvScene scene = new PagedKvScene(1, 2, 256, 16, 1200, 9)) {
            int[] leaves = scene.tree(300, new int[] {6, 6, 6}, 3);
            try (DeviceMemory cache = upload(scene)) {
                PrefixAttentionPlan plan =
                        PrefixAttentionPlan.decodeShared(scene.tables(leaves), scene.lengths(leaves), 16, 64);
                assertTrue(plan.sharedParts() > 0, plan.toString());
                float[] q = scene.queries(leaves.length, 8);
                float[] expected = cpu.attend(scene.config, scene.cache, 0, plan, 8, 0.0625f, q, null);
                float[] first = cuda.attend(scene.config, cache.pointer(), 0, plan, 8, 0.0625f, q, null);
                float[] second = cuda.attend(scene.config, cache.pointer(), 0, plan, 8, 0.0625f, q, null);
                assertClose(expected, first, 1e-4f, "D=256");
                assertArrayEquals(first, second);
            }
        }
    }

    @Test
    void nonFiniteQueriesAreRejectedOnTheDevice() {
        try (PagedKvScene scene = new PagedKvScene(1, 1, 8, 4, 8, 2)) {
            int s = scene.root(6);
            PrefixAttentionPlan plan = PrefixAttentionPlan.decode(new int[][] {scene.tables.get(s)}, new int[] {6}, 4);
            try (DeviceMemory cache = upload(scene);
                    org.bytedeco.javacpp.FloatPointer host = new org.bytedeco.javacpp.FloatPointer(8)) {
                float[] q = scene.queries(1, 1);
                q[5] = Float.POSITIVE_INFINITY;
                host.put(q);
                try (DeviceMemory dq = DeviceMemory.copyOf(host, 32);
                        DeviceMemory dout = DeviceMemory.allocate(32)) {
                    IllegalArgumentException e = assertThrows(
                            IllegalArgumentException.class,
                            () -> cuda.attend(
                                    scene.config,
                                    cache.pointer(),
                                    0,
                                    plan,
                                    1,
                                    1f,
                                    NativeArrays.cast(dq.pointer(), org.bytedeco.javacpp.FloatPointer.class),
                                    NativeArrays.cast(dout.pointer(), org.bytedeco.javacpp.FloatPointer.class),
                                    null));
                    assertTrue(e.getMessage().contains("q[5]"), e.getMessage());
                }
            }
        }
    }
}
