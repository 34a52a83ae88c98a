package io.github.spo4j.kernels.attention;

import static io.github.spo4j.testutil.MessageParity.assertSameMessage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.PagedKvScene;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prefix attention's Java checks and {@code spo4j_prefix_attention}'s give the same message for the same bad
 * input: the layer, qHeads, headDim, scale and a query that is not finite. (The plan is Java's own object, built
 * valid; the C entry's checks of its raw arrays have no Java twin.)
 */
class PrefixAttentionMessageParityTest {
    private final PrefixAttention cpu = PrefixAttention.create(Backend.CPU);
    private PagedKvScene scene;
    private PrefixAttentionPlan plan;

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

    @Test
    void callArguments() {
        float[] q = scene.queries(1, 4);
        same(scene.config, scene.cache, 2, 4, 1f, q);
        same(scene.config, scene.cache, -1, 4, 1f, q);
        same(scene.config, scene.cache, 0, 3, 1f, q);
        same(scene.config, scene.cache, 0, 0, 1f, q);
        for (float scale : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            same(scene.config, scene.cache, 0, 4, scale, q);
        }
        float[] nan = q.clone();
        nan[13] = Float.NaN;
        same(scene.config, scene.cache, 0, 4, 1f, nan);
        KvCacheConfig wide = new KvCacheConfig(1, 1, 257, 4, 1);
        try (FloatPointer cache = new FloatPointer(wide.totalFloats())) {
            same(wide, cache, 0, 1, 1f, new float[257]);
        }
    }

    private void same(KvCacheConfig c, Pointer cache, int layer, int qHeads, float scale, float[] q) {
        PrefixAttentionPlan.Native p = plan.nativeArrays();
        try (FloatPointer qp = new FloatPointer(q);
                FloatPointer out = new FloatPointer(Math.max(1, q.length))) {
            assertSameMessage(
                    () -> cpu.attend(c, cache, layer, plan, qHeads, scale, q, null),
                    () -> Spo4jNative.spo4j_prefix_attention(
                            Spo4jNative.SPO4J_DEVICE_CPU,
                            new FloatPointer(cache),
                            c.numLayers(),
                            c.numBlocks(),
                            c.blockSize(),
                            c.kvHeads(),
                            c.headDim(),
                            layer,
                            qHeads,
                            scale,
                            plan.numQueries,
                            qp,
                            p.queryLimit(),
                            plan.tableOffsets.length - 1,
                            p.tableOffsets(),
                            p.tableBlocks(),
                            plan.partTable.length,
                            p.partTable(),
                            p.partBegin(),
                            p.partEnd(),
                            p.partQueryOffsets(),
                            p.partQueries(),
                            p.queryEntryOffsets(),
                            p.queryEntries(),
                            out,
                            null,
                            null));
        }
    }
}
