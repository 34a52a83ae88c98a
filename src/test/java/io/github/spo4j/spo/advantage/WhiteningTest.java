package io.github.spo4j.spo.advantage;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.loss.AdvantageWhitening;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossReference;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.loss.ProbabilityMask;
import io.github.spo4j.kernels.loss.TokenBatch;
import io.github.spo4j.spo.data.TreeEdge;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The probability mask and the whitening (SPO_SPEC §4), hand-computed, and their agreement with the loss. */
class WhiteningTest {
    private static final float LN_HALF = (float) Math.log(0.5);

    private static float ln(double p) {
        return (float) Math.log(p);
    }

    @Test
    void whiteningUsesBesselStatisticsOfKeptTokensAndAppliesToEveryToken() {
        // Kept: p = 0.5, 0.5 (advantages 1, 3): μ = 2, σ² = 2. The p = 0.99 token is masked but still whitened.
        Whitening.Result r =
                Whitening.microBatch(new float[] {1, 3, 100}, new float[] {LN_HALF, LN_HALF, ln(0.99)}, null, 0.9f);
        double s = Math.sqrt(2 + 1e-8);
        assertAllClose(
                "Â", new float[] {(float) (-1 / s), (float) (1 / s), (float) (98 / s)}, r.advantages(), 1e-6, 1e-6);
        assertArrayEquals(new boolean[] {true, true, false}, r.kept());
        assertEquals(2, r.mean(), 1e-12);
        assertEquals(Math.sqrt(2), r.std(), 1e-12);
        assertEquals(2, r.statsTokens());
        assertFalse(r.usedFallback());
    }

    @Test
    void withNoKeptTokenTheStatisticsFallBackToTheResponseMask() {
        // Every response token has p = 0.95 > ρ: statistics over the response tokens 1, 2, 3: μ = 2, σ² = 1. The
        // fourth token is not a response token: left out of the statistics, whitened all the same.
        float[] old = {ln(0.95), ln(0.95), ln(0.95), ln(0.2)};
        boolean[] response = {true, true, true, false};
        Whitening.Result r = Whitening.microBatch(new float[] {1, 2, 3, 7}, old, response, 0.9f);
        double s = Math.sqrt(1 + 1e-8);
        assertAllClose(
                "Â", new float[] {(float) (-1 / s), 0f, (float) (1 / s), (float) (5 / s)}, r.advantages(), 1e-6, 1e-6);
        assertTrue(r.usedFallback());
        assertEquals(3, r.statsTokens());
        assertArrayEquals(new boolean[4], r.kept());
        assertEquals(2, r.mean(), 1e-12);
    }

    @Test
    void rhoOneKeepsEveryResponseTokenEvenAtProbabilityOne() {
        Whitening.Result r = Whitening.microBatch(new float[] {0, 4}, new float[] {0f, ln(0.999)}, null, 1f);
        assertArrayEquals(new boolean[] {true, true}, r.kept());
        double s = Math.sqrt(8 + 1e-8);
        assertAllClose("Â", new float[] {(float) (-2 / s), (float) (2 / s)}, r.advantages(), 1e-6, 1e-6);
    }

    @Test
    void aLoneKeptTokenWhitensToZero() {
        Whitening.Result r = Whitening.microBatch(new float[] {5, 9}, new float[] {LN_HALF, ln(0.95)}, null, 0.9f);
        assertEquals(0f, r.advantages()[0]);
        assertEquals(0, r.std());
        assertEquals(4 / Math.sqrt(1e-8), r.advantages()[1], 1);
    }

    /**
     * Strictness at the boundary. p = exp(oldLogp) can equal ρ exactly only at ρ = 1 (e^o is irrational for a
     * rational o ≠ 0, so it is never a float ρ), so the boundary is the pair of floats around ln ρ: the largest
     * float below ln ρ (p just under ρ) is kept, and the next float up (p >= ρ) is not. "p = ρ" as a caller
     * would write it, oldLogp = (float) ln ρ, lands on either side: for ρ = 0.8, 0.95 and 0.6 it rounds up
     * (p >= ρ, dropped), for 0.9 and 0.5 it rounds down (p < ρ, kept); a float comparison against
     * (float) ln ρ, or {@code <=}, would keep the former.
     */
    @Test
    void maskIsStrictAtRho() {
        int roundedUp = 0;
        for (float rho : new float[] {0.9f, 0.5f, 0.75f, 0.1f, 0.999f, 0.8f, 0.95f, 0.6f}) {
            float below = ProbabilityMask.logThreshold(rho);
            float atOrAbove = Math.nextUp(below);
            assertTrue(below < Math.log(rho) && atOrAbove >= Math.log(rho), "threshold brackets ln " + rho);
            assertTrue(ProbabilityMask.keeps(below, rho), "p just below " + rho);
            assertFalse(ProbabilityMask.keeps(atOrAbove, rho), "p at " + rho);
            assertTrue(Math.exp(below) < rho && Math.exp(atOrAbove) >= rho, "log-space test = probability-space test");
            assertArrayEquals(
                    new boolean[] {true, false, false},
                    ProbabilityMask.mask(new float[] {below, atOrAbove, 0f}, null, rho));
            float nearest = (float) Math.log(rho);
            boolean pBelowRho = Math.exp(nearest) < rho;
            assertEquals(pBelowRho, ProbabilityMask.keeps(nearest, rho), "oldLogp = (float) ln " + rho);
            if (!pBelowRho) roundedUp++;
        }
        assertEquals(3, roundedUp, "ρ = 0.8, 0.95, 0.6 put (float) ln ρ at or above ln ρ");
        assertTrue(ProbabilityMask.keeps(0f, 1f), "ρ = 1 keeps p = 1");
        assertEquals(Float.POSITIVE_INFINITY, ProbabilityMask.logThreshold(1f));
        assertArrayEquals(
                new boolean[] {false, true},
                ProbabilityMask.mask(new float[] {LN_HALF, LN_HALF}, new boolean[] {false, true}, 0.9f),
                "non-response tokens are never kept");
    }

    @Test
    void theLossKeepsTheTokensTheMaskKeepsAndWhitensWithTheSameStatistics() {
        // Tokens around the boundary and elsewhere; the reference loss and the native CPU kernel must keep the
        // same set and report the same μ, σ as the shared definitions.
        float rho = 0.9f;
        float below = ProbabilityMask.logThreshold(rho);
        Random rnd = new Random(3);
        int n = 64;
        float[] old = new float[n], adv = new float[n];
        boolean[] valid = new boolean[n];
        for (int t = 0; t < n; t++) {
            old[t] = switch (t % 4) {
                case 0 -> below;
                case 1 -> Math.nextUp(below);
                default -> ln(0.05 + 0.95 * rnd.nextDouble());
            };
            adv[t] = (float) rnd.nextGaussian();
            valid[t] = t % 7 != 0;
        }
        boolean[] kept = ProbabilityMask.mask(old, valid, rho);
        AdvantageWhitening.Moments m = AdvantageWhitening.moments(adv, kept);
        TokenBatch x = new TokenBatch(new int[] {0, 20, n}, old.clone(), old, null, adv, valid);
        PolicyLossConfig c = PolicyLossConfig.builder().rho(rho).beta(0f).build();
        PolicyLossStats ref = PolicyLossReference.tokens(c, x, null);
        assertEquals(ProbabilityMask.count(kept), ref.keptTokens());
        assertEquals(m.mean(), ref.advMean(), 0);
        assertEquals(m.std(), ref.advStd(), 0);
        assumeTrue(Backend.CPU.isAvailable(), "native CPU library not loaded");
        PolicyLossStats cpu = PolicyLoss.create(Backend.CPU).tokens(c, x, null);
        assertEquals(ProbabilityMask.count(kept), cpu.keptTokens());
        assertEquals(m.mean(), cpu.advMean(), 1e-6);
    }

    @Test
    void eachMicroBatchIsWhitenedOnItsOwn() {
        // Sequences [1, 3], [5], [0, 4] in micro-batches of two sequences: {1, 3, 5} (μ 3, σ² 4) and {0, 4}
        // (μ 2, σ² 8).
        float[] adv = {1, 3, 5, 0, 4};
        float[] old = new float[5];
        java.util.Arrays.fill(old, LN_HALF);
        float[] out = Whitening.perMicroBatch(new int[] {0, 2, 3, 5}, 2, adv, old, null, 0.9f, 1e-8f);
        double s1 = Math.sqrt(4 + 1e-8), s2 = Math.sqrt(8 + 1e-8);
        assertAllClose(
                "Â",
                new float[] {(float) (-2 / s1), 0f, (float) (2 / s1), (float) (-2 / s2), (float) (2 / s2)},
                out,
                1e-6,
                1e-6);
    }

    @Test
    void edgesAreWhitenedOverTheirResponseTokens() {
        // Edge advantages 1 (2 tokens) and −1 (1 token): tokens 1, 1, −1: μ = 1/3, σ² = 4/3.
        TreeEdge a = new TreeEdge(0, 0, new int[] {1}, new int[] {2, 3}, new float[] {LN_HALF, LN_HALF}, 1f);
        TreeEdge b = new TreeEdge(0, 0, new int[] {1}, new int[] {4}, new float[] {LN_HALF}, -1f);
        float[][] out = Whitening.edges(List.of(a, b), 0.9f);
        double s = Math.sqrt(4.0 / 3 + 1e-8);
        assertAllClose("edge a", new float[] {(float) (2.0 / 3 / s), (float) (2.0 / 3 / s)}, out[0], 1e-6, 1e-6);
        assertAllClose("edge b", new float[] {(float) (-4.0 / 3 / s)}, out[1], 1e-6, 1e-6);
        // Two one-token edges (SPO_SPEC §10.1: Qwen's micro-batch of 2) whiten to ±1/√2 whatever their raw values.
        TreeEdge c = new TreeEdge(0, 0, new int[] {1}, new int[] {5}, new float[] {LN_HALF}, 0.1f);
        TreeEdge d = new TreeEdge(0, 0, new int[] {1}, new int[] {6}, new float[] {LN_HALF}, 0.3f);
        float[][] pair = Whitening.edges(List.of(c, d), 0.9f);
        assertEquals(-Math.sqrt(0.5), pair[0][0], 1e-5);
        assertEquals(Math.sqrt(0.5), pair[1][0], 1e-5);
    }
}
