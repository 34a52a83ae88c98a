package io.github.spo4j.kernels.kv;

import static io.github.spo4j.testutil.MessageParity.assertSameMessage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The KV cache's Java checks and the C entries' give the same message for the same bad input: the cache's shape,
 * the layer and the k/v pointers of a write.
 */
class KvCacheMessageParityTest {
    private static final int CPU = Spo4jNative.SPO4J_DEVICE_CPU;

    @ParameterizedTest(name = "L {0}, Hkv {1}, D {2}, block {3}, blocks {4}")
    @CsvSource({
        "0, 2, 3, 4, 6",
        "2, 0, 3, 4, 6",
        "2, 2, 0, 4, 6",
        "2, 2, 3, 0, 6",
        "2, 2, 3, 4, 0",
        "-1, 2, 3, 4, 6",
        "1, 1, 1, 65536, 65536"
    })
    void shape(int numLayers, int kvHeads, int headDim, int blockSize, int numBlocks) {
        try (FloatPointer cache = new FloatPointer(1)) {
            assertSameMessage(
                    () -> new KvCacheConfig(numLayers, kvHeads, headDim, blockSize, numBlocks),
                    () -> Spo4jNative.spo4j_kv_cache_write(
                            CPU, cache, numLayers, numBlocks, blockSize, kvHeads, headDim, 0, 0, null, null, null,
                            null));
        }
    }

    @Test
    void writeArguments() {
        KvCacheConfig c = new KvCacheConfig(2, 2, 3, 4, 6);
        try (KvCache pool = KvCache.create(c, Backend.CPU);
                PointerScope scope = new PointerScope()) {
            int s = pool.newSequence();
            float[] row = new float[6];
            FloatPointer k = new FloatPointer(row), cache = new FloatPointer(c.totalFloats());
            IntPointer slot = new IntPointer(new int[] {0});
            for (int layer : new int[] {2, -1}) {
                assertSameMessage(
                        () -> pool.append(s, layer, row, row),
                        () -> Spo4jNative.spo4j_kv_cache_write(CPU, cache, 2, 6, 4, 2, 3, layer, 1, slot, k, k, null));
            }
            assertSameMessage(
                    () -> pool.append(s, 0, null, row),
                    () -> Spo4jNative.spo4j_kv_cache_write(CPU, cache, 2, 6, 4, 2, 3, 0, 1, slot, null, k, null));
            assertSameMessage(
                    () -> pool.append(s, 0, row, null),
                    () -> Spo4jNative.spo4j_kv_cache_write(CPU, cache, 2, 6, 4, 2, 3, 0, 1, slot, k, null, null));
        }
    }
}
