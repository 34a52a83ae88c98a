package io.github.spo4j.kernels.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.kernels.Backend;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AbstractTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The storage contract the attention kernels read: after appends through every entry (arrays, pointers,
 * tensors, batched decode), the raw storage holds each (layer, position, head) K and V row at
 * {@code ((((long) l * 2 + kv) * numBlocks + b) * blockSize + s) * Hkv * D + h * D}, with b and s from the block
 * table, written out here independently of the pool's own offset code.
 */
class KvCacheLayoutTest {
    @BeforeAll
    static void threads() {
        torch.set_num_threads(1);
    }

    @Test
    void aHostPoolIsOnNoCudaDevice() {
        try (KvCache pool = KvCache.create(new KvCacheConfig(1, 1, 4, 4, 2), Backend.CPU)) {
            assertEquals(-1, pool.cudaDevice());
        }
    }

    /** A recognisable value for (sequence, layer, K/V, position, head, d). */
    static float value(int seq, int layer, int kv, int pos, int head, int d) {
        return seq * 1e5f + layer * 1e4f + kv * 5e3f + pos * 10f + head + d * 0.125f;
    }

    static float[] tokens(int seq, int layer, int kv, int from, int n, int heads, int dim) {
        float[] x = new float[n * heads * dim];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                for (int d = 0; d < dim; d++) x[(t * heads + h) * dim + d] = value(seq, layer, kv, from + t, h, d);
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void everyEntryPutsEachTokenAtTheContractOffset(Backend backend) {
        int layers = 3, heads = 2, dim = 5, bs = 3, blocks = 40;
        KvCacheConfig config = new KvCacheConfig(layers, heads, dim, bs, blocks);
        try (KvCache pool = KvCache.create(config, backend);
                PointerScope scope = new PointerScope()) {
            int a = pool.newSequence();
            // Arrays at layer 0, pointers at layer 1, tensors at layer 2, in uneven pieces.
            pool.append(a, 0, tokens(a, 0, 0, 0, 7, heads, dim), tokens(a, 0, 1, 0, 7, heads, dim));
            pool.append(
                    a,
                    1,
                    new FloatPointer(tokens(a, 1, 0, 0, 4, heads, dim)),
                    new FloatPointer(tokens(a, 1, 1, 0, 4, heads, dim)),
                    4);
            pool.append(
                    a,
                    1,
                    new FloatPointer(tokens(a, 1, 0, 4, 3, heads, dim)),
                    new FloatPointer(tokens(a, 1, 1, 4, 3, heads, dim)),
                    3);
            Tensor k2 = AbstractTensor.create(tokens(a, 2, 0, 0, 7, heads, dim)).reshape(7, heads, dim);
            Tensor v2 = AbstractTensor.create(tokens(a, 2, 1, 0, 7, heads, dim));
            pool.append(a, 2, k2, v2);
            int[] kids = pool.fork(a, 2);
            // Batched decode of the parent and both children: two copy the shared tail, one keeps it.
            int[] all = {a, kids[0], kids[1]};
            for (int pos = 7; pos < 11; pos++) {
                for (int l = 0; l < layers; l++) {
                    float[] k = new float[3 * heads * dim], v = new float[3 * heads * dim];
                    for (int i = 0; i < 3; i++) {
                        System.arraycopy(tokens(all[i], l, 0, pos, 1, heads, dim), 0, k, i * heads * dim, heads * dim);
                        System.arraycopy(tokens(all[i], l, 1, pos, 1, heads, dim), 0, v, i * heads * dim, heads * dim);
                    }
                    if (pos % 2 == 0) {
                        pool.appendBatch(all, l, k, v);
                    } else {
                        pool.appendBatch(all, l, AbstractTensor.create(k), AbstractTensor.create(v));
                    }
                }
            }
            assertEquals(2, pool.copyOnWrites());
            float[] raw = new float[(int) config.totalFloats()];
            pool.readStorage(0, raw, 0, raw.length);
            float[] viaStorage = new float[raw.length];
            pool.storage().get(viaStorage);
            assertArrayEquals(raw, viaStorage);
            for (int seq : all) {
                int[] table = pool.blockTable(seq);
                assertEquals(4, table.length);
                for (int l = 0; l < layers; l++) {
                    assertEquals(11, pool.length(seq, l));
                    for (int pos = 0; pos < 11; pos++) {
                        int owner = pos < 7 ? a : seq; // the prefix was written by the parent
                        int b = table[pos / bs], s = pos % bs;
                        for (int kv = 0; kv < 2; kv++) {
                            for (int h = 0; h < heads; h++) {
                                long at = ((((long) l * 2 + kv) * blocks + b) * bs + s) * heads * dim + (long) h * dim;
                                assertEquals(kv == 0 ? config.kOffset(l, b, s, h) : config.vOffset(l, b, s, h), at);
                                for (int d = 0; d < dim; d++) {
                                    assertEquals(
                                            value(owner, l, kv, pos, h, d),
                                            raw[(int) at + d],
                                            "seq " + seq + " layer " + l + " kv " + kv + " pos " + pos + " head " + h);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
