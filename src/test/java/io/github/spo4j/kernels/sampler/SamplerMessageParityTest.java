package io.github.spo4j.kernels.sampler;

import static io.github.spo4j.testutil.MessageParity.assertSameMessage;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.nativebind.Spo4jNative;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The sampler's Java checks and {@code spo4j_sampler_sample}'s give the same message for the same bad input: the
 * config, the sizes, dtype and pointers, and a logit that is not finite or overflows when divided by T.
 */
class SamplerMessageParityTest {
    private static final int CPU = Spo4jNative.SPO4J_DEVICE_CPU;
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;

    private final Sampler cpu = Sampler.create(Backend.CPU);
    private PointerScope scope;

    @BeforeEach
    void open() {
        scope = new PointerScope();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    /** A config with one bad field, and the same values as the C entry takes them. */
    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of("temperature 0", 0f, 0, 1f),
                Arguments.of("temperature -1", -1f, 0, 1f),
                Arguments.of("temperature NaN", NAN, 0, 1f),
                Arguments.of("temperature inf", INF, 0, 1f),
                Arguments.of("topK -1", 1f, -1, 1f),
                Arguments.of("topP 0", 1f, 0, 0f),
                Arguments.of("topP 1.01", 1f, 0, 1.01f),
                Arguments.of("topP NaN", 1f, 0, NAN),
                Arguments.of("topP -0.5", 1f, 0, -0.5f));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void config(String name, float temperature, int topK, float topP) {
        Supplier<SamplerConfig> make = () -> new SamplerConfig(temperature, topK, topP, false, 1L);
        assertSameMessage(
                make::get,
                () -> Spo4jNative.spo4j_sampler_sample(
                        CPU,
                        1,
                        3,
                        new FloatPointer(3),
                        DType.F32.code,
                        new LongPointer(1),
                        new IntPointer(1),
                        temperature,
                        topK,
                        topP,
                        0,
                        1L,
                        new IntPointer(1),
                        null,
                        null));
    }

    @Test
    void sizesTypesAndPointers() {
        FloatPointer logits = new FloatPointer(6);
        LongPointer ids = new LongPointer(2);
        IntPointer positions = new IntPointer(2), tokens = new IntPointer(2);
        call(-1, 3, logits, DType.F32, ids, positions, tokens);
        call(2, 0, logits, DType.F32, ids, positions, tokens);
        call(2, 1 << 19, logits, DType.F32, ids, positions, tokens);
        call(Long.MAX_VALUE / 2, 3, logits, DType.F32, ids, positions, tokens);
        call(2, 3, logits, DType.I64, ids, positions, tokens);
        call(2, 3, null, DType.F32, ids, positions, tokens);
        call(2, 3, logits, DType.F32, null, positions, tokens);
        call(2, 3, logits, DType.F32, ids, null, tokens);
        call(2, 3, logits, DType.F32, ids, positions, null);
    }

    private void call(
            long b, long vocab, Pointer logits, DType dtype, LongPointer ids, IntPointer positions, IntPointer tokens) {
        SamplerConfig config = SamplerConfig.of(1);
        assertSameMessage(
                () -> cpu.sample(config, b, vocab, logits, dtype, ids, positions, tokens, null),
                () -> Spo4jNative.spo4j_sampler_sample(
                        CPU, b, vocab, logits, dtype.code, ids, positions, 1f, 0, 1f, 0, 1L, tokens, null, null));
    }

    @Test
    void logitValues() {
        logits(new float[] {0, 1, 2, 3, NAN, 5}, 1f);
        logits(new float[] {0, Float.NEGATIVE_INFINITY, 2, 3, 4, 5}, 1f);
        logits(new float[] {0, 1, 1e10f, 3, 4, 5}, 1e-30f);
    }

    private void logits(float[] logits, float temperature) {
        SamplerConfig config = SamplerConfig.of(1).withTemperature(temperature);
        long[] ids = {3, 4};
        int[] positions = {0, 1};
        assertSameMessage(
                () -> cpu.sample(config, logits, 3, ids, positions),
                () -> Spo4jNative.spo4j_sampler_sample(
                        CPU,
                        2,
                        3,
                        new FloatPointer(logits),
                        DType.F32.code,
                        new LongPointer(ids),
                        new IntPointer(positions),
                        temperature,
                        0,
                        1f,
                        0,
                        1L,
                        new IntPointer(2),
                        null,
                        null));
    }
}
