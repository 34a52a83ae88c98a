package io.github.spo4j.kernels.sampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.NativeLibrary;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input gives IllegalArgumentException naming the argument, never a crash: configs, arrays (checked in
 * Java), host pointers (checked by the native code, with nothing written) and the C entry itself.
 */
class SamplerBadInputTest {
    private static final float NAN = Float.NaN;

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTemperature(0f), "temperature"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTemperature(-1f), "temperature"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTemperature(NAN), "temperature"),
                Arguments.of(
                        (Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTemperature(Float.POSITIVE_INFINITY),
                        "temperature"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTopK(-1), "topK"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTopP(0f), "topP"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTopP(1.01f), "topP"),
                Arguments.of((Supplier<SamplerConfig>) () -> SamplerConfig.of(1).withTopP(NAN), "topP"),
                Arguments.of(
                        (Supplier<SamplerConfig>)
                                () -> SamplerConfig.builder().topP(-0.5f).build(),
                        "topP"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badConfigs")
    void badConfigsAreNamed(Supplier<SamplerConfig> make, String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().startsWith(name), e.getMessage());
    }

    static Stream<Arguments> badArrays() {
        float[] ok = {0, 1, 2, 3, 4, 5};
        long[] ids = {1, 2};
        int[] pos = {0, 0};
        return Stream.of(
                Arguments.of("null logits", null, 3, ids, pos, "logits must not be null"),
                Arguments.of("null seqIds", ok, 3, null, pos, "seqIds must not be null"),
                Arguments.of("null positions", ok, 3, ids, null, "positions must not be null"),
                Arguments.of("V = 0", new float[0], 0, ids, pos, "vocab must be in [1, 2^19 - 1"),
                Arguments.of("V = 2^19", ok, 1 << 19, ids, pos, "vocab must be in [1, 2^19 - 1"),
                Arguments.of("positions length", ok, 3, ids, new int[] {0}, "positions has length 1, expected 2"),
                Arguments.of("logits length", ok, 2, ids, pos, "logits (B × V, B = seqIds.length = 2) has length 6"),
                Arguments.of(
                        "NaN logit",
                        new float[] {0, 1, 2, 3, NAN, 5},
                        3,
                        ids,
                        pos,
                        "logits[1, 1] = NaN is not finite (row 1, column 1)"),
                Arguments.of(
                        "infinite logit",
                        new float[] {0, Float.NEGATIVE_INFINITY, 2, 3, 4, 5},
                        3,
                        ids,
                        pos,
                        "logits[0, 1] = -Infinity is not finite (row 0, column 1)"));
    }

    @ParameterizedTest(name = "{0} {6}")
    @MethodSource("cases")
    void badArraysAreNamed(
            String what, float[] logits, int vocab, long[] ids, int[] pos, String message, Backend backend) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Sampler.create(backend).sample(SamplerConfig.of(1), logits, vocab, ids, pos));
        assertTrue(e.getMessage().startsWith(message), e.getMessage());
    }

    static Stream<Arguments> cases() {
        return badArrays()
                .flatMap(a -> Stream.of(Backend.REFERENCE, Backend.CPU).map(b -> {
                    Object[] x = a.get();
                    return Arguments.of(x[0], x[1], x[2], x[3], x[4], x[5], b);
                }));
    }

    @ParameterizedTest
    @EnumSource(
            value = Backend.class,
            names = {"REFERENCE", "CPU"})
    void nullConfigIsNamed(Backend backend) {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Sampler.create(backend).sample(null, new float[] {1}, 1, new long[] {1}, new int[] {1}));
        assertEquals("config must not be null", e.getMessage());
    }

    @Test
    void overflowOfLogitOverTemperatureIsNamed() {
        SamplerConfig c = SamplerConfig.of(1).withTemperature(1e-3f);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Sampler.create(Backend.CPU).sample(c, new float[] {1, 3e37f}, 2, new long[] {1}, new int[] {1}));
        assertTrue(
                e.getMessage().startsWith("logits[0, 1] = 3.0E37 overflows float when divided by temperature"),
                e.getMessage());
    }

    /** Host pointers skip the Java value checks: the native check pass names the same row and column. */
    @Test
    void nonFiniteLogitsThroughPointersAreRejectedAndNothingIsWritten() {
        int b = 4, v = 5;
        float[] logits = SamplerData.logits(b, v, 3);
        logits[2 * v + 3] = NAN;
        logits[3 * v + 1] = Float.POSITIVE_INFINITY; // a later row: the lowest bad row is reported
        try (PointerScope scope = new PointerScope()) {
            IntPointer tokens = new IntPointer(new int[] {-7, -7, -7, -7});
            FloatPointer lp = new FloatPointer(new float[] {-7, -7, -7, -7});
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> Sampler.create(Backend.CPU)
                            .sample(
                                    SamplerConfig.of(1),
                                    b,
                                    v,
                                    new FloatPointer(logits),
                                    DType.F32,
                                    new LongPointer(new long[b]),
                                    new IntPointer(new int[b]),
                                    tokens,
                                    lp));
            assertEquals("logits[2, 3] = nan is not finite (row 2, column 3)", e.getMessage());
            int[] t = new int[b];
            float[] l = new float[b];
            tokens.get(t);
            lp.get(l);
            assertArrayEquals(new int[] {-7, -7, -7, -7}, t, "tokens written on a rejected call");
            assertArrayEquals(new float[] {-7, -7, -7, -7}, l, "logprobs written on a rejected call");
        }
    }

    @Test
    void nonFiniteBf16LogitIsRejected() {
        short[] raw = {Bf16.fromFloat(1f), Bf16.fromFloat(Float.NEGATIVE_INFINITY)};
        try (PointerScope scope = new PointerScope()) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> Sampler.create(Backend.CPU)
                            .sample(
                                    SamplerConfig.of(1),
                                    1,
                                    2,
                                    new ShortPointer(raw),
                                    DType.BF16,
                                    new LongPointer(1),
                                    new IntPointer(1),
                                    new IntPointer(1),
                                    null));
            assertEquals("logits[0, 1] = -inf is not finite (row 0, column 1)", e.getMessage());
        }
    }

    static Stream<Arguments> badPointerCalls() {
        SamplerConfig c = SamplerConfig.of(1);
        return Stream.of(
                Arguments.of(
                        "numRows",
                        (PointerCall) s -> s.sample(
                                c,
                                -1,
                                3,
                                new FloatPointer(3),
                                DType.F32,
                                new LongPointer(1),
                                new IntPointer(1),
                                new IntPointer(1),
                                null),
                        "numRows must be >= 0"),
                Arguments.of(
                        "vocab 0",
                        (PointerCall) s -> s.sample(
                                c,
                                1,
                                0,
                                new FloatPointer(3),
                                DType.F32,
                                new LongPointer(1),
                                new IntPointer(1),
                                new IntPointer(1),
                                null),
                        "vocab must be in [1"),
                Arguments.of(
                        "dtype",
                        (PointerCall) s -> s.sample(
                                c,
                                1,
                                3,
                                new FloatPointer(3),
                                DType.I32,
                                new LongPointer(1),
                                new IntPointer(1),
                                new IntPointer(1),
                                null),
                        "logitsDtype must be F32 or BF16"),
                Arguments.of(
                        "null logits",
                        (PointerCall) s -> s.sample(
                                c,
                                1,
                                3,
                                null,
                                DType.F32,
                                new LongPointer(1),
                                new IntPointer(1),
                                new IntPointer(1),
                                null),
                        "logits must not be null"),
                Arguments.of(
                        "null tokens",
                        (PointerCall) s -> s.sample(
                                c,
                                1,
                                3,
                                new FloatPointer(3),
                                DType.F32,
                                new LongPointer(1),
                                new IntPointer(1),
                                null,
                                null),
                        "tokens must not be null"),
                Arguments.of(
                        "short logits",
                        (PointerCall) s -> s.sample(
                                c,
                                2,
                                3,
                                new FloatPointer(5),
                                DType.F32,
                                new LongPointer(2),
                                new IntPointer(2),
                                new IntPointer(2),
                                null),
                        "logits holds 5 elements, expected 6"),
                Arguments.of(
                        "short seqIds",
                        (PointerCall) s -> s.sample(
                                c,
                                2,
                                3,
                                new FloatPointer(6),
                                DType.F32,
                                new LongPointer(1),
                                new IntPointer(2),
                                new IntPointer(2),
                                null),
                        "seqIds holds 1 elements, expected 2"),
                Arguments.of(
                        "short logprobs",
                        (PointerCall) s -> s.sample(
                                c,
                                2,
                                3,
                                new FloatPointer(6),
                                DType.F32,
                                new LongPointer(2),
                                new IntPointer(2),
                                new IntPointer(2),
                                new FloatPointer(1)),
                        "logprobs holds 1 elements, expected 2"));
    }

    interface PointerCall {
        void call(Sampler s);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPointerCalls")
    void badPointerArgumentsAreNamed(String what, PointerCall call, String message) {
        for (Backend backend : new Backend[] {Backend.REFERENCE, Backend.CPU}) {
            try (PointerScope scope = new PointerScope()) {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> call.call(Sampler.create(backend)));
                assertTrue(e.getMessage().startsWith(message), backend + ": " + e.getMessage());
            }
        }
    }

    /** The C entry re-checks what Java checks, for callers that bypass the facade. */
    @Test
    void theCEntryRejectsBadArgumentsWithoutCrashing() {
        try (PointerScope scope = new PointerScope()) {
            FloatPointer logits = new FloatPointer(6);
            LongPointer ids = new LongPointer(2);
            IntPointer pos = new IntPointer(2), tok = new IntPointer(2);
            expect("vocab must be in [1, 2^19 - 1", () -> call(2, 0, logits, 0, ids, pos, 1f, 0, 1f, 0, tok));
            expect("vocab must be in [1, 2^19 - 1", () -> call(2, 1 << 19, logits, 0, ids, pos, 1f, 0, 1f, 0, tok));
            expect("numRows must be >= 0", () -> call(-1, 3, logits, 0, ids, pos, 1f, 0, 1f, 0, tok));
            expect(
                    "logitsDtype must be F32 or BF16, got I32",
                    () -> call(2, 3, logits, 2, ids, pos, 1f, 0, 1f, 0, tok));
            expect("temperature must be finite and > 0", () -> call(2, 3, logits, 0, ids, pos, 0f, 0, 1f, 0, tok));
            expect("temperature must be finite and > 0", () -> call(2, 3, logits, 0, ids, pos, NAN, 0, 1f, 0, tok));
            expect("topK must be >= 0", () -> call(2, 3, logits, 0, ids, pos, 1f, -2, 1f, 0, tok));
            expect("topP must be in (0, 1]", () -> call(2, 3, logits, 0, ids, pos, 1f, 0, 0f, 0, tok));
            expect("topP must be in (0, 1]", () -> call(2, 3, logits, 0, ids, pos, 1f, 0, NAN, 0, tok));
            expect("greedy must be 0 or 1", () -> call(2, 3, logits, 0, ids, pos, 1f, 0, 1f, 2, tok));
            expect("logits must not be null", () -> call(2, 3, null, 0, ids, pos, 1f, 0, 1f, 0, tok));
            expect("seqIds must not be null", () -> call(2, 3, logits, 0, null, pos, 1f, 0, 1f, 0, tok));
            expect("positions must not be null", () -> call(2, 3, logits, 0, ids, null, 1f, 0, 1f, 0, tok));
            expect("tokens must not be null", () -> call(2, 3, logits, 0, ids, pos, 1f, 0, 1f, 0, null));
            expect("B x V overflows", () -> call(Long.MAX_VALUE / 2, 3, logits, 0, ids, pos, 1f, 0, 1f, 0, tok));
        }
    }

    private static void call(
            long b,
            long v,
            FloatPointer logits,
            int dtype,
            LongPointer ids,
            IntPointer pos,
            float t,
            int k,
            float p,
            int greedy,
            IntPointer tok) {
        NativeLibrary.check(Spo4jNative.spo4j_sampler_sample(
                Spo4jNative.SPO4J_DEVICE_CPU, b, v, logits, dtype, ids, pos, t, k, p, greedy, 0L, tok, null, null));
    }

    private static void expect(String prefix, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
    }
}
