package io.github.spo4j.spo.advantage;

import io.github.spo4j.kernels.loss.AdvantageWhitening;
import io.github.spo4j.kernels.loss.ProbabilityMask;
import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.TreeEdge;
import java.util.List;

/**
 * SPO's per-micro-batch whitening of token advantages (SPO_SPEC §4, §10.1), on the definitions the policy
 * loss uses ({@link ProbabilityMask}, {@link AdvantageWhitening}):
 *
 * <pre>
 *   kept_t = response_t ∧ p_old,t &lt; ρ           (ρ = 1 keeps every response token)
 *   μ, σ² (Bessel) over the kept tokens of the micro-batch, or over its response tokens if none is kept
 *   Â_t = (A_t − μ) / sqrt(σ² + 1e-8)           for every token
 * </pre>
 *
 * SPO whitens each micro-batch on its own, so with small micro-batches (2 sequences for Qwen) the whitened
 * advantages of a pair of tree edges are about ±1 whatever their raw values; {@link #perMicroBatch} reproduces
 * that, {@link #microBatch} whitens one batch.
 */
public final class Whitening {
    private Whitening() {}

    /**
     * One micro-batch's whitening.
     *
     * @param advantages   [N] Â
     * @param kept         [N] the probability mask
     * @param mean         μ of the statistics
     * @param std          σ (Bessel) of the statistics
     * @param statsTokens  number of tokens the statistics are over
     * @param usedFallback whether no token was kept and the statistics are over the response tokens
     */
    public record Result(
            float[] advantages, boolean[] kept, double mean, double std, long statsTokens, boolean usedFallback) {}

    /** {@link #microBatch(float[], float[], boolean[], float, float)} with ε = 1e-8. */
    public static Result microBatch(float[] advantages, float[] oldLogp, boolean[] response, float rho) {
        return microBatch(advantages, oldLogp, response, rho, AdvantageWhitening.DEFAULT_EPS);
    }

    /**
     * Whitens the N tokens of one micro-batch (any number of sequences, flat).
     *
     * @param advantages [N] raw token advantages, finite at response tokens
     * @param oldLogp    [N] generation-time log-probs, finite at response tokens
     * @param response   [N] response tokens, or null for all
     * @param rho        mask threshold in (0, 1]
     * @param eps        ε &gt;= 0 added to σ²
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static Result microBatch(float[] advantages, float[] oldLogp, boolean[] response, float rho, float eps) {
        SpoArguments.notNull(advantages, "advantages");
        SpoArguments.notNull(oldLogp, "oldLogp");
        SpoArguments.length(oldLogp.length, advantages.length, "oldLogp");
        boolean[] kept = ProbabilityMask.mask(oldLogp, response, rho);
        float[] whitened = AdvantageWhitening.whiten(advantages, kept, response, eps);
        boolean[] stats = AdvantageWhitening.statisticsMask(kept, response);
        AdvantageWhitening.Moments m = AdvantageWhitening.moments(advantages, stats);
        return new Result(whitened, kept, m.mean(), m.std(), m.count(), stats != kept);
    }

    /**
     * Whitens consecutive micro-batches of {@code sequencesPerMicroBatch} sequences each, every one with its own
     * statistics (the last may be shorter), as SPO's trainer does.
     *
     * @param seqOffsets             [B+1] sequence starts, 0 first, non-decreasing, N last
     * @param sequencesPerMicroBatch &gt; 0
     * @return [N] Â
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static float[] perMicroBatch(
            int[] seqOffsets,
            int sequencesPerMicroBatch,
            float[] advantages,
            float[] oldLogp,
            boolean[] response,
            float rho,
            float eps) {
        SpoArguments.notNull(advantages, "advantages");
        SpoArguments.notNull(oldLogp, "oldLogp");
        SpoArguments.length(oldLogp.length, advantages.length, "oldLogp");
        if (response != null) SpoArguments.length(response.length, advantages.length, "response");
        SpoArguments.positive(sequencesPerMicroBatch, "sequencesPerMicroBatch");
        checkSeqOffsets(seqOffsets, advantages.length);
        ProbabilityMask.checkRho(rho);
        AdvantageWhitening.checkEps(eps);
        float[] out = new float[advantages.length];
        int numSeqs = seqOffsets.length - 1;
        for (int first = 0; first < numSeqs; first += sequencesPerMicroBatch) {
            int begin = seqOffsets[first], end = seqOffsets[Math.min(numSeqs, first + sequencesPerMicroBatch)];
            Result r = microBatch(
                    java.util.Arrays.copyOfRange(advantages, begin, end),
                    java.util.Arrays.copyOfRange(oldLogp, begin, end),
                    response == null ? null : java.util.Arrays.copyOfRange(response, begin, end),
                    rho,
                    eps);
            System.arraycopy(r.advantages(), 0, out, begin, end - begin);
        }
        return out;
    }

    /**
     * Whitens one micro-batch of tree edges: every response token of edge e has the raw advantage A(e) and its
     * stored generation-time log-prob (SPO_SPEC §3); ε = 1e-8.
     *
     * @param microBatch the edges, non-empty
     * @param rho        mask threshold in (0, 1]
     * @return per edge, [responseLength] Â of its response tokens
     * @throws IllegalArgumentException naming the argument at fault
     */
    public static float[][] edges(List<TreeEdge> microBatch, float rho) {
        SpoArguments.notNull(microBatch, "microBatch");
        SpoArguments.require(!microBatch.isEmpty(), "microBatch must not be empty");
        int n = 0;
        for (int e = 0; e < microBatch.size(); e++) {
            SpoArguments.require(microBatch.get(e) != null, "microBatch[" + e + "] is null");
            n += microBatch.get(e).responseLength();
        }
        float[] advantages = new float[n], oldLogp = new float[n];
        int at = 0;
        for (TreeEdge edge : microBatch) {
            float[] logp = edge.oldLogpArray();
            java.util.Arrays.fill(advantages, at, at + logp.length, edge.advantage());
            System.arraycopy(logp, 0, oldLogp, at, logp.length);
            at += logp.length;
        }
        float[] whitened = microBatch(advantages, oldLogp, null, rho).advantages();
        float[][] out = new float[microBatch.size()][];
        at = 0;
        for (int e = 0; e < microBatch.size(); e++) {
            int len = microBatch.get(e).responseLength();
            out[e] = java.util.Arrays.copyOfRange(whitened, at, at + len);
            at += len;
        }
        return out;
    }

    private static void checkSeqOffsets(int[] offsets, int n) {
        SpoArguments.notNull(offsets, "seqOffsets");
        SpoArguments.require(offsets.length >= 1, "seqOffsets must have B+1 >= 1 entries");
        SpoArguments.require(offsets[0] == 0, "seqOffsets[0] must be 0, got " + offsets[0]);
        for (int i = 1; i < offsets.length; i++) {
            SpoArguments.require(
                    offsets[i] >= offsets[i - 1],
                    "seqOffsets must be non-decreasing: seqOffsets[" + i + "] = " + offsets[i] + " < seqOffsets["
                            + (i - 1) + "] = " + offsets[i - 1]);
        }
        SpoArguments.require(
                offsets[offsets.length - 1] == n,
                "seqOffsets[B] must equal N = " + n + ", got " + offsets[offsets.length - 1]);
    }
}
