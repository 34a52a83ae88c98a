package io.github.spo4j.kernels.loss;

import static io.github.spo4j.kernels.loss.PolicyLossAssertions.assertStatsClose;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.Bf16;
import io.github.spo4j.kernels.DType;
import io.github.spo4j.kernels.engine.DeviceMemory;
import io.github.spo4j.kernels.engine.NativeArrays;
import io.github.spo4j.testutil.GpuRequirements;
import io.github.spo4j.testutil.PolicyLossData;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The CUDA kernels against the reference and the CPU kernels; skipped without a CUDA device. */
@Tag("gpu")
class PolicyLossCudaTest {
    private PolicyLoss cuda;

    @BeforeEach
    void requireCuda() {
        GpuRequirements.assumeCuda();
        cuda = PolicyLoss.create(Backend.CUDA);
    }

    static Stream<Arguments> tokenCases() {
        return PolicyLossConfigs.all().stream()
                .flatMap(c -> Stream.of(0, 1, 99, 111, 4099, 70001).map(n -> Arguments.of(c, n)));
    }

    @ParameterizedTest(name = "[{index}] n={1} {0}")
    @MethodSource("tokenCases")
    void tokensMatchReference(PolicyLossConfigs.Case c, int n) {
        TokenBatch x = PolicyLossData.tokens(n, 1000L + n, c.withRef(), true);
        float[] expected = new float[n], actual = new float[n];
        PolicyLossStats e = PolicyLossReference.tokens(c.config(), x, expected);
        PolicyLossStats a = cuda.tokens(c.config(), x, actual);
        assertStatsClose(c.name(), e, a);
        assertAllClose(c.name() + " grad", expected, actual, 1e-5 * maxAbs(expected, 1e-6), 1e-4);
    }

    static Stream<Arguments> logitsCases() {
        return PolicyLossConfigs.few().stream()
                .flatMap(c -> Stream.of(
                                new int[] {0, 7},
                                new int[] {1, 1},
                                new int[] {99, 111},
                                new int[] {111, 1000},
                                new int[] {13, 4099},
                                new int[] {3, 151_936})
                        .map(nv -> Arguments.of(c, nv[0], nv[1])));
    }

    @ParameterizedTest(name = "[{index}] n={1} V={2} {0}")
    @MethodSource("logitsCases")
    void logitsMatchCpu(PolicyLossConfigs.Case c, int n, int v) {
        LogitsBatch x = PolicyLossData.logits(n, v, 0.6f, 31L * n + v, c.withRef());
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        float[] eg = new float[n * v], ag = new float[n * v];
        float[] elp = new float[n], alp = new float[n], eh = new float[n], ah = new float[n];
        PolicyLossStats e = cpu.logits(c.config(), x, eg, elp, eh);
        PolicyLossStats a = cuda.logits(c.config(), x, ag, alp, ah);
        assertStatsClose(c.name(), e, a);
        assertAllClose("logp", elp, alp, 2e-5, 1e-5);
        assertAllClose("entropy", eh, ah, 2e-5, 1e-5);
        assertAllClose("grad logits", eg, ag, 1e-5 * maxAbs(eg, 1e-3), 1e-4);
    }

    @Test
    void deterministicAcrossRuns() {
        int n = 1 << 20;
        TokenBatch x = PolicyLossData.tokens(n, 5, true, true);
        float[] g1 = new float[n], g2 = new float[n];
        PolicyLossStats s1 = cuda.tokens(PolicyLossConfig.spo(), x, g1);
        PolicyLossStats s2 = cuda.tokens(PolicyLossConfig.spo(), x, g2);
        assertEquals(s1, s2);
        assertArrayEquals(g1, g2);
    }

    @Test
    void badValuesAreRejectedOnTheDevice() {
        TokenBatch x = PolicyLossData.tokens(99, 5, true, false);
        LogitsBatch l = PolicyLossData.logits(9, 17, 0.6f, 2, true);
        int[] targets = l.targets().clone();
        targets[8] = 17;
        // Java checks these arrays first; the device-side checks are exercised by spo4j_check_policy_loss.
        assertThrows(
                IllegalArgumentException.class,
                () -> cuda.logits(
                        PolicyLossConfig.spo(),
                        new LogitsBatch(
                                l.seqOffsets(),
                                l.logits(),
                                17,
                                targets,
                                0.6f,
                                l.oldLogp(),
                                l.refLogp(),
                                l.advantages(),
                                null),
                        null,
                        null,
                        null));
        x.logp()[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> cuda.tokens(PolicyLossConfig.spo(), x, null));
    }

    // ---- tokenLogprobsBackward --------------------------------------------------------------------

    static Stream<Arguments> backwardShapes() {
        return Stream.of(0, 1, 99, 111)
                .flatMap(n -> Stream.of(1, 3, 99, 2049, 5000, 151_936)
                        .filter(v -> (long) n * v <= 2_000_000L)
                        .map(v -> Arguments.of(n, v)));
    }

    /** Host arrays (staged to the device), against the CPU kernel, out of place and in place. */
    @ParameterizedTest(name = "[{index}] n={0} V={1}")
    @MethodSource("backwardShapes")
    void tokenLogprobsBackwardMatchesCpu(int n, int v) {
        PolicyLossTokenLogprobsTest.Data d = PolicyLossTokenLogprobsTest.Data.of(n, v, 7L * n + v);
        PolicyLoss cpu = PolicyLoss.create(Backend.CPU);
        for (float temperature : new float[] {0.7f, 1f, 1.3f}) {
            float[] expected = new float[n * v], actual = new float[n * v];
            cpu.tokenLogprobsBackward(d.logits(), v, d.targets(), temperature, d.gradLogp(), expected);
            cuda.tokenLogprobsBackward(d.logits(), v, d.targets(), temperature, d.gradLogp(), actual);
            assertAllClose(
                    "grad logits T=" + temperature,
                    expected,
                    actual,
                    1e-5 * maxAbs(d.gradLogp(), 1e-6) / temperature,
                    2e-4);
            float[] inPlace = d.logits().clone();
            cuda.tokenLogprobsBackward(inPlace, v, d.targets(), temperature, d.gradLogp(), inPlace);
            assertArrayEquals(actual, inPlace, "in place must equal out of place");
        }
    }

    /** Device pointers: bf16 logits overwritten in place, int64 targets; a rejected call leaves them intact. */
    @Test
    void tokenLogprobsBackwardBf16InPlaceOnTheDevice() {
        int n = 111, v = 4099;
        PolicyLossTokenLogprobsTest.Data d =
                PolicyLossTokenLogprobsTest.Data.of(n, v, 5).bf16();
        short[] raw = new short[n * v];
        for (int i = 0; i < raw.length; i++) raw[i] = Bf16.fromFloat(d.logits()[i]);
        long[] targets = java.util.Arrays.stream(d.targets()).asLongStream().toArray();
        float[] nanGrad = d.gradLogp().clone();
        nanGrad[n - 1] = Float.NaN;
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
                DeviceMemory logits = DeviceMemory.copyOf(new org.bytedeco.javacpp.ShortPointer(raw), 2L * raw.length);
                DeviceMemory tg = DeviceMemory.copyOf(new org.bytedeco.javacpp.LongPointer(targets), 8L * n);
                DeviceMemory glp = DeviceMemory.copyOf(new org.bytedeco.javacpp.FloatPointer(d.gradLogp()), 4L * n);
                DeviceMemory bad = DeviceMemory.copyOf(new org.bytedeco.javacpp.FloatPointer(nanGrad), 4L * n)) {
            org.bytedeco.javacpp.ShortPointer host = new org.bytedeco.javacpp.ShortPointer(raw.length);
            assertThrows(
                    IllegalArgumentException.class,
                    () -> cuda.tokenLogprobsBackward(
                            n,
                            v,
                            logits.pointer(),
                            DType.BF16,
                            tg.pointer(),
                            DType.I64,
                            0.7f,
                            NativeArrays.cast(bad.pointer(), org.bytedeco.javacpp.FloatPointer.class),
                            logits.pointer()));
            logits.copyTo(host);
            short[] after = new short[raw.length];
            host.get(after);
            assertArrayEquals(raw, after, "in-place logits must survive a rejected call");

            cuda.tokenLogprobsBackward(
                    n,
                    v,
                    logits.pointer(),
                    DType.BF16,
                    tg.pointer(),
                    DType.I64,
                    0.7f,
                    NativeArrays.cast(glp.pointer(), org.bytedeco.javacpp.FloatPointer.class),
                    logits.pointer());
            logits.copyTo(host);
            host.get(after);
            org.bytedeco.javacpp.ShortPointer onCpu = new org.bytedeco.javacpp.ShortPointer(raw);
            PolicyLoss.create(Backend.CPU)
                    .tokenLogprobsBackward(
                            n,
                            v,
                            onCpu,
                            DType.BF16,
                            new org.bytedeco.javacpp.LongPointer(targets),
                            DType.I64,
                            0.7f,
                            new org.bytedeco.javacpp.FloatPointer(d.gradLogp()),
                            onCpu);
            short[] cpuRaw = new short[raw.length];
            onCpu.get(cpuRaw);
            float[] expected = new float[raw.length], actual = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                expected[i] = Bf16.toFloat(cpuRaw[i]);
                actual[i] = Bf16.toFloat(after[i]);
            }
            assertAllClose("bf16 grad", expected, actual, 1e-3 * maxAbs(expected, 1e-6), 1e-2);
        }
    }
}
