package io.github.spo4j.kernels.loss;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static io.github.spo4j.testutil.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.testutil.PolicyLossData;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The reference's math against hand-computed values and against finite differences. */
class PolicyLossReferenceTest {
    private static final float LN = 1f;

    /** No mask, no whitening, no KL, token mean: the plain clipped surrogate. */
    private static PolicyLossConfig.Builder plain() {
        return PolicyLossConfig.builder().rho(1f).whiten(false).beta(0f).maxMeanRatio(0f);
    }

    private static float ln(double x) {
        return (float) Math.log(x);
    }

    private static PolicyLossStats run(
            PolicyLossConfig c,
            int[] offs,
            float[] logp,
            float[] old,
            float[] ref,
            float[] adv,
            boolean[] valid,
            float[] grad) {
        return PolicyLossReference.tokens(c, new TokenBatch(offs, logp, old, ref, adv, valid), grad);
    }

    @Test
    void unclippedTokenHasGradientMinusAdvantageTimesRatio() {
        float[] grad = new float[1];
        PolicyLossStats s = run(
                plain().build(),
                null,
                new float[] {ln(0.55)},
                new float[] {ln(0.5)},
                null,
                new float[] {2f},
                null,
                grad);
        assertClose("loss", -2.2, s.loss(), 1e-6, 1e-6);
        assertClose("grad", -2.2, grad[0], 1e-6, 1e-6);
        assertClose("mean ratio", 1.1, s.meanRatio(), 1e-6, 1e-6);
        assertEquals(0, s.clipFracHigh());
        assertEquals(1, s.keptTokens());
    }

    @Test
    void clippedTokensHaveNoGradientAndAreCounted() {
        float[] grad = new float[2];
        // r = 1.5 with A = 1 (clipped high), r = 0.5 with A = -1 (clipped low).
        PolicyLossStats s = run(
                plain().build(),
                null,
                new float[] {ln(0.75), ln(0.25)},
                new float[] {ln(0.5), ln(0.5)},
                null,
                new float[] {1f, -1f},
                null,
                grad);
        assertClose("loss", (-1.2 + 0.8) / 2, s.loss(), 1e-6, 1e-6);
        assertAllClose("grad", new float[] {0f, 0f}, grad, 0, 0);
        assertClose("clip high", 0.5, s.clipFracHigh(), 0, 0);
        assertClose("clip low", 0.5, s.clipFracLow(), 0, 0);
    }

    @Test
    void clipHigherUsesTheUpperEpsilon() {
        float[] grad = new float[1];
        // r = 1.25: clipped at eps 0.2, inside at eps_high 0.28.
        PolicyLossStats s = run(
                plain().epsHigh(0.28f).build(),
                null,
                new float[] {ln(0.625)},
                new float[] {ln(0.5)},
                null,
                new float[] {1f},
                null,
                grad);
        assertClose("loss", -1.25, s.loss(), 1e-6, 1e-6);
        assertClose("grad", -1.25, grad[0], 1e-6, 1e-6);
        assertEquals(0, s.clipFracHigh());
    }

    @Test
    void dualClipBoundsTheLossOfNegativeAdvantages() {
        float[] grad = new float[1];
        float[] logp = {ln(0.5) + ln(5)}, old = {ln(0.5)}, adv = {-1f};
        PolicyLossStats without = run(plain().build(), null, logp, old, null, adv, null, grad);
        assertClose("loss without dual clip", 5, without.loss(), 1e-5, 1e-6);
        assertClose("grad without dual clip", 5, grad[0], 1e-5, 1e-6);
        PolicyLossStats with = run(plain().dualClipC(3f).build(), null, logp, old, null, adv, null, grad);
        assertClose("loss with dual clip", 3, with.loss(), 1e-6, 1e-6);
        assertEquals(0f, grad[0]);
        assertEquals(1.0, with.dualClipFrac());
    }

    @Test
    void probabilityMaskDropsConfidentTokensStrictly() {
        float[] grad = new float[3];
        // p_old = 0.95 and 0.99 are above rho = 0.9: only the p_old = 0.5 token is kept.
        PolicyLossStats s = run(
                plain().rho(0.9f).build(),
                null,
                new float[] {ln(0.5), ln(0.9), ln(0.99)},
                new float[] {ln(0.5), ln(0.95), ln(0.99)},
                null,
                new float[] {1f, 1f, 1f},
                null,
                grad);
        assertEquals(1, s.keptTokens());
        assertClose("loss", -1, s.loss(), 1e-6, 1e-6);
        assertAllClose("grad", new float[] {-1f, 0f, 0f}, grad, 1e-7, 1e-6);
    }

    @Test
    void whiteningUsesBesselVarianceOverKeptTokens() {
        float[] grad = new float[3];
        float[] old = {ln(0.5), ln(0.5), ln(0.99)};
        // kept advantages 1 and 3: μ = 2, σ² = 2 (Bessel); the masked token's advantage 100 is ignored.
        PolicyLossStats s = run(
                plain().rho(0.9f).whiten(true).build(),
                null,
                old.clone(),
                old,
                null,
                new float[] {1f, 3f, 100f},
                null,
                grad);
        double a = 1 / Math.sqrt(2 + 1e-8);
        assertClose("adv mean", 2, s.advMean(), 1e-12, 0);
        assertClose("adv std", Math.sqrt(2), s.advStd(), 1e-12, 0);
        assertAllClose("grad", new float[] {(float) (a / 2), (float) (-a / 2), 0f}, grad, 1e-7, 1e-6);
        assertClose("loss", 0, s.loss(), 1e-7, 0);
    }

    @Test
    void aLoneKeptTokenWhitensToZeroNotNaN() {
        float[] grad = new float[1];
        PolicyLossStats s = run(
                plain().whiten(true).build(),
                null,
                new float[] {ln(0.5)},
                new float[] {ln(0.5)},
                null,
                new float[] {7f},
                null,
                grad);
        assertEquals(0.0, s.loss());
        assertEquals(0f, grad[0]);
    }

    @Test
    void k3PenaltyIsSummedPerSequenceAndAveragedOverAllSequences() {
        float beta = 0.5f;
        PolicyLossConfig c = plain().beta(beta)
                .klEstimator(KlEstimator.K3)
                .klAggregation(Aggregation.SEQ_MEAN_TOKEN_SUM)
                .build();
        // Sequences: [t0, t1], [] (empty: still counted), [t2]. Every Δ = ref − logp = 0.5.
        float[] logp = {ln(0.5), ln(0.4), ln(0.3)};
        float[] ref = {logp[0] + 0.5f, logp[1] + 0.5f, logp[2] + 0.5f};
        float[] grad = new float[3];
        PolicyLossStats s = run(c, new int[] {0, 2, 2, 3}, logp, logp.clone(), ref, new float[3], null, grad);
        double k3 = Math.exp(0.5) - 0.5 - 1, dk = 1 - Math.exp(0.5);
        assertClose("kl", 3 * k3 / 3, s.klLoss(), 1e-6, 1e-5);
        assertClose("loss", beta * k3, s.loss(), 1e-6, 1e-5);
        assertClose("kl ref", k3, s.klRef(), 1e-6, 1e-5);
        float g = (float) (beta * dk / 3);
        assertAllClose("grad", new float[] {g, g, g}, grad, 1e-7, 1e-5);
    }

    @Test
    void k1AndK2Estimators() {
        float[] logp = {ln(0.5)}, ref = {ln(0.5) - 0.25f}, grad = new float[1];
        PolicyLossStats k1 = run(
                plain().beta(1f).klEstimator(KlEstimator.K1).build(),
                null,
                logp,
                logp.clone(),
                ref,
                new float[1],
                null,
                grad);
        assertClose("k1", 0.25, k1.klLoss(), 1e-6, 1e-5);
        assertClose("k1 grad", 1, grad[0], 1e-6, 0);
        PolicyLossStats k2 = run(
                plain().beta(1f).klEstimator(KlEstimator.K2).build(),
                null,
                logp,
                logp.clone(),
                ref,
                new float[1],
                null,
                grad);
        assertClose("k2", 0.5 * 0.0625, k2.klLoss(), 1e-7, 1e-5);
        assertClose("k2 grad", 0.25, grad[0], 1e-6, 1e-5);
    }

    @Test
    void seqMeanTokenMeanAndConstantNorm() {
        float[] old = {ln(0.5), ln(0.5), ln(0.5)};
        float[] adv = {1f, 2f, 3f};
        int[] offs = {0, 1, 1, 3}; // lengths 1, 0, 2
        float[] grad = new float[3];
        PolicyLossStats s = run(
                plain().pgAggregation(Aggregation.SEQ_MEAN_TOKEN_MEAN).build(),
                offs,
                old.clone(),
                old,
                null,
                adv,
                null,
                grad);
        // r = 1: per-token loss −A. Sequence means: −1, (empty: 0), −2.5; mean over 3 sequences.
        assertClose("seq-mean-token-mean", (-1 - 2.5) / 3, s.loss(), 1e-6, 1e-6);
        assertAllClose("grad", new float[] {-1f / 3, -2f / 6, -3f / 6}, grad, 1e-7, 1e-6);
        PolicyLossStats d = run(
                plain().pgAggregation(Aggregation.CONSTANT_NORM).pgNorm(10f).build(),
                offs,
                old.clone(),
                old,
                null,
                adv,
                null,
                grad);
        assertClose("constant norm", -6.0 / 10, d.loss(), 1e-6, 1e-6);
        assertAllClose("grad", new float[] {-0.1f, -0.2f, -0.3f}, grad, 1e-7, 1e-6);
    }

    @Test
    void everyTokenMaskedGivesZeroLossAndGradientNotNaN() {
        TokenBatch x = PolicyLossData.tokens(99, 1, true, true);
        boolean[] none = new boolean[99];
        float[] grad = new float[99];
        java.util.Arrays.fill(grad, 42f);
        PolicyLossStats s = PolicyLossReference.tokens(
                PolicyLossConfig.spo(),
                new TokenBatch(x.seqOffsets(), x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), none),
                grad);
        assertEquals(0.0, s.loss());
        assertEquals(0, s.keptTokens());
        assertAllClose("grad", new float[99], grad, 0, 0);
        assertFalse(Double.isNaN(s.meanRatio()) || Double.isNaN(s.advStd()));
    }

    @Test
    void hugeLogRatiosAreClampedAndStopTheGradient() {
        float[] grad = new float[2];
        PolicyLossStats s = run(
                plain().eps(0.2f).build(),
                null,
                new float[] {-1000f, 0f},
                new float[] {0f, -1000f},
                null,
                new float[] {-1f, -1f},
                null,
                grad);
        assertTrue(Double.isFinite(s.loss()));
        // r = e^-10 (A < 0: clipped low, loss 0.8) and r = e^10 (A < 0: unclipped, loss e^10, but clamped: no grad).
        assertClose("loss", (0.8 + Math.exp(10)) / 2, s.loss(), 1e-3, 1e-6);
        assertAllClose("grad", new float[] {0f, 0f}, grad, 0, 0);
    }

    @Test
    void batchesWithAHighMeanRatioAreSkipped() {
        float[] grad = new float[1];
        PolicyLossStats s = run(
                plain().maxMeanRatio(10f).build(),
                null,
                new float[] {0f},
                new float[] {-5f},
                null,
                new float[] {1f},
                null,
                grad);
        assertTrue(s.skipped());
        assertEquals(0.0, s.loss());
        assertEquals(0f, grad[0]);
        assertClose("mean ratio is still reported", Math.exp(5), s.meanRatio(), 1e-3, 1e-6);
    }

    @Test
    void spoLossIsPgTokenMeanPlusBetaTimesKlSeqMeanTokenSum() {
        TokenBatch x = PolicyLossData.tokens(4099, 7, true, true);
        PolicyLossConfig spo = PolicyLossConfig.spo();
        PolicyLossStats s = PolicyLossReference.tokens(spo, x, null);
        assertClose("loss", s.pgLoss() + spo.beta() * s.klLoss(), s.loss(), 1e-12, 1e-12);
        assertEquals(Aggregation.TOKEN_MEAN, spo.pgAggregation());
        assertEquals(Aggregation.SEQ_MEAN_TOKEN_SUM, spo.klAggregation());
    }

    /** Central differences of the reference's loss against its analytic gradient, for every estimator. */
    @Test
    void gradientMatchesFiniteDifferences() {
        for (KlEstimator kl : KlEstimator.values()) {
            for (Aggregation agg : Aggregation.values()) {
                PolicyLossConfig c = PolicyLossConfig.builder()
                        .beta(0.3f)
                        .klEstimator(kl)
                        .pgAggregation(agg)
                        .klAggregation(agg)
                        .pgNorm(7f)
                        .klNorm(7f)
                        .dualClipC(3f)
                        .maxMeanRatio(0f)
                        .build();
                Random rnd = new Random(11);
                int n = 40;
                TokenBatch x = PolicyLossData.tokens(n, 3 + kl.ordinal(), true, true);
                float[] logp = x.logp();
                // Keep every log-ratio away from the clip kinks at 1 ± 0.2 (and the clamps), so the loss is
                // smooth around each point: |log r| < 0.1, or > 0.3 where clipping is active.
                for (int t = 0; t < n; t++) {
                    double lr = rnd.nextBoolean()
                            ? 0.18 * (rnd.nextDouble() - 0.5)
                            : Math.signum(rnd.nextGaussian()) * (0.3 + 0.5 * rnd.nextDouble());
                    logp[t] = (float) (x.oldLogp()[t] + lr);
                }
                float[] grad = new float[n];
                PolicyLossReference.tokens(c, x, grad);
                float[] numeric = new float[n];
                float h = 1e-3f;
                for (int t = 0; t < n; t++) {
                    float saved = logp[t];
                    logp[t] = saved + h;
                    double up = PolicyLossReference.tokens(c, x, null).loss();
                    logp[t] = saved - h;
                    double down = PolicyLossReference.tokens(c, x, null).loss();
                    logp[t] = saved;
                    numeric[t] = (float) ((up - down) / (2 * h));
                }
                assertAllClose("finite differences, kl " + kl + ", agg " + agg, numeric, grad, 2e-5, 2e-3);
            }
        }
    }

    @Test
    void logitsEntryMatchesLogSoftmaxAndItsGradient() {
        LogitsBatch x = PolicyLossData.logits(7, 13, 0.6f, 5, true);
        float[] grad = new float[7 * 13], logp = new float[7], entropy = new float[7];
        PolicyLossReference.logits(PolicyLossConfig.spo(), x, grad, logp, entropy);
        for (int i = 0; i < 7; i++) {
            if (!x.valid()[i]) continue;
            double max = Double.NEGATIVE_INFINITY, sum = 0, h = 0;
            for (int j = 0; j < 13; j++) max = Math.max(max, x.logits()[i * 13 + j] / 0.6);
            for (int j = 0; j < 13; j++) sum += Math.exp(x.logits()[i * 13 + j] / 0.6 - max);
            double lse = max + Math.log(sum);
            for (int j = 0; j < 13; j++) {
                double lp = x.logits()[i * 13 + j] / 0.6 - lse;
                h -= Math.exp(lp) * lp;
            }
            assertClose("logp[" + i + "]", x.logits()[i * 13 + x.targets()[i]] / 0.6 - lse, logp[i], 1e-6, 1e-6);
            assertClose("entropy[" + i + "]", h, entropy[i], 1e-6, 1e-5);
            double rowSum = 0;
            for (int j = 0; j < 13; j++) rowSum += grad[i * 13 + j];
            assertClose("softmax gradient rows sum to 0", 0, rowSum, 1e-7, 0);
        }
        // Finite differences on two logits of a kept row.
        float[] logits = x.logits();
        for (int idx : new int[] {0, 13 * 3 + 5}) {
            float saved = logits[idx], h = 1e-3f;
            logits[idx] = saved + h;
            double up = PolicyLossReference.logits(PolicyLossConfig.spo(), x, null, null, null)
                    .loss();
            logits[idx] = saved - h;
            double down = PolicyLossReference.logits(PolicyLossConfig.spo(), x, null, null, null)
                    .loss();
            logits[idx] = saved;
            assertClose("d loss / d logits[" + idx + "]", (up - down) / (2 * h), grad[idx], 1e-5, 2e-3);
        }
    }
}
