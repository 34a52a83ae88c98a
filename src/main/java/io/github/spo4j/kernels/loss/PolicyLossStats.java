package io.github.spo4j.kernels.loss;

/**
 * Result of one policy-loss call. Means are over kept tokens (0 when there are none).
 *
 * @param loss          pgLoss + β·klLoss (0 when skipped)
 * @param pgLoss        aggregated clipped surrogate
 * @param klLoss        aggregated KL estimator against the reference, before β
 * @param keptTokens    tokens that are valid and pass the probability mask
 * @param clipFracLow   fraction with Â &lt; 0 and r &lt; 1 − ε_low
 * @param clipFracHigh  fraction with Â &gt; 0 and r &gt; 1 + ε_high
 * @param dualClipFrac  fraction where the dual-clip bound is the loss
 * @param meanRatio     mean π_θ/π_old
 * @param approxKlOld   mean k3 estimate of KL(π_old ‖ π_θ): r − 1 − log r
 * @param klRef         mean per-token KL estimator against π_ref (0 without one)
 * @param advMean       mean raw advantage of kept tokens (the whitening μ)
 * @param advStd        Bessel standard deviation of kept tokens' raw advantages
 * @param skipped       whether maxMeanRatio zeroed the loss and gradient
 * @param entropyMean   mean entropy of kept tokens (logits entry with an entropy output; else 0)
 */
public record PolicyLossStats(double loss, double pgLoss, double klLoss, long keptTokens, double clipFracLow,
        double clipFracHigh, double dualClipFrac, double meanRatio, double approxKlOld, double klRef,
        double advMean, double advStd, boolean skipped, double entropyMean) {

    /** Number of values in the native statistics array ({@code SPO4J_PL_NUM_STATS}). */
    static final int NUM_STATS = 14;

    static PolicyLossStats fromArray(double[] s) {
        return new PolicyLossStats(s[0], s[1], s[2], Math.round(s[3]), s[4], s[5], s[6], s[7], s[8], s[9], s[10],
                s[11], s[12] != 0, s[13]);
    }

    double[] toArray() {
        return new double[] {loss, pgLoss, klLoss, keptTokens, clipFracLow, clipFracHigh, dualClipFrac, meanRatio,
            approxKlOld, klRef, advMean, advStd, skipped ? 1 : 0, entropyMean};
    }
}
