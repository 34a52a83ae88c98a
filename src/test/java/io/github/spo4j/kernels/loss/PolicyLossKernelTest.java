package io.github.spo4j.kernels.loss;

import static io.github.spo4j.kernels.loss.PolicyLossAssertions.assertStatsClose;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import io.github.spo4j.testutil.PolicyLossData;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The native CPU kernels against the pure-Java reference. */
class PolicyLossKernelTest {
    static final int[] SIZES = {0, 1, 99, 111, 4099};
    private static PolicyLoss cpu;
    private static final PolicyLoss REFERENCE = PolicyLoss.create(Backend.REFERENCE);

    @BeforeAll
    static void nativeLibraryLoads() {
        cpu = PolicyLoss.create(Backend.CPU);
    }

    static Stream<Arguments> tokenCases() {
        return PolicyLossConfigs.all().stream()
                .flatMap(c -> java.util.Arrays.stream(SIZES).mapToObj(n -> Arguments.of(c, n)));
    }

    @ParameterizedTest(name = "[{index}] n={1} {0}")
    @MethodSource("tokenCases")
    void tokensMatchReference(PolicyLossConfigs.Case c, int n) {
        TokenBatch x = PolicyLossData.tokens(n, 1000L + n, c.withRef(), true);
        float[] expected = new float[n], actual = new float[n];
        PolicyLossStats e = PolicyLossReference.tokens(c.config(), x, expected);
        PolicyLossStats a = cpu.tokens(c.config(), x, actual);
        assertStatsClose(c.name(), e, a);
        assertAllClose(c.name() + " grad", expected, actual, 1e-5 * maxAbs(expected, 1e-6), 1e-4);
    }

    @Test
    void tokensWithoutOffsetsOrMaskAreOneAllValidSequence() {
        TokenBatch x = PolicyLossData.tokens(111, 5, true, false);
        TokenBatch noOffsets = new TokenBatch(null, x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), null);
        float[] expected = new float[111], actual = new float[111];
        PolicyLossStats e = PolicyLossReference.tokens(PolicyLossConfig.spo(), noOffsets, expected);
        PolicyLossStats a = cpu.tokens(PolicyLossConfig.spo(), noOffsets, actual);
        assertStatsClose("no offsets", e, a);
        assertAllClose("grad", expected, actual, 1e-5 * maxAbs(expected, 1e-6), 1e-4);
    }

    @Test
    void largeBatchOfAMillionTokensMatches() {
        int n = 1 << 20;
        TokenBatch x = PolicyLossData.tokens(n, 77, true, true);
        float[] expected = new float[n], actual = new float[n];
        PolicyLossStats e = PolicyLossReference.tokens(PolicyLossConfig.spo(), x, expected);
        PolicyLossStats a = cpu.tokens(PolicyLossConfig.spo(), x, actual);
        assertStatsClose("1M tokens", e, a);
        assertAllClose("grad", expected, actual, 1e-5 * maxAbs(expected, 1e-9), 1e-4);
    }

    static Stream<Arguments> logitsCases() {
        List<PolicyLossConfigs.Case> configs = PolicyLossConfigs.few();
        return configs.stream()
                .flatMap(c -> Stream.of(
                                new int[] {0, 7},
                                new int[] {1, 1},
                                new int[] {99, 111},
                                new int[] {111, 1000},
                                new int[] {13, 4099})
                        .map(nv -> Arguments.of(c, nv[0], nv[1])));
    }

    @ParameterizedTest(name = "[{index}] n={1} V={2} {0}")
    @MethodSource("logitsCases")
    void logitsMatchReference(PolicyLossConfigs.Case c, int n, int v) {
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 31L * n + v, c.withRef());
        float[] eg = new float[n * v], ag = new float[n * v];
        float[] elp = new float[n], alp = new float[n], eh = new float[n], ah = new float[n];
        PolicyLossStats e = PolicyLossReference.logits(c.config(), x, eg, elp, eh);
        PolicyLossStats a = cpu.logits(c.config(), x, ag, alp, ah);
        assertStatsClose(c.name(), e, a);
        assertAllClose("logp", elp, alp, 2e-5, 1e-5);
        assertAllClose("entropy", eh, ah, 2e-5, 1e-5);
        assertAllClose("grad logits", eg, ag, gradLogitsAtol(c.config(), x, elp), 1e-4);
    }

    /**
     * Each gradient row is coef·(onehot − p) with coef = (∂loss/∂logp)/T; fp32 rounding of p (about 1e-7)
     * is scaled by coef, so the absolute tolerance is too (a V = 1 row is exactly 0 in the reference).
     */
    private static double gradLogitsAtol(PolicyLossConfig c, LogitsBatch x, float[] logp) {
        float[] dlogp = new float[logp.length];
        PolicyLossReference.tokens(
                c, new TokenBatch(x.seqOffsets(), logp, x.oldLogp(), x.refLogp(), x.advantages(), x.valid()), dlogp);
        return 1e-6 * maxAbs(dlogp, 1e-9) / x.temperature();
    }

    @Test
    void qwenSizedVocabulary() {
        int n = 3, v = 151_936;
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 9, true);
        boolean[] valid = {true, false, true};
        x = new LogitsBatch(
                x.seqOffsets(), x.logits(), v, x.targets(), 0.6f, x.oldLogp(), x.refLogp(), x.advantages(), valid);
        PolicyLossConfig c = PolicyLossConfig.grpo();
        float[] eg = new float[n * v], ag = new float[n * v], elp = new float[n], alp = new float[n];
        PolicyLossStats e = PolicyLossReference.logits(c, x, eg, elp, null);
        PolicyLossStats a = cpu.logits(c, x, ag, alp, null);
        assertStatsClose("V=151936", e, a);
        assertAllClose("logp", elp, alp, 1e-4, 1e-5);
        assertAllClose("grad logits", eg, ag, gradLogitsAtol(c, x, elp), 1e-3);
    }

    @Test
    void tokenLogprobsMatchReference() {
        for (int[] nv : new int[][] {{0, 5}, {1, 1}, {99, 111}, {5, 32000}}) {
            int n = nv[0], v = nv[1];
            LogitsBatch x = PolicyLossData.logits(n, v, 1.3f, 3, false);
            float[] e = new float[n], a = new float[n], eh = new float[n], ah = new float[n];
            PolicyLossReference.tokenLogprobs(x.logits(), v, x.targets(), 1.3f, e, eh);
            cpu.tokenLogprobs(x.logits(), v, x.targets(), 1.3f, a, ah);
            assertAllClose("logp n=" + n + " V=" + v, e, a, 2e-5, 1e-5);
            assertAllClose("entropy n=" + n + " V=" + v, eh, ah, 2e-5, 1e-5);
        }
    }

    /** The zero-copy pointer entry with bf16 logits, int64 targets, and the gradient written in place. */
    @Test
    void pointerEntryBf16InPlaceWithLongTargets() {
        int n = 111, v = 257;
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 21, true);
        short[] bf16 = new short[n * v];
        for (int i = 0; i < bf16.length; i++) bf16[i] = Bf16.fromFloat(x.logits()[i]);
        long[] targets = java.util.Arrays.stream(x.targets()).asLongStream().toArray();
        byte[] valid = new byte[n];
        for (int i = 0; i < n; i++) valid[i] = (byte) (x.valid()[i] ? 1 : 0);
        PolicyLossConfig c = PolicyLossConfig.spo();
        short[] expected = new short[n * v], actual = new short[n * v];
        PolicyLossStats e, a;
        try (PointerScope scope = new PointerScope()) {
            ShortPointer logits = new ShortPointer(bf16);
            ShortPointer grad = new ShortPointer((long) n * v);
            e = REFERENCE.logits(
                    c,
                    n,
                    v,
                    x.seqOffsets().length - 1,
                    new IntPointer(x.seqOffsets()),
                    logits,
                    DType.BF16,
                    new LongPointer(targets),
                    DType.I64,
                    0.6f,
                    new FloatPointer(x.oldLogp()),
                    new FloatPointer(x.refLogp()),
                    new FloatPointer(x.advantages()),
                    new BytePointer(valid),
                    grad,
                    null,
                    null);
            grad.get(expected);
            a = cpu.logits(
                    c,
                    n,
                    v,
                    x.seqOffsets().length - 1,
                    new IntPointer(x.seqOffsets()),
                    logits,
                    DType.BF16,
                    new LongPointer(targets),
                    DType.I64,
                    0.6f,
                    new FloatPointer(x.oldLogp()),
                    new FloatPointer(x.refLogp()),
                    new FloatPointer(x.advantages()),
                    new BytePointer(valid),
                    logits,
                    null,
                    null);
            logits.get(actual);
        }
        assertStatsClose("bf16", e, a);
        float[] ef = new float[n * v], af = new float[n * v];
        for (int i = 0; i < ef.length; i++) {
            ef[i] = Bf16.toFloat(expected[i]);
            af[i] = Bf16.toFloat(actual[i]);
        }
        assertAllClose("bf16 grad in place", ef, af, 1e-4 * maxAbs(ef, 1e-9), 1.6e-2);
    }

    @Test
    void resultsAreBitIdenticalAcrossRunsAndThreadCounts() {
        int n = 300_001;
        TokenBatch x = PolicyLossData.tokens(n, 8, true, true);
        PolicyLossConfig c = PolicyLossConfig.builder()
                .pgAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN)
                .build();
        int threads = Spo4jNative.spo4j_get_num_threads();
        try {
            float[] g1 = new float[n], g2 = new float[n], g3 = new float[n];
            PolicyLossStats s1 = cpu.tokens(c, x, g1);
            PolicyLossStats s2 = cpu.tokens(c, x, g2);
            Spo4jNative.spo4j_set_num_threads(1);
            PolicyLossStats s3 = cpu.tokens(c, x, g3);
            assertEquals(s1, s2);
            assertEquals(s1, s3);
            assertArrayEquals(g1, g2);
            assertArrayEquals(g1, g3);
            LogitsBatch l = PolicyLossData.logits(64, 3001, 0.6f, 2, true);
            float[] h1 = new float[64 * 3001], h2 = new float[64 * 3001];
            Spo4jNative.spo4j_set_num_threads(threads);
            PolicyLossStats t1 = cpu.logits(PolicyLossConfig.spo(), l, h1, null, null);
            Spo4jNative.spo4j_set_num_threads(1);
            PolicyLossStats t2 = cpu.logits(PolicyLossConfig.spo(), l, h2, null, null);
            assertEquals(t1, t2);
            assertArrayEquals(h1, h2);
        } finally {
            Spo4jNative.spo4j_set_num_threads(threads);
        }
    }

    @Test
    void fullyMaskedBatchesGiveZeroLossAndZeroGradient() {
        for (int n : new int[] {1, 99, 4099}) {
            TokenBatch x = PolicyLossData.tokens(n, n, true, true);
            TokenBatch masked =
                    new TokenBatch(x.seqOffsets(), x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), new boolean[n]);
            float[] grad = new float[n];
            java.util.Arrays.fill(grad, Float.NaN);
            PolicyLossStats s = cpu.tokens(PolicyLossConfig.spo(), masked, grad);
            assertEquals(0.0, s.loss());
            assertEquals(0, s.keptTokens());
            assertAllClose("grad", new float[n], grad, 0, 0);
            // All probabilities above rho: masked by the probability mask instead.
            float[] confident = new float[n];
            java.util.Arrays.fill(confident, -0.01f);
            PolicyLossStats t = cpu.tokens(
                    PolicyLossConfig.spo(),
                    new TokenBatch(x.seqOffsets(), x.logp(), confident, x.refLogp(), x.advantages(), null),
                    grad);
            assertEquals(0.0, t.loss());
            assertAllClose("grad", new float[n], grad, 0, 0);
        }
    }

    @Test
    void extremeLogRatiosStayFinite() {
        int n = 99;
        Random rnd = new Random(4);
        float[] logp = new float[n], old = new float[n], ref = new float[n], adv = new float[n];
        for (int t = 0; t < n; t++) {
            logp[t] = rnd.nextBoolean() ? -1000f : -0.5f;
            old[t] = logp[t] == -1000f ? -0.5f : -1000f;
            ref[t] = rnd.nextBoolean() ? -1000f : -0.1f;
            adv[t] = (float) rnd.nextGaussian();
        }
        PolicyLossConfig c = PolicyLossConfig.builder().rho(1f).maxMeanRatio(0f).build();
        TokenBatch x = new TokenBatch(null, logp, old, ref, adv, null);
        float[] expected = new float[n], actual = new float[n];
        PolicyLossStats e = PolicyLossReference.tokens(c, x, expected);
        PolicyLossStats a = cpu.tokens(c, x, actual);
        assertTrue(Double.isFinite(a.loss()));
        for (float g : actual) assertTrue(Float.isFinite(g));
        assertStatsClose("±1000 log-ratios", e, a);
        assertAllClose("grad", expected, actual, 1e-6, 1e-4);
    }
}
