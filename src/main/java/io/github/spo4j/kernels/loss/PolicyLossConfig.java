package io.github.spo4j.kernels.loss;

/**
 * Configuration of the fused policy loss (SPO_SPEC §4). Per kept token t (valid, and p_old &lt; ρ unless
 * ρ = 1):
 *
 * <pre>
 *   Â_t  = whiten ? (A_t − μ) / sqrt(σ² + whitenEps) : A_t        μ, σ² (Bessel) over kept tokens
 *   r_t  = exp(clamp(logp_t − oldLogp_t, ±logRatioClamp))
 *   pg_t = max(−Â r, −Â clip(r, 1 − epsLow, 1 + epsHigh)),  then min(pg_t, −Â·dualClipC) where Â &lt; 0
 *   Δ_t  = clamp(refLogp_t − logp_t, ±klClamp);   k1 = −Δ, k2 = Δ²/2, k3 = e^Δ − Δ − 1
 *   loss = pgAggregation(pg) + beta · klAggregation(k)
 * </pre>
 *
 * If {@code maxMeanRatio > 0} and the kept tokens' mean ratio exceeds it, the loss and gradient are zero
 * (SPO's reference skips such a batch at 10).
 *
 * @param epsLow        lower clip ε, in [0, 1)
 * @param epsHigh       upper clip ε (clip-higher when larger than epsLow), &gt;= 0
 * @param dualClipC     dual-clip bound c &gt; 1 for negative advantages, or 0 for off
 * @param rho           probability-mask threshold in (0, 1]; 1 keeps every valid token
 * @param logRatioClamp clamp of log π_θ − log π_old before exp, &gt; 0
 * @param whiten        whiten advantages over kept tokens
 * @param whitenEps     ε added to the variance, &gt;= 0
 * @param beta          KL penalty weight, &gt;= 0 (&gt; 0 needs reference log-probs)
 * @param klEstimator   per-token KL estimator
 * @param klClamp       clamp of Δ, &gt; 0
 * @param pgAggregation reduction of the policy-gradient term
 * @param klAggregation reduction of the KL term
 * @param pgNorm        the constant of {@link Aggregation#CONSTANT_NORM} for the pg term, &gt; 0
 * @param klNorm        the same for the KL term, &gt; 0
 * @param maxMeanRatio  skip threshold on the mean ratio, or 0 for off
 */
public record PolicyLossConfig(
        float epsLow,
        float epsHigh,
        float dualClipC,
        float rho,
        float logRatioClamp,
        boolean whiten,
        float whitenEps,
        float beta,
        KlEstimator klEstimator,
        float klClamp,
        Aggregation pgAggregation,
        Aggregation klAggregation,
        float pgNorm,
        float klNorm,
        float maxMeanRatio) {

    public PolicyLossConfig {
        require(Float.isFinite(epsLow) && epsLow >= 0 && epsLow < 1, "epsLow must be in [0, 1), got " + epsLow);
        require(Float.isFinite(epsHigh) && epsHigh >= 0, "epsHigh must be finite and >= 0, got " + epsHigh);
        require(
                dualClipC == 0 || (Float.isFinite(dualClipC) && dualClipC > 1),
                "dualClipC must be 0 (off) or > 1, got " + dualClipC);
        require(rho > 0 && rho <= 1, "rho must be in (0, 1], got " + rho);
        require(
                Float.isFinite(logRatioClamp) && logRatioClamp > 0,
                "logRatioClamp must be finite and > 0, got " + logRatioClamp);
        require(Float.isFinite(whitenEps) && whitenEps >= 0, "whitenEps must be finite and >= 0, got " + whitenEps);
        require(Float.isFinite(beta) && beta >= 0, "beta must be finite and >= 0, got " + beta);
        require(klEstimator != null, "klEstimator must not be null");
        require(Float.isFinite(klClamp) && klClamp > 0, "klClamp must be finite and > 0, got " + klClamp);
        require(pgAggregation != null, "pgAggregation must not be null");
        require(klAggregation != null, "klAggregation must not be null");
        require(Float.isFinite(pgNorm) && pgNorm > 0, "pgNorm must be finite and > 0, got " + pgNorm);
        require(Float.isFinite(klNorm) && klNorm > 0, "klNorm must be finite and > 0, got " + klNorm);
        require(
                maxMeanRatio == 0 || (Float.isFinite(maxMeanRatio) && maxMeanRatio > 0),
                "maxMeanRatio must be 0 (off) or finite and > 0, got " + maxMeanRatio);
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /**
     * SPO's loss exactly as its reference trains: ε 0.2, ρ 0.9, log-ratio clamp 10, whitening (ε 1e-8),
     * k3 KL with β 1e-4 and clamp 10, pg token-mean, KL seq-mean-token-sum, batches with a mean ratio
     * above 10 skipped.
     */
    public static PolicyLossConfig spo() {
        return new PolicyLossConfig(
                0.2f,
                0.2f,
                0f,
                0.9f,
                10f,
                true,
                1e-8f,
                1e-4f,
                KlEstimator.K3,
                10f,
                Aggregation.TOKEN_MEAN,
                Aggregation.SEQ_MEAN_TOKEN_SUM,
                1f,
                1f,
                10f);
    }

    /** GRPO as SPO's paper compares against it: the SPO loss without the probability mask (ρ = 1). */
    public static PolicyLossConfig grpo() {
        return spo().toBuilder().rho(1f).build();
    }

    /** A builder starting from {@link #spo()}. */
    public static Builder builder() {
        return spo().toBuilder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private float epsLow,
                epsHigh,
                dualClipC,
                rho,
                logRatioClamp,
                whitenEps,
                beta,
                klClamp,
                pgNorm,
                klNorm,
                maxMeanRatio;
        private boolean whiten;
        private KlEstimator klEstimator;
        private Aggregation pgAggregation, klAggregation;

        private Builder(PolicyLossConfig c) {
            epsLow = c.epsLow;
            epsHigh = c.epsHigh;
            dualClipC = c.dualClipC;
            rho = c.rho;
            logRatioClamp = c.logRatioClamp;
            whiten = c.whiten;
            whitenEps = c.whitenEps;
            beta = c.beta;
            klEstimator = c.klEstimator;
            klClamp = c.klClamp;
            pgAggregation = c.pgAggregation;
            klAggregation = c.klAggregation;
            pgNorm = c.pgNorm;
            klNorm = c.klNorm;
            maxMeanRatio = c.maxMeanRatio;
        }

        /** Sets both clip ε. */
        public Builder eps(float eps) {
            epsLow = eps;
            epsHigh = eps;
            return this;
        }

        public Builder epsLow(float v) {
            epsLow = v;
            return this;
        }

        public Builder epsHigh(float v) {
            epsHigh = v;
            return this;
        }

        public Builder dualClipC(float v) {
            dualClipC = v;
            return this;
        }

        public Builder rho(float v) {
            rho = v;
            return this;
        }

        public Builder logRatioClamp(float v) {
            logRatioClamp = v;
            return this;
        }

        public Builder whiten(boolean v) {
            whiten = v;
            return this;
        }

        public Builder whitenEps(float v) {
            whitenEps = v;
            return this;
        }

        public Builder beta(float v) {
            beta = v;
            return this;
        }

        public Builder klEstimator(KlEstimator v) {
            klEstimator = v;
            return this;
        }

        public Builder klClamp(float v) {
            klClamp = v;
            return this;
        }

        public Builder pgAggregation(Aggregation v) {
            pgAggregation = v;
            return this;
        }

        public Builder klAggregation(Aggregation v) {
            klAggregation = v;
            return this;
        }

        public Builder pgNorm(float v) {
            pgNorm = v;
            return this;
        }

        public Builder klNorm(float v) {
            klNorm = v;
            return this;
        }

        public Builder maxMeanRatio(float v) {
            maxMeanRatio = v;
            return this;
        }

        public PolicyLossConfig build() {
            return new PolicyLossConfig(
                    epsLow,
                    epsHigh,
                    dualClipC,
                    rho,
                    logRatioClamp,
                    whiten,
                    whitenEps,
                    beta,
                    klEstimator,
                    klClamp,
                    pgAggregation,
                    klAggregation,
                    pgNorm,
                    klNorm,
                    maxMeanRatio);
        }
    }
}
