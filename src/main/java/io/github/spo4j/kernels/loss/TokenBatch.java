package io.github.spo4j.kernels.loss;

/**
 * Per-token inputs of the policy loss for N tokens of B ragged sequences, as Java arrays.
 *
 * @param seqOffsets [B+1] start of each sequence, 0 first and N last; null for one sequence
 * @param logp       [N] log π_θ of each token (at the sampling temperature)
 * @param oldLogp    [N] log π_old of each token (the sampling policy)
 * @param refLogp    [N] log π_ref, or null (then β must be 0)
 * @param advantages [N] per-token advantage
 * @param valid      [N] response-token mask, or null for all valid; values of invalid tokens are ignored
 */
public record TokenBatch(
        int[] seqOffsets, float[] logp, float[] oldLogp, float[] refLogp, float[] advantages, boolean[] valid) {

    /** Number of tokens N. */
    public int numTokens() {
        return oldLogp == null ? 0 : oldLogp.length;
    }

    /** Number of sequences B (1 when seqOffsets is null). */
    public int numSeqs() {
        return seqOffsets == null ? 1 : seqOffsets.length - 1;
    }
}
