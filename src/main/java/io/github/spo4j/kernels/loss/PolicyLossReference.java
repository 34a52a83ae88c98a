package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.engine.Checks;

/**
 * The policy loss in plain Java with double arithmetic: the oracle of the native kernels' tests and the
 * {@link Backend#REFERENCE} path. Written to be obviously right, not fast; the math is on
 * {@link PolicyLossConfig}. Callers check arguments first ({@link PolicyLoss} does).
 */
public final class PolicyLossReference {
    private PolicyLossReference() {}

    /**
     * The per-token entry.
     *
     * @param gradLogp [N] receives ∂loss/∂logp (0 where not kept), or null
     */
    public static PolicyLossStats tokens(PolicyLossConfig c, TokenBatch x, float[] gradLogp) {
        PolicyLossChecks.tokens(c, x, gradLogp);
        return core(c, x.seqOffsets(), x.logp(), x.oldLogp(), x.refLogp(), x.advantages(), x.valid(), null, gradLogp);
    }

    /**
     * The logits entry: logp = log_softmax(logits / T)[target], the loss, and
     * ∂loss/∂logits = ∂loss/∂logp · (onehot − softmax(logits / T)) / T.
     *
     * @param gradLogits [N, V] receives the gradient (rows of tokens not kept are 0), or null
     * @param logpOut    [N] receives logp (0 at invalid tokens), or null
     * @param entropyOut [N] receives the entropy of softmax(logits / T) (0 at invalid tokens), or null
     */
    public static PolicyLossStats logits(
            PolicyLossConfig c, LogitsBatch x, float[] gradLogits, float[] logpOut, float[] entropyOut) {
        PolicyLossChecks.logits(c, x, gradLogits, logpOut, entropyOut);
        int n = x.numTokens(), v = x.vocab();
        float[] logp = new float[n];
        double[] lse = new double[n];
        float[] entropy = entropyOut != null ? new float[n] : null;
        rows(x.logits(), v, x.targets(), x.temperature(), x.valid(), logp, entropy, lse);
        float[] dlogp = gradLogits != null ? new float[n] : null;
        PolicyLossStats stats =
                core(c, x.seqOffsets(), logp, x.oldLogp(), x.refLogp(), x.advantages(), x.valid(), entropy, dlogp);
        if (gradLogits != null) {
            double invT = 1.0 / x.temperature();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < v; j++) {
                    double p = Math.exp(x.logits()[i * v + j] * invT - lse[i]);
                    double onehot = j == x.targets()[i] ? 1.0 : 0.0;
                    gradLogits[i * v + j] = dlogp[i] == 0 ? 0f : (float) (dlogp[i] * (onehot - p) * invT);
                }
            }
        }
        if (logpOut != null) System.arraycopy(logp, 0, logpOut, 0, n);
        if (entropyOut != null) System.arraycopy(entropy, 0, entropyOut, 0, n);
        return stats;
    }

    /** Log-probs (and optionally entropies) of targets under softmax(logits / T), every row. */
    public static void tokenLogprobs(
            float[] logits, int vocab, int[] targets, float temperature, float[] logpOut, float[] entropyOut) {
        Checks.temperature(temperature);
        PolicyLossChecks.logitsRows(logits, vocab, targets, null, "logits");
        Checks.notNull(logpOut, "logpOut");
        Checks.length(logpOut.length, targets.length, "logpOut");
        if (entropyOut != null) Checks.length(entropyOut.length, targets.length, "entropyOut");
        rows(logits, vocab, targets, temperature, null, logpOut, entropyOut, new double[targets.length]);
    }

    /**
     * The vector-Jacobian product of {@link #tokenLogprobs}: for every row i and vocabulary entry j,
     * gradLogits[i, j] = gradLogp[i] / T · (1[j == targets[i]] − softmax(logits_i / T)[j]). Rows with
     * gradLogp[i] == 0 are zeros and are not read.
     *
     * @param logits     [N, V] row-major
     * @param gradLogp   [N] finite
     * @param gradLogits [N, V] receives the gradient; may be {@code logits} itself (in place)
     */
    public static void tokenLogprobsBackward(
            float[] logits, int vocab, int[] targets, float temperature, float[] gradLogp, float[] gradLogits) {
        PolicyLossChecks.tokenLogprobsBackward(logits, vocab, targets, temperature, gradLogp, gradLogits);
        int n = targets.length;
        boolean[] read = new boolean[n];
        for (int i = 0; i < n; i++) read[i] = gradLogp[i] != 0;
        // Every lse before the first write: gradLogits may be the logits array.
        double[] lse = new double[n];
        rows(logits, vocab, targets, temperature, read, new float[n], null, lse);
        double invT = 1.0 / temperature;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < vocab; j++) {
                int k = i * vocab + j;
                if (!read[i]) {
                    gradLogits[k] = 0f;
                    continue;
                }
                double p = Math.exp(logits[k] * invT - lse[i]);
                double onehot = j == targets[i] ? 1.0 : 0.0;
                gradLogits[k] = (float) (gradLogp[i] * invT * (onehot - p));
            }
        }
    }

    private static void rows(
            float[] logits,
            int v,
            int[] targets,
            float temperature,
            boolean[] valid,
            float[] logp,
            float[] entropy,
            double[] lse) {
        double invT = 1.0 / temperature;
        for (int i = 0; i < targets.length; i++) {
            if (valid != null && !valid[i]) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) max = Math.max(max, logits[i * v + j] * invT);
            double sum = 0, weighted = 0;
            for (int j = 0; j < v; j++) {
                double z = logits[i * v + j] * invT;
                double e = Math.exp(z - max);
                sum += e;
                weighted += e * z;
            }
            lse[i] = max + Math.log(sum);
            logp[i] = (float) (logits[i * v + targets[i]] * invT - lse[i]);
            if (entropy != null) entropy[i] = (float) (lse[i] - weighted / sum);
        }
    }

    private static PolicyLossStats core(
            PolicyLossConfig c,
            int[] offsets,
            float[] logp,
            float[] oldLogp,
            float[] refLogp,
            float[] adv,
            boolean[] valid,
            float[] entropy,
            float[] grad) {
        int n = oldLogp.length;
        if (offsets == null) offsets = new int[] {0, n};
        int b = offsets.length - 1;
        // The mask and the whitening statistics are the shared definitions (SPO_SPEC §4). The statistics are
        // over the kept tokens only: SPO's fallback to the response mask when none is kept cannot change the
        // loss, which is then 0 whatever Â is, and the reported μ, σ stay those of the kept tokens (0).
        boolean[] kept = ProbabilityMask.mask(oldLogp, valid, c.rho());
        AdvantageWhitening.Moments moments = AdvantageWhitening.moments(adv, kept);
        long numKept = moments.count();
        long[] seqKept = new long[b];
        for (int s = 0; s < b; s++) {
            for (int t = offsets[s]; t < offsets[s + 1]; t++) if (kept[t]) seqKept[s]++;
        }
        double mean = moments.mean(), variance = moments.variance();

        double pgSum = 0, klSum = 0, ratioSum = 0, k3OldSum = 0, klRefSum = 0, entropySum = 0;
        long clipLow = 0, clipHigh = 0, dualClip = 0;
        double lo = 1.0 - c.epsLow(), hi = 1.0 + c.epsHigh();
        for (int s = 0; s < b; s++) {
            for (int t = offsets[s]; t < offsets[s + 1]; t++) {
                if (!kept[t]) {
                    if (grad != null) grad[t] = 0f;
                    continue;
                }
                double a = c.whiten() ? moments.whiten(adv[t], c.whitenEps()) : adv[t];
                double lr = (double) logp[t] - oldLogp[t];
                double lrc = Math.max(-c.logRatioClamp(), Math.min(c.logRatioClamp(), lr));
                boolean lrPasses = Math.abs(lr) <= c.logRatioClamp();
                double r = Math.exp(lrc);
                double unclipped = -a * r, clipped = -a * Math.max(lo, Math.min(hi, r));
                double pg = Math.max(unclipped, clipped);
                double dpg = unclipped >= clipped ? -a * r : 0;
                if (c.dualClipC() > 0 && a < 0 && -a * c.dualClipC() < pg) {
                    pg = -a * c.dualClipC();
                    dpg = 0;
                    dualClip++;
                }
                if (!lrPasses) dpg = 0;
                if (a < 0 && r < lo) clipLow++;
                if (a > 0 && r > hi) clipHigh++;

                double kl = 0, dkl = 0;
                if (refLogp != null) {
                    double d = (double) refLogp[t] - logp[t];
                    double dc = Math.max(-c.klClamp(), Math.min(c.klClamp(), d));
                    switch (c.klEstimator()) {
                        case K1 -> {
                            kl = -dc;
                            dkl = 1;
                        }
                        case K2 -> {
                            kl = 0.5 * dc * dc;
                            dkl = -dc;
                        }
                        case K3 -> {
                            kl = Math.exp(dc) - dc - 1;
                            dkl = 1 - Math.exp(dc);
                        }
                    }
                    if (Math.abs(d) > c.klClamp()) dkl = 0;
                }
                double wpg = weight(c.pgAggregation(), c.pgNorm(), numKept, b, seqKept[s]);
                double wkl = weight(c.klAggregation(), c.klNorm(), numKept, b, seqKept[s]);
                pgSum += wpg * pg;
                klSum += wkl * kl;
                ratioSum += r;
                k3OldSum += r - 1 - lrc;
                klRefSum += kl;
                if (entropy != null) entropySum += entropy[t];
                if (grad != null) grad[t] = (float) (wpg * dpg + (double) c.beta() * wkl * dkl);
            }
        }
        double k = numKept;
        double meanRatio = numKept > 0 ? ratioSum / k : 0;
        boolean skipped = c.maxMeanRatio() > 0 && meanRatio > c.maxMeanRatio();
        if (skipped && grad != null) java.util.Arrays.fill(grad, 0f);
        return new PolicyLossStats(
                skipped ? 0 : pgSum + c.beta() * klSum,
                skipped ? 0 : pgSum,
                skipped ? 0 : klSum,
                numKept,
                frac(clipLow, k),
                frac(clipHigh, k),
                frac(dualClip, k),
                meanRatio,
                numKept > 0 ? k3OldSum / k : 0,
                numKept > 0 ? klRefSum / k : 0,
                mean,
                Math.sqrt(variance),
                skipped,
                entropy != null && numKept > 0 ? entropySum / k : 0);
    }

    private static double frac(long count, double k) {
        return k > 0 ? count / k : 0;
    }

    private static double weight(Aggregation mode, float norm, long kept, int numSeqs, long seqKept) {
        return switch (mode) {
            case TOKEN_MEAN -> kept > 0 ? 1.0 / kept : 0;
            case SEQ_MEAN_TOKEN_SUM -> numSeqs > 0 ? 1.0 / numSeqs : 0;
            case SEQ_MEAN_TOKEN_MEAN -> numSeqs > 0 && seqKept > 0 ? 1.0 / ((double) numSeqs * seqKept) : 0;
            case CONSTANT_NORM -> 1.0 / norm;
        };
    }
}
