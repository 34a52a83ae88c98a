package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.engine.Checks;

/**
 * SPO's probability mask (SPO_SPEC §4), the one definition used by the policy loss, its whitening statistics
 * and the {@code spo} layer:
 *
 * <pre>
 *   kept_t = response_t ∧ (ρ = 1 ∨ p_old,t &lt; ρ),   p_old,t = exp(oldLogp_t)   (strictly less; ρ in (0, 1])
 * </pre>
 *
 * p_old is the old policy's probability of the sampled token at the sampling temperature. The test is made in
 * log space, {@code (double) oldLogp < ln ρ}, exactly as the native kernels make it (they compare the float
 * against the largest float below ln ρ, {@link #logThreshold}, which is the same set of floats). ρ = 1 keeps
 * every response token, also one with p_old = 1, so that "no mask" is ρ = 1.
 */
public final class ProbabilityMask {
    /** ρ of SPO's reference code (hard-coded there; SPO_SPEC §1a, §4). */
    public static final float DEFAULT_RHO = 0.9f;

    private ProbabilityMask() {}

    /**
     * Checks ρ.
     *
     * @return rho
     * @throws IllegalArgumentException naming {@code rho} unless 0 &lt; ρ &lt;= 1
     */
    public static float checkRho(float rho) {
        Checks.require(rho > 0 && rho <= 1, "rho must be in (0, 1], got " + rho);
        return rho;
    }

    /**
     * The largest float o with o &lt; ln ρ: a token is kept iff oldLogp &lt;= this (for ρ &lt; 1).
     * For ρ = 1 every token is kept and this is +∞.
     */
    public static float logThreshold(float rho) {
        checkRho(rho);
        if (rho >= 1f) return Float.POSITIVE_INFINITY;
        double logRho = Math.log(rho);
        float below = (float) logRho;
        while (below >= logRho) below = Math.nextDown(below);
        return below;
    }

    /**
     * Whether a response token with this old log-prob is kept.
     *
     * @throws IllegalArgumentException naming {@code rho} or {@code oldLogp} (NaN)
     */
    public static boolean keeps(float oldLogp, float rho) {
        checkRho(rho);
        Checks.require(!Float.isNaN(oldLogp), "oldLogp is NaN");
        return keepsChecked(oldLogp, rho, Math.log(rho));
    }

    /**
     * The mask over N tokens.
     *
     * @param oldLogp  [N] old-policy log-probs; finite at response tokens (others are not read)
     * @param response [N] which tokens are response tokens, or null for all
     * @param rho      threshold in (0, 1]
     * @return [N] kept_t
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static boolean[] mask(float[] oldLogp, boolean[] response, float rho) {
        Checks.notNull(oldLogp, "oldLogp");
        checkRho(rho);
        if (response != null) Checks.length(response.length, oldLogp.length, "response");
        PolicyLossChecks.finiteWhereValid(oldLogp, response, "oldLogp");
        double logRho = Math.log(rho);
        boolean[] kept = new boolean[oldLogp.length];
        for (int t = 0; t < oldLogp.length; t++) {
            kept[t] = (response == null || response[t]) && keepsChecked(oldLogp[t], rho, logRho);
        }
        return kept;
    }

    /** Number of true entries. */
    public static long count(boolean[] mask) {
        Checks.notNull(mask, "mask");
        long n = 0;
        for (boolean m : mask) if (m) n++;
        return n;
    }

    private static boolean keepsChecked(float oldLogp, float rho, double logRho) {
        return rho >= 1f || oldLogp < logRho;
    }
}
