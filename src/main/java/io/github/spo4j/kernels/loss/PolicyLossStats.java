package io.github.spo4j.kernels.loss;

import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_ADV_MEAN;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_ADV_STD;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_APPROX_KL_OLD;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_CLIP_FRAC_HIGH;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_CLIP_FRAC_LOW;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_DUAL_CLIP_FRAC;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_ENTROPY_MEAN;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_KEPT;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_KL_LOSS;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_KL_REF;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_LOSS;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_MEAN_RATIO;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_NUM_STATS;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_PG_LOSS;
import static io.github.spo4j.kernels.nativebind.Spo4jNative.SPO4J_PL_SKIPPED;

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
public record PolicyLossStats(
        double loss,
        double pgLoss,
        double klLoss,
        long keptTokens,
        double clipFracLow,
        double clipFracHigh,
        double dualClipFrac,
        double meanRatio,
        double approxKlOld,
        double klRef,
        double advMean,
        double advStd,
        boolean skipped,
        double entropyMean) {

    /** Number of values in the native statistics array ({@code SPO4J_PL_NUM_STATS}). */
    static final int NUM_STATS = SPO4J_PL_NUM_STATS;

    /** From the native statistics array, indexed by the header's {@code SPO4J_PL_*}. */
    static PolicyLossStats fromArray(double[] s) {
        return new PolicyLossStats(
                s[SPO4J_PL_LOSS],
                s[SPO4J_PL_PG_LOSS],
                s[SPO4J_PL_KL_LOSS],
                Math.round(s[SPO4J_PL_KEPT]),
                s[SPO4J_PL_CLIP_FRAC_LOW],
                s[SPO4J_PL_CLIP_FRAC_HIGH],
                s[SPO4J_PL_DUAL_CLIP_FRAC],
                s[SPO4J_PL_MEAN_RATIO],
                s[SPO4J_PL_APPROX_KL_OLD],
                s[SPO4J_PL_KL_REF],
                s[SPO4J_PL_ADV_MEAN],
                s[SPO4J_PL_ADV_STD],
                s[SPO4J_PL_SKIPPED] != 0,
                s[SPO4J_PL_ENTROPY_MEAN]);
    }

    double[] toArray() {
        double[] s = new double[NUM_STATS];
        s[SPO4J_PL_LOSS] = loss;
        s[SPO4J_PL_PG_LOSS] = pgLoss;
        s[SPO4J_PL_KL_LOSS] = klLoss;
        s[SPO4J_PL_KEPT] = keptTokens;
        s[SPO4J_PL_CLIP_FRAC_LOW] = clipFracLow;
        s[SPO4J_PL_CLIP_FRAC_HIGH] = clipFracHigh;
        s[SPO4J_PL_DUAL_CLIP_FRAC] = dualClipFrac;
        s[SPO4J_PL_MEAN_RATIO] = meanRatio;
        s[SPO4J_PL_APPROX_KL_OLD] = approxKlOld;
        s[SPO4J_PL_KL_REF] = klRef;
        s[SPO4J_PL_ADV_MEAN] = advMean;
        s[SPO4J_PL_ADV_STD] = advStd;
        s[SPO4J_PL_SKIPPED] = skipped ? 1 : 0;
        s[SPO4J_PL_ENTROPY_MEAN] = entropyMean;
        return s;
    }
}
