package io.github.spo4j.kernels.sampler;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU kernel against the reference: the same token in every row and the log-prob within 1e-6, on odd
 * shapes (B = 1, 99, 111; V = 1, 2, 111, 50,000) in every mode, over arrays, host pointers and bf16 logits;
 * the same tokens for any thread count.
 */
class SamplerKernelTest {
    private final Sampler cpu = Sampler.create(Backend.CPU);

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (int b : new int[] {1, 99, 111}) {
            for (int v : new int[] {1, 2, 111, 50_000}) out.add(Arguments.of(b, v));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "B={0} V={1}")
    @MethodSource("shapes")
    void cpuDrawsTheReferenceTokens(int b, int v) {
        long seed = 1000L * b + v;
        float[] logits = SamplerData.logits(b, v, seed);
        long[] ids = SamplerData.seqIds(b, seed);
        int[] pos = SamplerData.positions(b, seed);
        for (SamplerConfig c : SamplerData.configs(seed)) {
            SampleResult expected = SamplerReference.sample(c, logits, v, ids, pos);
            assertSame(c + " B=" + b + " V=" + v, expected, cpu.sample(c, logits, v, ids, pos));
        }
    }

    @Test
    void emptyBatch() {
        SampleResult r = cpu.sample(SamplerConfig.of(1), new float[0], 7, new long[0], new int[0]);
        assertEquals(0, r.tokens().length);
        assertEquals(0, r.logprobs().length);
    }

    @Test
    void pointerEntryWithBf16LogitsMatchesTheReferenceOnRoundedLogits() {
        int b = 37, v = 3001;
        float[] logits = SamplerData.logits(b, v, 5);
        short[] raw = new short[logits.length];
        float[] rounded = new float[logits.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = Bf16.fromFloat(logits[i]);
            rounded[i] = Bf16.toFloat(raw[i]);
        }
        long[] ids = SamplerData.seqIds(b, 5);
        int[] pos = SamplerData.positions(b, 5);
        for (SamplerConfig c : SamplerData.configs(6)) {
            SampleResult expected = SamplerReference.sample(c, rounded, v, ids, pos);
            for (Backend backend : new Backend[] {Backend.CPU, Backend.REFERENCE}) {
                try (PointerScope scope = new PointerScope()) {
                    IntPointer tokens = new IntPointer(b);
                    FloatPointer lp = new FloatPointer(b);
                    Sampler.create(backend)
                            .sample(
                                    c,
                                    b,
                                    v,
                                    new ShortPointer(raw),
                                    DType.BF16,
                                    new LongPointer(ids),
                                    new IntPointer(pos),
                                    tokens,
                                    lp);
                    int[] t = new int[b];
                    float[] l = new float[b];
                    tokens.get(t);
                    lp.get(l);
                    assertSame(backend + " " + c, expected, new SampleResult(t, l));
                }
            }
        }
    }

    @Test
    void tokensDoNotDependOnTheThreadCount() {
        int b = 111, v = 50_000;
        float[] logits = SamplerData.logits(b, v, 8);
        long[] ids = SamplerData.seqIds(b, 8);
        int[] pos = SamplerData.positions(b, 8);
        SamplerConfig c = SamplerConfig.of(3).withTopP(0.9f).withTemperature(0.9f);
        int threads = Spo4jNative.spo4j_get_num_threads();
        try {
            Spo4jNative.spo4j_set_num_threads(1);
            SampleResult one = cpu.sample(c, logits, v, ids, pos);
            Spo4jNative.spo4j_set_num_threads(3);
            SampleResult three = cpu.sample(c, logits, v, ids, pos);
            assertArrayEquals(one.tokens(), three.tokens());
            assertArrayEquals(one.logprobs(), three.logprobs());
        } finally {
            Spo4jNative.spo4j_set_num_threads(threads);
        }
    }

    @Test
    void largeKeptSetsFindTheSameThreshold() {
        // Flat-ish rows where top-p keeps thousands of tokens: the growing-prefix selection runs many rounds.
        int b = 12, v = 20_000;
        float[] logits = new float[b * v];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) Math.sin(i * 0.37) * 0.3f;
        long[] ids = SamplerData.seqIds(b, 9);
        int[] pos = SamplerData.positions(b, 9);
        for (float p : new float[] {0.5f, 0.99f, 0.999999f}) {
            for (int k : new int[] {0, 7000}) {
                SamplerConfig c = SamplerConfig.of(11).withTopP(p).withTopK(k);
                assertSame(
                        c.toString(),
                        SamplerReference.sample(c, logits, v, ids, pos),
                        cpu.sample(c, logits, v, ids, pos));
            }
        }
    }

    @Test
    void topKBeyondTheTokensOfNonzeroMass() {
        // 11 live tokens of 111 (the rest at -1e30, mass 0): k = 40 cuts nothing, k = 5 cuts among the live.
        int b = 50, v = 111;
        float[] logits = new float[b * v];
        for (int i = 0; i < logits.length; i++) logits[i] = i % v % 10 == 3 ? (float) Math.cos(i) : -1e30f;
        long[] ids = SamplerData.seqIds(b, 1);
        int[] pos = SamplerData.positions(b, 1);
        for (SamplerConfig c : new SamplerConfig[] {
            SamplerConfig.of(2).withTopK(40),
            SamplerConfig.of(2).withTopK(40).withTopP(0.7f),
            SamplerConfig.of(2).withTopK(5).withTopP(0.9f)
        }) {
            SampleResult expected = SamplerReference.sample(c, logits, v, ids, pos);
            for (int t : expected.tokens()) assertEquals(3, t % 10, c + " drew a zero-mass token");
            assertSame(c.toString(), expected, cpu.sample(c, logits, v, ids, pos));
        }
    }

    static void assertSame(String what, SampleResult expected, SampleResult actual) {
        assertArrayEquals(expected.tokens(), actual.tokens(), what + " tokens");
        assertAllClose(what + " logprobs", expected.logprobs(), actual.logprobs(), 1e-6, 0);
    }
}
