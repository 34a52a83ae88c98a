package io.github.spo4j.kernels.loss;

import static io.github.spo4j.testutil.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Stats comparison between two implementations (float kernels vs the double reference). */
final class PolicyLossAssertions {
    private PolicyLossAssertions() {}

    static void assertStatsClose(String what, PolicyLossStats expected, PolicyLossStats actual) {
        assertEquals(expected.keptTokens(), actual.keptTokens(), what + ": kept tokens");
        assertEquals(expected.skipped(), actual.skipped(), what + ": skipped");
        double scale = Math.max(1e-3, Math.abs(expected.pgLoss()) + Math.abs(expected.klLoss()));
        assertClose(what + ": loss", expected.loss(), actual.loss(), 2e-6 * scale, 2e-5);
        assertClose(what + ": pg loss", expected.pgLoss(), actual.pgLoss(), 2e-6 * scale, 2e-5);
        assertClose(what + ": kl loss", expected.klLoss(), actual.klLoss(), 2e-6, 2e-5);
        assertClose(what + ": clip low", expected.clipFracLow(), actual.clipFracLow(), 1e-12, 0);
        assertClose(what + ": clip high", expected.clipFracHigh(), actual.clipFracHigh(), 1e-12, 0);
        assertClose(what + ": dual clip", expected.dualClipFrac(), actual.dualClipFrac(), 1e-12, 0);
        assertClose(what + ": mean ratio", expected.meanRatio(), actual.meanRatio(), 1e-6, 1e-5);
        assertClose(what + ": approx kl", expected.approxKlOld(), actual.approxKlOld(), 1e-6, 1e-4);
        assertClose(what + ": kl ref", expected.klRef(), actual.klRef(), 1e-6, 1e-4);
        // Kernels sum advantages in float lanes flushed into double per 1024 tokens: ~1e-7 relative.
        assertClose(what + ": adv mean", expected.advMean(), actual.advMean(), 1e-7, 1e-6);
        assertClose(what + ": adv std", expected.advStd(), actual.advStd(), 1e-7, 1e-6);
        assertClose(what + ": entropy", expected.entropyMean(), actual.entropyMean(), 1e-5, 1e-5);
    }
}
