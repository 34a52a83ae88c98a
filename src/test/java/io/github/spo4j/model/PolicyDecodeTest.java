package io.github.spo4j.model;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.kv.KvCache;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generation through the KV pool and our attention kernels against the training forward (libtorch's causal
 * attention over the whole sequence). Tolerance: 2e-5 absolute plus 2e-4 relative on logits of size ~1, the
 * difference of fp32 attention summed in other orders.
 */
class PolicyDecodeTest {
    static final double ATOL = 2e-5, RTOL = 2e-4;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama", PolicyTestModels.llama(), 3),
                Arguments.of("qwen2", PolicyTestModels.qwen2(), 16),
                Arguments.of("llama-bias-llama3-rope", PolicyTestModels.llamaBiasScaled(), 1));
    }

    static int[] randomTokens(SplittableRandom rng, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextInt(vocab);
        return t;
    }

    /** Row t of the full forward's logits of {@code tokens}: the distribution after tokens[0..t]. */
    static float[][] fullLogits(Policy p, int[] tokens) {
        try (PointerScope s = new PointerScope()) {
            long[] ids = Arrays.stream(tokens).asLongStream().toArray();
            Tensor logits = p.logits(Tensors.scopedLongs(ids, 1, ids.length));
            float[] flat = Tensors.toFloats(logits);
            int v = p.config().vocabSize();
            float[][] rows = new float[tokens.length][];
            for (int t = 0; t < tokens.length; t++) rows[t] = Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            return rows;
        }
    }

    @ParameterizedTest(name = "{0}, block size {2}")
    @MethodSource("models")
    void prefillThenDecodeMatchesFullForward(String name, ModelConfig config, int blockSize) {
        try (Policy p = PolicyTestModels.random(config, 11);
                KvCache pool = p.createKvCache(blockSize, 512)) {
            int[] tokens = randomTokens(new SplittableRandom(3), 41, config.vocabSize());
            float[][] expected = fullLogits(p, tokens);
            int seq = pool.newSequence();
            try (PointerScope s = new PointerScope()) {
                float[] first =
                        Tensors.toFloats(p.prefill(pool, new int[] {seq}, new int[][] {Arrays.copyOf(tokens, 7)}));
                assertAllClose(name + " prefill logits", expected[6], first, ATOL, RTOL);
                for (int t = 7; t < tokens.length; t++) {
                    float[] got = Tensors.toFloats(p.decode(pool, new int[] {seq}, new int[] {tokens[t]}));
                    assertAllClose(name + " decode logits at " + t, expected[t], got, ATOL, RTOL);
                }
            }
            assertEquals(tokens.length, pool.length(seq));
        }
    }

    @ParameterizedTest(name = "{0}, block size {2}")
    @MethodSource("models")
    void batchedPrefillOfRaggedSequencesMatchesEachAlone(String name, ModelConfig config, int blockSize) {
        try (Policy p = PolicyTestModels.random(config, 12);
                KvCache pool = p.createKvCache(blockSize, 1024)) {
            SplittableRandom rng = new SplittableRandom(5);
            int[] lengths = {1, 99, 17, 2};
            int[][] seqTokens = new int[lengths.length][];
            int[] seqs = new int[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                seqTokens[i] = randomTokens(rng, lengths[i], config.vocabSize());
                seqs[i] = pool.newSequence();
            }
            try (PointerScope s = new PointerScope()) {
                float[] got = Tensors.toFloats(p.prefill(pool, seqs, seqTokens));
                int v = config.vocabSize();
                for (int i = 0; i < lengths.length; i++) {
                    float[][] expected = fullLogits(p, seqTokens[i]);
                    assertAllClose(
                            name + " sequence " + i,
                            expected[lengths[i] - 1],
                            Arrays.copyOfRange(got, i * v, (i + 1) * v),
                            ATOL,
                            RTOL);
                }
                // A second prefill continues each sequence from its cached prefix.
                int[][] more = {
                    randomTokens(rng, 5, v), randomTokens(rng, 1, v), randomTokens(rng, 70, v), randomTokens(rng, 3, v)
                };
                float[] got2 = Tensors.toFloats(p.prefill(pool, seqs, more));
                for (int i = 0; i < lengths.length; i++) {
                    int[] all = concat(seqTokens[i], more[i]);
                    assertAllClose(
                            name + " continued sequence " + i,
                            fullLogits(p, all)[all.length - 1],
                            Arrays.copyOfRange(got2, i * v, (i + 1) * v),
                            ATOL,
                            RTOL);
                }
            }
        }
    }

    /** Forks of a prefix longer than the sharing threshold: the shared-prefix plan and copy-on-write of the tail. */
    @ParameterizedTest(name = "{0}, block size {2}")
    @MethodSource("models")
    void forkedBranchesDecodeAsIndependentSequences(String name, ModelConfig config, int blockSize) {
        try (Policy p = PolicyTestModels.random(config, 13);
                KvCache pool = p.createKvCache(blockSize, 2048)) {
            SplittableRandom rng = new SplittableRandom(8);
            int[] prefix = randomTokens(rng, Policy.MIN_SHARED_TOKENS + 37, config.vocabSize());
            int root = pool.newSequence();
            int branches = 5, steps = 12;
            int[][] continuation = new int[branches][];
            for (int b = 0; b < branches; b++) continuation[b] = randomTokens(rng, steps, config.vocabSize());
            try (PointerScope s = new PointerScope()) {
                p.prefill(pool, new int[] {root}, new int[][] {prefix});
                int[] kids = pool.fork(root, branches - 1);
                int[] seqs = new int[branches];
                seqs[0] = root; // the parent keeps decoding too: its tail block is shared with the forks
                System.arraycopy(kids, 0, seqs, 1, kids.length);
                float[][][] expected = new float[branches][][];
                for (int b = 0; b < branches; b++) expected[b] = fullLogits(p, concat(prefix, continuation[b]));
                int v = config.vocabSize();
                for (int t = 0; t < steps; t++) {
                    int[] tok = new int[branches];
                    for (int b = 0; b < branches; b++) tok[b] = continuation[b][t];
                    float[] got = Tensors.toFloats(p.decode(pool, seqs, tok));
                    for (int b = 0; b < branches; b++) {
                        assertAllClose(
                                name + " branch " + b + " step " + t,
                                expected[b][prefix.length + t],
                                Arrays.copyOfRange(got, b * v, (b + 1) * v),
                                ATOL,
                                RTOL);
                    }
                }
            }
            assertTrue(pool.copyOnWrites() > 0 || prefix.length % blockSize == 0, "the partial tail block was copied");
        }
    }

    @ParameterizedTest(name = "{0}, block size {2}")
    @MethodSource("models")
    void badArgumentsAreRejectedBeforeAnyWrite(String name, ModelConfig config, int blockSize) {
        try (Policy p = PolicyTestModels.random(config, 1);
                KvCache pool = p.createKvCache(blockSize, 64);
                KvCache wrong = KvCache.create(new io.github.spo4j.kernels.kv.KvCacheConfig(1, 1, 2, 4, 4))) {
            int a = pool.newSequence(), b = pool.newSequence();
            int v = config.vocabSize();
            assertThrows(IllegalArgumentException.class, () -> p.decode(pool, new int[] {a}, new int[] {v}));
            assertThrows(IllegalArgumentException.class, () -> p.decode(pool, new int[] {a}, new int[] {-1}));
            assertThrows(IllegalArgumentException.class, () -> p.decode(pool, new int[] {a, a}, new int[] {0, 0}));
            assertThrows(IllegalArgumentException.class, () -> p.decode(pool, new int[] {a, b}, new int[] {0}));
            assertThrows(IllegalArgumentException.class, () -> p.decode(pool, new int[] {99}, new int[] {0}));
            assertThrows(IllegalArgumentException.class, () -> p.decode(wrong, new int[] {0}, new int[] {0}));
            assertThrows(IllegalArgumentException.class, () -> p.prefill(pool, new int[] {a}, new int[][] {{}}));
            int[] tooLong = new int[config.maxPositionEmbeddings() + 1];
            assertThrows(IllegalArgumentException.class, () -> p.prefill(pool, new int[] {a}, new int[][] {tooLong}));
            assertEquals(0, pool.length(a));
            assertEquals(0, pool.blocksInUse());
        }
        Policy closed = Policy.random(config, 1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.namedParameters());
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
