package io.github.spo4j.kernels.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sampler's building blocks and rules: Philox against Random123's published known answers (Java and
 * native), the integer masses, greedy ties, zero-mass and cut tokens never drawn, and a seed that fixes each
 * token whatever the batch.
 */
class SamplerReferenceTest {
    /** Random123's kat_vectors for philox4x32-10: counter, key, expected output. */
    static Stream<Arguments> katVectors() {
        return Stream.of(
                Arguments.of(new int[] {0, 0, 0, 0}, new int[] {0, 0}, new int[] {
                    0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8
                }),
                Arguments.of(new int[] {-1, -1, -1, -1}, new int[] {-1, -1}, new int[] {
                    0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd
                }),
                Arguments.of(
                        new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
                        new int[] {0xa4093822, 0x299f31d0},
                        new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
    }

    @ParameterizedTest
    @MethodSource("katVectors")
    void javaPhiloxMatchesRandom123KnownAnswers(int[] counter, int[] key, int[] expected) {
        assertArrayEquals(expected, Philox.philox4x32_10(counter, key));
    }

    @ParameterizedTest
    @MethodSource("katVectors")
    void nativePhiloxMatchesRandom123KnownAnswers(int[] counter, int[] key, int[] expected) {
        try (PointerScope scope = new PointerScope()) {
            IntPointer out = new IntPointer(4);
            NativeLibrary.check(
                    Spo4jNative.spo4j_sampler_philox4x32_10(new IntPointer(counter), new IntPointer(key), out));
            int[] got = new int[4];
            out.get(got);
            assertArrayEquals(expected, got);
        }
    }

    @Test
    void rand64IsWordsOneAndZeroOfTheCounter() {
        long seed = 0x0123456789abcdefL, seq = 0xfedcba9876543210L;
        int[] out = Philox.philox4x32_10(
                new int[] {77, (int) seq, (int) (seq >>> 32), 0}, new int[] {(int) seed, (int) (seed >>> 32)});
        assertEquals(((long) out[1] << 32) | (out[0] & 0xffffffffL), Philox.rand64(seed, seq, 77));
    }

    @Test
    void unsignedMultiplyHighIsTheHighWord() {
        long[] xs = {0, 1, 3, -1, Long.MIN_VALUE, Long.MAX_VALUE, 0x9E3779B97F4A7C15L, 1L << 44};
        for (long a : xs) {
            for (long b : xs) {
                java.math.BigInteger p = new java.math.BigInteger(Long.toUnsignedString(a))
                        .multiply(new java.math.BigInteger(Long.toUnsignedString(b)))
                        .shiftRight(64);
                assertEquals(p.longValue(), Philox.unsignedMultiplyHigh(a, b), a + " * " + b);
            }
        }
    }

    @Test
    void massesAreRoundedScaledExponentials() {
        assertEquals(1L << 44, SamplerReference.mass(0.0));
        assertEquals(0, SamplerReference.mass(-40.0));
        assertEquals(0, SamplerReference.mass(-1e30));
        assertEquals(0, SamplerReference.mass(Double.NEGATIVE_INFINITY));
        long prev = Long.MAX_VALUE;
        for (double d = 0; d >= -32; d -= 0.0137) {
            long q = SamplerReference.mass(d);
            double exact = Math.exp(d) * 0x1.0p44;
            assertTrue(Math.abs(q - exact) <= 0.5 + exact * 1e-15, d + ": " + q + " vs " + exact);
            assertTrue(q <= prev, "monotone at " + d);
            prev = q;
        }
        // e < 2^-45 rounds to 0: those tokens are never drawn.
        assertEquals(0, SamplerReference.mass(-45.5 * Math.log(2)));
        assertEquals(1, SamplerReference.mass(-44 * Math.log(2)));
    }

    @Test
    void greedyIsTheArgmaxWithTiesToTheLowestIndex() {
        float[] logits = {1, 5, 3, 5, 5, -2, 5, 0};
        SampleResult r =
                SamplerReference.sample(SamplerConfig.of(1).withGreedy(true), logits, 8, new long[] {1}, new int[] {0});
        assertEquals(1, r.tokens()[0]);
        // A tie made by the division: a < b, but a / T == b / T (subnormal), so x's argmax is the lower index.
        float a = 1e-38f, b = Math.nextUp(a), t = 1000f;
        assertEquals(a / t, b / t);
        float[] two = {0f, a, b, 0f, 2f, 3f, 3f, 1f};
        r = SamplerReference.sample(
                SamplerConfig.of(1).withGreedy(true).withTemperature(t), two, 4, new long[] {1, 2}, new int[] {0, 0});
        assertEquals(1, r.tokens()[0]);
        assertEquals(1, r.tokens()[1]);
    }

    @Test
    void logprobIsTheFullSoftmaxAtTheTemperature() {
        float[] logits = {0.5f, -1f, 2f, 0f, 1.5f};
        SamplerConfig c = SamplerConfig.of(9).withTemperature(0.8f).withTopK(2);
        SampleResult r = SamplerReference.sample(c, logits, 5, new long[] {3}, new int[] {4});
        double s = 0;
        for (float l : logits) s += Math.exp(l / 0.8);
        int t = r.tokens()[0];
        assertTrue(t == 2 || t == 4, "top-2 token, got " + t);
        assertEquals(logits[t] / 0.8 - Math.log(s), r.logprobs()[0], 1e-6);
    }

    @Test
    void zeroMassAndCutTokensAreNeverDrawn() {
        int v = 50, b = 3000;
        float[] row = new float[v];
        for (int i = 0; i < v; i++) row[i] = i % 7 == 0 ? -1e30f : (float) Math.sin(i) * 2;
        row[13] = -40f; // e^-40 relative: mass 0
        float[] logits = tile(row, b);
        long[] ids = new long[b];
        int[] pos = new int[b];
        for (int i = 0; i < b; i++) {
            ids[i] = i;
            pos[i] = 3 * i;
        }
        Set<Integer> topK = top(row, 1f, 6, 1f);
        Set<Integer> topP = top(row, 1f, 0, 0.6f);
        for (SamplerConfig c : new SamplerConfig[] {
            SamplerConfig.of(5),
            SamplerConfig.of(5).withTopK(6),
            SamplerConfig.of(5).withTopP(0.6f)
        }) {
            int[] tokens = SamplerReference.sample(c, logits, v, ids, pos).tokens();
            Set<Integer> seen = new HashSet<>();
            for (int t : tokens) {
                seen.add(t);
                assertTrue(t % 7 != 0 && t != 13, c + " drew zero-mass token " + t);
                if (c.topK() > 0) assertTrue(topK.contains(t), "outside top-k: " + t);
                if (c.topP() < 1) assertTrue(topP.contains(t), "outside top-p: " + t);
            }
            if (c.topK() > 0) assertEquals(topK, seen, "every top-k token is drawn in 3000 draws");
        }
    }

    @Test
    void aSeedFixesEachTokenWhateverTheBatch() {
        int b = 99, v = 111;
        float[] logits = SamplerData.logits(b, v, 4);
        long[] ids = SamplerData.seqIds(b, 4);
        int[] pos = SamplerData.positions(b, 4);
        for (SamplerConfig c : SamplerData.configs(1234)) {
            int[] whole = SamplerReference.sample(c, logits, v, ids, pos).tokens();
            // Reversed rows.
            float[] revLogits = new float[b * v];
            long[] revIds = new long[b];
            int[] revPos = new int[b];
            for (int r = 0; r < b; r++) {
                System.arraycopy(logits, r * v, revLogits, (b - 1 - r) * v, v);
                revIds[b - 1 - r] = ids[r];
                revPos[b - 1 - r] = pos[r];
            }
            int[] rev = SamplerReference.sample(c, revLogits, v, revIds, revPos).tokens();
            for (int r = 0; r < b; r++) assertEquals(whole[r], rev[b - 1 - r], c + " row " + r + " reversed");
            // One row at a time.
            for (int r = 0; r < b; r += 7) {
                float[] one = java.util.Arrays.copyOfRange(logits, r * v, (r + 1) * v);
                assertEquals(
                        whole[r],
                        SamplerReference.sample(c, one, v, new long[] {ids[r]}, new int[] {pos[r]})
                                .tokens()[0],
                        c + " row " + r + " alone");
            }
        }
    }

    @Test
    void seedsAndPositionsChangeTheDraws() {
        int v = 111, b = 200;
        float[] row = new float[v]; // uniform: any two streams agree on 1/111 of the rows by chance
        float[] logits = tile(row, b);
        long[] ids = new long[b];
        int[] pos = new int[b];
        for (int i = 0; i < b; i++) ids[i] = 42;
        for (int i = 0; i < b; i++) pos[i] = i;
        int[] a = SamplerReference.sample(SamplerConfig.of(1), logits, v, ids, pos)
                .tokens();
        int[] s = SamplerReference.sample(SamplerConfig.of(2), logits, v, ids, pos)
                .tokens();
        int[] again = SamplerReference.sample(SamplerConfig.of(1), logits, v, ids, pos)
                .tokens();
        assertArrayEquals(a, again);
        assertTrue(agreements(a, s) < 12, "seeds 1 and 2 agree on " + agreements(a, s) + " of 200 rows");
        for (int i = 0; i < b; i++) pos[i] = i + 1;
        int[] shifted = SamplerReference.sample(SamplerConfig.of(1), logits, v, ids, pos)
                .tokens();
        assertTrue(agreements(a, shifted) < 12, "positions p and p + 1 agree on " + agreements(a, shifted));
        Set<Integer> distinct = new HashSet<>();
        for (int t : a) distinct.add(t);
        assertTrue(distinct.size() > 80, "200 uniform draws over 111 tokens hit only " + distinct.size());
        assertNotEquals(Philox.rand64(1, 42, 0), Philox.rand64(1, 43, 0));
    }

    private static int agreements(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) n += a[i] == b[i] ? 1 : 0;
        return n;
    }

    static float[] tile(float[] row, int b) {
        float[] out = new float[row.length * b];
        for (int r = 0; r < b; r++) System.arraycopy(row, 0, out, r * row.length, row.length);
        return out;
    }

    /** The tokens kept by top-k then top-p, from double probabilities sorted by (p desc, index asc). */
    static Set<Integer> top(float[] row, float temperature, int k, float p) {
        double[] prob = SamplerStatisticsTest.probabilities(row, temperature);
        Integer[] idx = new Integer[row.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        java.util.Arrays.sort(idx, (x, y) -> prob[x] != prob[y] ? Double.compare(prob[y], prob[x]) : x - y);
        int len = k > 0 ? Math.min(k, idx.length) : idx.length;
        while (len > 0 && prob[idx[len - 1]] < 0x1.0p-46) len--;
        double total = 0;
        for (int j = 0; j < len; j++) total += prob[idx[j]];
        Set<Integer> kept = new HashSet<>();
        double cum = 0;
        for (int j = 0; j < len; j++) {
            kept.add(idx[j]);
            cum += prob[idx[j]];
            if (p < 1 && cum >= p * total) break;
        }
        return kept;
    }
}
