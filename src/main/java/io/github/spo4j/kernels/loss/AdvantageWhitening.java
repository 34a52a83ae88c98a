package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.engine.Checks;

/**
 * SPO's advantage whitening (SPO_SPEC §4, {@code masked_whiten} in the reference code), the one definition
 * used by the policy loss and the {@code spo} layer:
 *
 * <pre>
 *   μ  = Σ_t s_t A_t / Σ_t s_t,    σ² = Σ_t s_t (A_t − μ)² / (Σ_t s_t − 1)     (Bessel-corrected)
 *   Â_t = (A_t − μ) / sqrt(σ² + ε),   ε = 1e-8,  applied to every token
 * </pre>
 *
 * The statistics mask s is the probability mask ({@link ProbabilityMask}) of the micro-batch, or the plain
 * response mask when no token of the micro-batch is kept ({@link #statisticsMask}). Sums are in double, in
 * token order, two passes (the reference's arithmetic, which the native kernels match to rounding).
 *
 * <p>With fewer than two tokens in s, σ² is taken as 0 (a lone token whitens to 0 instead of the NaN of the
 * Bessel formula); with none, μ = 0 as well.
 */
public final class AdvantageWhitening {
    /** ε of SPO's {@code masked_whiten}. */
    public static final float DEFAULT_EPS = 1e-8f;

    private AdvantageWhitening() {}

    /**
     * Mean and Bessel-corrected variance of some tokens' advantages.
     *
     * @param count    number of tokens the statistics are over
     * @param mean     μ (0 when count = 0)
     * @param variance σ², Bessel-corrected (0 when count &lt; 2)
     */
    public record Moments(long count, double mean, double variance) {

        /** σ. */
        public double std() {
            return Math.sqrt(variance);
        }

        /** 1 / sqrt(σ² + ε). */
        public double inverseStd(float eps) {
            return 1.0 / Math.sqrt(variance + eps);
        }

        /** Â = (a − μ) / sqrt(σ² + ε). */
        public double whiten(float advantage, float eps) {
            return (advantage - mean) * inverseStd(eps);
        }
    }

    /**
     * μ and σ² (Bessel) of the advantages where {@code over} is true.
     *
     * @param advantages [N], finite where {@code over} is true
     * @param over       [N] the tokens to average over, or null for all
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static Moments moments(float[] advantages, boolean[] over) {
        Checks.notNull(advantages, "advantages");
        if (over != null) Checks.length(over.length, advantages.length, "over");
        PolicyLossChecks.finiteWhereValid(advantages, over, "advantages");
        long count = 0;
        double sum = 0;
        for (int t = 0; t < advantages.length; t++) {
            if (over == null || over[t]) {
                sum += advantages[t];
                count++;
            }
        }
        double mean = count > 0 ? sum / count : 0;
        double m2 = 0;
        for (int t = 0; t < advantages.length; t++) {
            if (over == null || over[t]) m2 += (advantages[t] - mean) * (advantages[t] - mean);
        }
        return new Moments(count, mean, count > 1 ? m2 / (count - 1) : 0);
    }

    /**
     * The tokens SPO's whitening takes its statistics over: the kept tokens, or the response tokens when none
     * is kept (SPO_SPEC §4).
     *
     * @param kept     [N] the probability mask
     * @param response [N] response tokens, or null for all
     * @return {@code kept} itself when it has a true entry, else {@code response} (all true when null)
     */
    public static boolean[] statisticsMask(boolean[] kept, boolean[] response) {
        Checks.notNull(kept, "kept");
        if (response != null) Checks.length(response.length, kept.length, "response");
        if (ProbabilityMask.count(kept) > 0) return kept;
        if (response != null) return response;
        boolean[] all = new boolean[kept.length];
        java.util.Arrays.fill(all, true);
        return all;
    }

    /**
     * Whitens a micro-batch: statistics over {@link #statisticsMask(boolean[], boolean[])}, applied to every
     * token.
     *
     * @param advantages [N] raw token advantages, finite at response tokens
     * @param kept       [N] the probability mask (a subset of the response tokens)
     * @param response   [N] response tokens, or null for all
     * @param eps        ε &gt;= 0 added to σ²
     * @return [N] Â (a non-response token's NaN advantage stays NaN)
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static float[] whiten(float[] advantages, boolean[] kept, boolean[] response, float eps) {
        Checks.notNull(advantages, "advantages");
        Checks.notNull(kept, "kept");
        Checks.length(kept.length, advantages.length, "kept");
        if (response != null) Checks.length(response.length, advantages.length, "response");
        checkEps(eps);
        PolicyLossChecks.finiteWhereValid(advantages, response, "advantages");
        Moments m = moments(advantages, statisticsMask(kept, response));
        float[] out = new float[advantages.length];
        for (int t = 0; t < out.length; t++) out[t] = (float) m.whiten(advantages[t], eps);
        return out;
    }

    /**
     * Checks ε.
     *
     * @throws IllegalArgumentException naming {@code eps} unless finite and &gt;= 0
     */
    public static void checkEps(float eps) {
        Checks.require(Float.isFinite(eps) && eps >= 0, "eps must be finite and >= 0, got " + eps);
    }
}
