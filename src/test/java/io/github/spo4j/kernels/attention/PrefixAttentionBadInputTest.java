package io.github.spo4j.kernels.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.PagedKvScene;
import java.util.function.IntSupplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad plans, shapes and values: a clear IllegalArgumentException naming the argument, and nothing written. */
class PrefixAttentionBadInputTest {
    private PagedKvScene scene;
    private PrefixAttentionPlan plan;
    private final PrefixAttention cpu = PrefixAttention.create(Backend.CPU);
    private final PrefixAttention ref = PrefixAttention.create(Backend.REFERENCE);

    @BeforeEach
    void scene() {
        scene = new PagedKvScene(2, 2, 8, 4, 20, 1);
        int s = scene.root(9);
        plan = PrefixAttentionPlan.decode(new int[][] {scene.tables.get(s)}, new int[] {9}, 4);
    }

    @AfterEach
    void close() {
        scene.close();
    }

    private static IntPointer ints(int... values) {
        return new IntPointer(values); // IntPointer(int) would allocate, not hold, the value
    }

    private static void rejects(String fragment, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(
                e.getMessage().contains(fragment),
                "message '" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void callArguments() {
        float[] q = scene.queries(1, 4);
        for (PrefixAttention a : new PrefixAttention[] {cpu, ref}) {
            rejects("layer 2", () -> a.attend(scene.config, scene.cache, 2, plan, 4, 1f, q, null));
            rejects("layer -1", () -> a.attend(scene.config, scene.cache, -1, plan, 4, 1f, q, null));
            rejects("qHeads", () -> a.attend(scene.config, scene.cache, 0, plan, 3, 1f, q, null));
            rejects("scale", () -> a.attend(scene.config, scene.cache, 0, plan, 4, 0f, q, null));
            rejects("scale", () -> a.attend(scene.config, scene.cache, 0, plan, 4, Float.NaN, q, null));
            rejects("q", () -> a.attend(scene.config, scene.cache, 0, plan, 4, 1f, new float[31], null));
            rejects("lse", () -> a.attend(scene.config, scene.cache, 0, plan, 4, 1f, q, new float[3]));
            rejects("plan", () -> a.attend(scene.config, scene.cache, 0, null, 4, 1f, q, null));
            float[] nan = q.clone();
            nan[13] = Float.NaN;
            rejects("q[13]", () -> a.attend(scene.config, scene.cache, 0, plan, 4, 1f, nan, null));
            PrefixAttentionPlan otherBlocks = PrefixAttentionPlan.decode(new int[][] {{0, 1, 2}}, new int[] {9}, 3);
            rejects("blocks of 3", () -> a.attend(scene.config, scene.cache, 0, otherBlocks, 4, 1f, q, null));
            PrefixAttentionPlan outside = PrefixAttentionPlan.decode(new int[][] {{0, 1, 25}}, new int[] {9}, 4);
            rejects("block 25", () -> a.attend(scene.config, scene.cache, 0, outside, 4, 1f, q, null));
            KvCacheConfig wide = new KvCacheConfig(1, 1, 257, 4, 1);
            rejects("headDim", () -> a.attend(wide, scene.cache, 0, plan, 1, 1f, new float[257], null));
        }
    }

    @Test
    void pointerCapacities() {
        try (FloatPointer q = new FloatPointer(scene.queries(1, 4));
                FloatPointer small = new FloatPointer(16);
                FloatPointer out = new FloatPointer(32)) {
            rejects("out", () -> cpu.attend(scene.config, scene.cache, 0, plan, 4, 1f, q, small, null));
            rejects("q", () -> cpu.attend(scene.config, scene.cache, 0, plan, 4, 1f, small, out, null));
            rejects("lse", () -> cpu.attend(scene.config, scene.cache, 0, plan, 4, 1f, q, out, new FloatPointer(2)));
        }
    }

    @Test
    void planBuilders() {
        rejects("lengths[0]", () -> PrefixAttentionPlan.decode(new int[][] {{0, 1}}, new int[] {9}, 4));
        rejects("lengths", () -> PrefixAttentionPlan.decode(new int[][] {{0}}, new int[] {1, 2}, 4));
        rejects("blockSize", () -> PrefixAttentionPlan.decode(new int[][] {{0}}, new int[] {1}, 0));
        rejects("minSharedTokens", () -> PrefixAttentionPlan.decodeShared(new int[][] {{0}}, new int[] {1}, 4, 0));
        rejects("newTokens[0]", () -> PrefixAttentionPlan.prefill(new int[][] {{0}}, new int[] {3}, new int[] {4}, 4));
        PrefixAttentionPlan.Builder b = PrefixAttentionPlan.builder(2, 4);
        int t = b.table(new int[] {0, 1});
        rejects("part [0, 9)", () -> b.part(t, 0, 9, 0));
        rejects("query 2", () -> b.part(t, 0, 4, 2));
        rejects("table 1", () -> b.part(1, 0, 4, 0));
        rejects("blocks[0]", () -> b.table(new int[] {-1}));
        b.limit(0, 8).part(t, 0, 5, 0).part(t, 4, 8, 0);
        rejects("query 1 has no limit", b::build);
        b.limit(1, 8);
        rejects("overlap", b::build);
    }

    @Test
    void nativeChecksRejectBadPlansWithoutWriting() {
        // The raw C entry, past the Java checks: a block id outside the cache, and entries that do not match.
        try (FloatPointer q = new FloatPointer(scene.queries(1, 4));
                FloatPointer out = new FloatPointer(32);
                IntPointer limit = ints(9);
                IntPointer toff = ints(0, 3);
                IntPointer blocks = ints(0, 1, 99);
                IntPointer ptab = ints(0);
                IntPointer pbeg = ints(0);
                IntPointer pend = ints(9);
                IntPointer pqo = ints(0, 1);
                IntPointer pq = ints(0);
                IntPointer qeo = ints(0, 1);
                IntPointer qe = ints(0)) {
            for (int i = 0; i < 32; i++) out.put(i, 7f);
            KvCacheConfig c = scene.config;
            IntSupplier attend = () -> Spo4jNative.spo4j_prefix_attention(
                    0,
                    scene.cache,
                    c.numLayers(),
                    c.numBlocks(),
                    c.blockSize(),
                    c.kvHeads(),
                    c.headDim(),
                    0,
                    4,
                    1f,
                    1,
                    q,
                    limit,
                    1,
                    toff,
                    blocks,
                    1,
                    ptab,
                    pbeg,
                    pend,
                    pqo,
                    pq,
                    qeo,
                    qe,
                    out,
                    null,
                    null);
            int st = attend.getAsInt();
            assertEquals(Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT, st);
            assertTrue(Spo4jNative.spo4j_last_error().getString().contains("tableBlocks[2] = 99"));
            blocks.put(2, 2);
            qe.put(0, 1);
            st = attend.getAsInt();
            assertEquals(Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT, st);
            assertTrue(Spo4jNative.spo4j_last_error().getString().contains("queryEntries[0] = 1"));
            pend.put(0, 13);
            qe.put(0, 0);
            st = attend.getAsInt();
            assertEquals(Spo4jNative.SPO4J_ERR_INVALID_ARGUMENT, st);
            assertTrue(Spo4jNative.spo4j_last_error().getString().contains("partEnd = 13"));
            for (int i = 0; i < 32; i++) assertEquals(7f, out.get(i));
        }
    }
}
