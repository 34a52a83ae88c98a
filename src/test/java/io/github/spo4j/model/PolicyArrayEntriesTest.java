package io.github.spo4j.model;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * The Java-array entries of the policy ({@code int[][]} in, {@code float[]} out) against its tensor entries, and the
 * pool it makes for itself.
 */
class PolicyArrayEntriesTest {
    static final double ATOL = PolicyDecodeTest.ATOL, RTOL = PolicyDecodeTest.RTOL;

    @Test
    void logitsOfIntRowsEqualTheTensorEntry() {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 21);
                PointerScope s = new PointerScope()) {
            SplittableRandom rng = new SplittableRandom(1);
            int[][] rows = {
                PolicyDecodeTest.randomTokens(rng, 13, c.vocabSize()),
                PolicyDecodeTest.randomTokens(rng, 13, c.vocabSize())
            };
            float[] expected = Tensors.toFloats(p.logits(Tensors.tokenIds(rows)));
            assertArrayEquals(expected, Tensors.toFloats(p.logits(rows)));
            float[][] arrays = p.logitsArray(rows);
            int v = c.vocabSize();
            for (int b = 0; b < rows.length; b++) {
                float[] row = new float[13 * v];
                System.arraycopy(expected, b * 13 * v, row, 0, row.length);
                assertArrayEquals(row, arrays[b], "sequence " + b);
            }
        }
    }

    @Test
    void logitsArrayOfRaggedRowsEqualsEachRowAlone() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy p = PolicyTestModels.random(c, 22)) {
            SplittableRandom rng = new SplittableRandom(2);
            int[][] rows = new int[3][];
            int[] lengths = {1, 23, 9};
            for (int b = 0; b < rows.length; b++) {
                rows[b] = PolicyDecodeTest.randomTokens(rng, lengths[b], c.vocabSize());
            }
            float[][] batched = p.logitsArray(rows);
            assertEquals(rows.length, batched.length);
            for (int b = 0; b < rows.length; b++) {
                assertEquals(rows[b].length * c.vocabSize(), batched[b].length);
                float[] alone = p.logitsArray(new int[][] {rows[b]})[0];
                assertAllClose("sequence " + b, alone, batched[b], ATOL, RTOL);
            }
        }
    }

    @Test
    void prefillAndDecodeArraysEqualTheTensorEntries() {
        ModelConfig c = PolicyTestModels.llama();
        try (Policy p = PolicyTestModels.random(c, 23);
                KvCache tensors = p.createKvCache(4, 64);
                KvCache arrays = p.createKvCache(4, 64)) {
            int[][] prompts = {{1, 5, 9, 2, 7}, {3, 3}};
            int[] a = {tensors.newSequence(), tensors.newSequence()};
            int[] b = {arrays.newSequence(), arrays.newSequence()};
            try (PointerScope s = new PointerScope()) {
                float[][] expected = Tensors.toFloatRows(p.prefill(tensors, a, prompts));
                float[][] got = p.prefillArray(arrays, b, prompts);
                assertEquals(2, got.length);
                for (int i = 0; i < 2; i++) assertArrayEquals(expected[i], got[i], "prefill row " + i);
                for (int step = 0; step < 3; step++) {
                    int[] next = {step, 10 + step};
                    expected = Tensors.toFloatRows(p.decode(tensors, a, next));
                    got = step == 2
                            ? p.decodeArray(arrays, b, next, Integer.MAX_VALUE)
                            : p.decodeArray(arrays, b, next);
                    for (int i = 0; i < 2; i++) {
                        assertAllClose("decode step " + step + " row " + i, expected[i], got[i], ATOL, RTOL);
                    }
                }
            }
            assertEquals(tensors.length(a[0]), arrays.length(b[0]));
        }
    }

    @Test
    void createKvCacheMakesAHostPoolOfThePolicysLayout() {
        ModelConfig c = PolicyTestModels.qwen2();
        try (Policy p = PolicyTestModels.random(c, 24);
                KvCache pool = p.createKvCache(16, 32)) {
            assertEquals(Backend.CPU, pool.backend());
            assertEquals(p.kvCacheConfig(16, 32), pool.config());
            int seq = pool.newSequence();
            assertEquals(c.vocabSize(), p.prefillArray(pool, new int[] {seq}, new int[][] {{1, 2, 3}})[0].length);
        }
    }

    @Test
    void badInputIsRejectedNamingTheArgument() {
        ModelConfig c = PolicyTestModels.llama();
        Policy p = PolicyTestModels.random(c, 25);
        var range = assertThrows(IllegalArgumentException.class, () -> p.logitsArray(new int[][] {{1, 37}}));
        assertEquals("tokens hold ids in [1, 37], outside [0, V = 37)", range.getMessage());
        var empty = assertThrows(IllegalArgumentException.class, () -> p.logitsArray(new int[][] {{1}, {}}));
        assertEquals("tokens[1] must hold at least one id", empty.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.logits(new int[][] {{1, 2}, {3}}));
        p.close();
        assertThrows(IllegalStateException.class, () -> p.logitsArray(new int[][] {{1}}));
        assertThrows(IllegalStateException.class, () -> p.createKvCache(16, 8));
    }
}
