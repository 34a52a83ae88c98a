package io.github.spo4j.kernels.loss;

/**
 * Inputs of the policy loss's logits entry, as Java arrays: log π_θ is computed from the logits as
 * log_softmax(logits / T)[target].
 *
 * @param seqOffsets  [B+1] start of each sequence, 0 first and N last; null for one sequence
 * @param logits      [N, V] row-major
 * @param vocab       V, &gt; 0
 * @param targets     [N] token ids in [0, V) (checked where valid)
 * @param temperature T &gt; 0
 * @param oldLogp     [N] log π_old
 * @param refLogp     [N] log π_ref, or null
 * @param advantages  [N]
 * @param valid       [N] response-token mask, or null for all valid
 */
public record LogitsBatch(
        int[] seqOffsets,
        float[] logits,
        int vocab,
        int[] targets,
        float temperature,
        float[] oldLogp,
        float[] refLogp,
        float[] advantages,
        boolean[] valid) {

    /** Number of tokens N. */
    public int numTokens() {
        return targets == null ? 0 : targets.length;
    }
}
