package io.github.spo4j.kernels.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.NativeCpu;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.PagedKvScene;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU prefix attention against the dense reference: paged decode, shared-prefix decode (which must also
 * equal paged decode) and causal prefill, on odd shapes: one token, block-size boundaries, block sizes 1, 3
 * and 16, GQA ratios 1, 4 and 8, head dims 1 to 128, 1 and 111 branches. Unwritten cache slots hold NaN, so
 * a read outside a query's positions fails the comparison.
 */
class PrefixAttentionKernelTest {
    static final float TOL = 2e-5f;

    private final PrefixAttention cpu = PrefixAttention.create(Backend.CPU);
    private final PrefixAttention ref = PrefixAttention.create(Backend.REFERENCE);

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        int[][] heads = {{1, 1}, {4, 1}, {8, 1}, {8, 2}, {12, 3}};
        int[] dims = {1, 7, 64, 128};
        int[] blocks = {1, 3, 16};
        int i = 0;
        for (int[] h : heads) {
            for (int d : dims) {
                out.add(Arguments.of(h[0], h[1], d, blocks[i++ % blocks.length]));
            }
        }
        return out.stream();
    }

    static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (e == Float.NEGATIVE_INFINITY) {
                assertEquals(e, a, what + "[" + i + "]");
                continue;
            }
            assertTrue(Math.abs(e - a) <= tol * (1 + Math.abs(e)), what + "[" + i + "]: expected " + e + ", got " + a);
        }
    }

    @ParameterizedTest(name = "Hq={0} Hkv={1} D={2} block={3}")
    @MethodSource("shapes")
    void pagedDecodeMatchesReference(int qHeads, int kvHeads, int headDim, int blockSize) {
        try (PagedKvScene scene = new PagedKvScene(2, kvHeads, headDim, blockSize, 400, qHeads * 31L + headDim)) {
            // Lengths around block boundaries, a single token, and a longer sequence.
            int[] lens = {1, blockSize - 1 > 0 ? blockSize - 1 : 2, blockSize, blockSize + 1, 2 * blockSize + 1, 99};
            int[] seqs = new int[lens.length];
            for (int i = 0; i < lens.length; i++) seqs[i] = scene.root(lens[i]);
            PrefixAttentionPlan plan = PrefixAttentionPlan.decode(scene.tables(seqs), scene.lengths(seqs), blockSize);
            float[] q = scene.queries(seqs.length, qHeads);
            float scale = PrefixAttention.defaultScale(headDim);
            for (int layer = 0; layer < 2; layer++) {
                float[] lseRef = new float[seqs.length * qHeads], lseCpu = new float[seqs.length * qHeads];
                float[] expected = ref.attend(scene.config, scene.cache, layer, plan, qHeads, scale, q, lseRef);
                float[] actual = cpu.attend(scene.config, scene.cache, layer, plan, qHeads, scale, q, lseCpu);
                assertClose(expected, actual, TOL, "out");
                assertClose(lseRef, lseCpu, TOL, "lse");
            }
        }
    }

    @ParameterizedTest(name = "Hq={0} Hkv={1} D={2} block={3}")
    @MethodSource("shapes")
    void sharedDecodeEqualsPagedDecode(int qHeads, int kvHeads, int headDim, int blockSize) {
        try (PagedKvScene scene = new PagedKvScene(1, kvHeads, headDim, blockSize, 2000, 7 + headDim)) {
            int[] leaves = scene.tree(37, new int[] {3, 4}, 9);
            PrefixAttentionPlan paged =
                    PrefixAttentionPlan.decode(scene.tables(leaves), scene.lengths(leaves), blockSize);
            PrefixAttentionPlan shared =
                    PrefixAttentionPlan.decodeShared(scene.tables(leaves), scene.lengths(leaves), blockSize, 1);
            assertTrue(shared.sharedParts() > 0, shared.toString());
            assertTrue(shared.positionsRead() < paged.positionsRead(), shared.toString());
            float[] q = scene.queries(leaves.length, qHeads);
            float scale = 0.37f;
            float[] lseShared = new float[leaves.length * qHeads], lsePaged = new float[leaves.length * qHeads];
            float[] expected = ref.attend(scene.config, scene.cache, 0, paged, qHeads, scale, q, null);
            float[] viaPaged = cpu.attend(scene.config, scene.cache, 0, paged, qHeads, scale, q, lsePaged);
            float[] viaShared = cpu.attend(scene.config, scene.cache, 0, shared, qHeads, scale, q, lseShared);
            assertClose(expected, viaPaged, TOL, "paged");
            assertClose(expected, viaShared, TOL, "shared");
            assertClose(lsePaged, lseShared, TOL, "lse");
            // The reference attends a plan densely, ignoring its sharing: the shared plan is the same attention.
            assertClose(
                    expected, ref.attend(scene.config, scene.cache, 0, shared, qHeads, scale, q, null), 1e-6f, "ref");
        }
    }

    @Test
    void sixSixSixTreeWith111BranchesSharesEveryLevel() {
        try (PagedKvScene scene = new PagedKvScene(1, 2, 16, 16, 3000, 3)) {
            int[] leaves = scene.tree(300, new int[] {6, 6}, 70);
            int[] branches = scene.tree(200, new int[] {111}, 5); // one level of 111 branches
            for (int[] seqs : new int[][] {leaves, branches}) {
                PrefixAttentionPlan shared =
                        PrefixAttentionPlan.decodeShared(scene.tables(seqs), scene.lengths(seqs), 16, 64);
                PrefixAttentionPlan paged = PrefixAttentionPlan.decode(scene.tables(seqs), scene.lengths(seqs), 16);
                float[] q = scene.queries(seqs.length, 8);
                float[] expected = cpu.attend(scene.config, scene.cache, 0, paged, 8, 0.25f, q, null);
                float[] actual = cpu.attend(scene.config, scene.cache, 0, shared, 8, 0.25f, q, null);
                assertClose(expected, actual, TOL, "shared vs paged");
                assertTrue(shared.sharedParts() >= 1, shared.toString());
            }
            PrefixAttentionPlan tree =
                    PrefixAttentionPlan.decodeShared(scene.tables(leaves), scene.lengths(leaves), 16, 64);
            // The prompt (300) is shared by all 36, each first-level segment (70) by its 6 children.
            assertEquals(1 + 6, tree.sharedParts(), tree.toString());
        }
    }

    @ParameterizedTest(name = "Hq={0} Hkv={1} D={2} block={3}")
    @MethodSource("shapes")
    void prefillIsCausalOverTheCachedPrefix(int qHeads, int kvHeads, int headDim, int blockSize) {
        try (PagedKvScene scene = new PagedKvScene(1, kvHeads, headDim, blockSize, 400, 11 + qHeads)) {
            int[] seqs = {scene.root(1), scene.root(blockSize + 5), scene.root(40), scene.root(3)};
            int[] fresh = {1, 5, 17, 0};
            PrefixAttentionPlan plan =
                    PrefixAttentionPlan.prefill(scene.tables(seqs), scene.lengths(seqs), fresh, blockSize);
            assertEquals(23, plan.numQueries());
            float[] q = scene.queries(plan.numQueries(), qHeads);
            float scale = PrefixAttention.defaultScale(headDim);
            float[] expected = ref.attend(scene.config, scene.cache, 0, plan, qHeads, scale, q, null);
            float[] actual = cpu.attend(scene.config, scene.cache, 0, plan, qHeads, scale, q, null);
            assertClose(expected, actual, TOL, "prefill");
            // The first new token of sequence 2 (position 23) sees exactly 24 positions: a decode plan over a
            // table cut to 24 positions gives the same row.
            PrefixAttentionPlan.Builder b = PrefixAttentionPlan.builder(1, blockSize);
            b.limit(0, 24).part(b.table(scene.tables.get(seqs[2])), 0, 24, 0);
            float[] row = new float[qHeads * headDim];
            System.arraycopy(q, 6 * qHeads * headDim, row, 0, row.length);
            float[] single = cpu.attend(scene.config, scene.cache, 0, b.build(), qHeads, scale, row, null);
            float[] fromPrefill = new float[row.length];
            System.arraycopy(actual, 6 * qHeads * headDim, fromPrefill, 0, row.length);
            assertClose(single, fromPrefill, TOL, "causal row");
        }
    }

    @Test
    void emptyPlansAndQueriesWithoutPositions() {
        try (PagedKvScene scene = new PagedKvScene(1, 2, 8, 4, 10, 1)) {
            int s = scene.root(5);
            PrefixAttentionPlan none = PrefixAttentionPlan.decode(new int[0][], new int[0], 4);
            assertEquals(0, cpu.attend(scene.config, scene.cache, 0, none, 4, 1f, new float[0], new float[0]).length);
            // A query of length 0 sees nothing: out 0, lse -inf, on both paths.
            PrefixAttentionPlan plan =
                    PrefixAttentionPlan.decode(new int[][] {scene.tables.get(s), {}}, new int[] {5, 0}, 4);
            float[] q = scene.queries(2, 4);
            for (PrefixAttention a : new PrefixAttention[] {cpu, ref}) {
                float[] lse = new float[8];
                float[] out = a.attend(scene.config, scene.cache, 0, plan, 4, 1f, q, lse);
                for (int i = 32; i < 64; i++) assertEquals(0f, out[i]);
                for (int i = 4; i < 8; i++) assertEquals(Float.NEGATIVE_INFINITY, lse[i]);
                assertTrue(Float.isFinite(lse[0]));
            }
        }
    }

    @Test
    void everyInstructionSetVariantMatchesTheReference() {
        // The CPU kernel has baseline, AVX2+FMA and AVX-512 variants and runs the best the CPU has; capping
        // the ISA runs the others here too (a cap above what the CPU has changes nothing).
        try {
            for (NativeCpu.Isa isa : NativeCpu.Isa.values()) {
                int cap = isa.ordinal();
                NativeCpu.setMaxIsa(isa);
                assertTrue(NativeCpu.isa().ordinal() <= cap);
                // Head dims that take each path of the value product: whole 32-dim blocks, single vectors, the dims
                // past the last vector (16: the built-in model's; 40 = 32 + 8).
                for (int[] shape :
                        new int[][] {{8, 2, 128, 16}, {12, 3, 7, 3}, {8, 8, 33, 1}, {4, 2, 16, 16}, {6, 3, 40, 5}}) {
                    try (PagedKvScene scene =
                            new PagedKvScene(1, shape[1], shape[2], shape[3], 3000, cap * 10L + shape[2])) {
                        int[] leaves = scene.tree(45, new int[] {5, 7}, 11);
                        float[] q = scene.queries(leaves.length, shape[0]);
                        PrefixAttentionPlan shared = PrefixAttentionPlan.decodeShared(
                                scene.tables(leaves), scene.lengths(leaves), shape[3], 1);
                        int[] fresh = new int[leaves.length];
                        java.util.Arrays.fill(fresh, 3);
                        PrefixAttentionPlan prefill = PrefixAttentionPlan.prefill(
                                scene.tables(leaves), scene.lengths(leaves), fresh, shape[3]);
                        float[] expected = ref.attend(scene.config, scene.cache, 0, shared, shape[0], 0.3f, q, null);
                        assertClose(
                                expected,
                                cpu.attend(scene.config, scene.cache, 0, shared, shape[0], 0.3f, q, null),
                                TOL,
                                "shared, isa cap " + cap);
                        float[] qp = scene.queries(prefill.numQueries(), shape[0]);
                        assertClose(
                                ref.attend(scene.config, scene.cache, 0, prefill, shape[0], 0.3f, qp, null),
                                cpu.attend(scene.config, scene.cache, 0, prefill, shape[0], 0.3f, qp, null),
                                TOL,
                                "prefill, isa cap " + cap);
                    }
                }
            }
            assertEquals(Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT, Spo4jNative.spo4j_set_max_cpu_isa(3));
        } finally {
            NativeCpu.setMaxIsa(NativeCpu.Isa.AVX512);
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        try (PagedKvScene scene = new PagedKvScene(1, 2, 32, 16, 800, 5)) {
            int[] leaves = scene.tree(100, new int[] {5, 5}, 20);
            PrefixAttentionPlan plan =
                    PrefixAttentionPlan.decodeShared(scene.tables(leaves), scene.lengths(leaves), 16, 16);
            float[] q = scene.queries(leaves.length, 8);
            int threads = Spo4jNative.spo4j_get_num_threads();
            try {
                Spo4jNative.spo4j_set_num_threads(1);
                float[] one = cpu.attend(scene.config, scene.cache, 0, plan, 8, 0.2f, q, null);
                Spo4jNative.spo4j_set_num_threads(3);
                float[] three = cpu.attend(scene.config, scene.cache, 0, plan, 8, 0.2f, q, null);
                assertArrayEquals(one, three);
            } finally {
                Spo4jNative.spo4j_set_num_threads(threads);
            }
        }
    }
}
