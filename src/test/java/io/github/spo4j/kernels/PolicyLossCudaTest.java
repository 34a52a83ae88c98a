package io.github.spo4j.kernels;

import static io.github.spo4j.kernels.PolicyLossAssertions.assertStatsClose;
import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
        return PolicyLossConfigs.all().stream().flatMap(c -> Stream.of(0, 1, 99, 111, 4099, 70001)
                .map(n -> Arguments.of(c, n)));
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
        return PolicyLossConfigs.few().stream().flatMap(c -> Stream.of(new int[] {0, 7}, new int[] {1, 1},
                new int[] {99, 111}, new int[] {111, 1000}, new int[] {13, 4099}, new int[] {3, 151_936})
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
        // Java checks these arrays first; the device-side checks are exercised by spo4j_cuda_check.
        assertThrows(IllegalArgumentException.class, () -> cuda.logits(PolicyLossConfig.spo(), new LogitsBatch(
                l.seqOffsets(), l.logits(), 17, targets, 0.6f, l.oldLogp(), l.refLogp(), l.advantages(), null), null,
                null, null));
        x.logp()[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> cuda.tokens(PolicyLossConfig.spo(), x, null));
    }
}
