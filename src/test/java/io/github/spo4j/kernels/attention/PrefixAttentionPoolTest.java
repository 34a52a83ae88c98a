package io.github.spo4j.kernels.attention;

import static io.github.spo4j.kernels.attention.PrefixAttentionKernelTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decode steps of a sampling tree on a real {@link KvCache}: a prompt, forks at every level, then
 * lockstep decode with {@code appendBatch} per layer. At every step and layer, shared-prefix and paged
 * attention equal dense attention over each sequence's own {@code readKv}; a plan made once per step
 * serves every layer.
 */
class PrefixAttentionPoolTest {
    @ParameterizedTest(name = "blockSize={0}")
    @ValueSource(ints = {1, 3, 16})
    void treeDecodeOnThePoolEqualsDenseAttention(int blockSize) {
        int layers = 2, kvHeads = 2, headDim = 16, qHeads = 8;
        SplittableRandom r = new SplittableRandom(blockSize);
        try (KvCache pool = KvCache.create(new KvCacheConfig(layers, kvHeads, headDim, blockSize, 4000), Backend.CPU)) {
            int root = pool.newSequence();
            for (int l = 0; l < layers; l++) pool.append(root, l, gaussian(r, 70 * 32), gaussian(r, 70 * 32));
            int[] frontier = {root};
            PrefixAttention cpu = PrefixAttention.create(Backend.CPU);
            for (int level = 0; level < 2; level++) {
                int[] next = new int[frontier.length * 3];
                for (int i = 0; i < frontier.length; i++) {
                    System.arraycopy(pool.fork(frontier[i], 3), 0, next, 3 * i, 3);
                    pool.release(frontier[i]);
                }
                frontier = next;
                for (int step = 0; step < 5; step++) {
                    int b = frontier.length;
                    PrefixAttentionPlan shared = null, paged = null;
                    for (int l = 0; l < layers; l++) {
                        pool.appendBatch(frontier, l, gaussian(r, b * 32), gaussian(r, b * 32));
                        if (l == 0) {
                            shared = PrefixAttentionPlan.decodeShared(pool, frontier, 0, 8);
                            paged = PrefixAttentionPlan.decode(pool, frontier, 0);
                        }
                        float[] q = gaussian(r, b * qHeads * headDim);
                        float[] expected = dense(pool, frontier, l, qHeads, q);
                        assertClose(expected, cpu.attend(pool, l, paged, qHeads, 0.25f, q, null), 2e-5f, "paged");
                        assertClose(expected, cpu.attend(pool, l, shared, qHeads, 0.25f, q, null), 2e-5f, "shared");
                    }
                    assertTrue(shared.sharedParts() >= 1, shared.toString());
                }
            }
            for (int s : frontier) pool.release(s);
            assertEquals(0, pool.blocksInUse());
        }
    }

    private static float[] dense(KvCache pool, int[] seqs, int layer, int qHeads, float[] q) {
        KvCacheConfig c = pool.config();
        int row = qHeads * c.headDim();
        float[] out = new float[q.length];
        for (int i = 0; i < seqs.length; i++) {
            int n = pool.length(seqs[i], layer);
            float[] k = new float[n * c.rowFloats()], v = new float[k.length];
            pool.readKv(seqs[i], layer, k, v);
            float[] qi = java.util.Arrays.copyOfRange(q, i * row, (i + 1) * row), oi = new float[row];
            PrefixAttentionReference.attention(
                    qHeads, c.kvHeads(), c.headDim(), 0.25f, 1, qi, n, k, v, new int[] {n}, oi, null);
            System.arraycopy(oi, 0, out, i * row, row);
        }
        return out;
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }
}
