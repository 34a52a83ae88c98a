package io.github.spo4j.kernels.attention;

import io.github.spo4j.kernels.engine.Checks;

/**
 * The obvious attention, in double: the test oracle of {@link PrefixAttention}, dense and unshared. For
 * query head j (reading KV head j / (Hq / Hkv)) over the keys it sees,
 * <pre>
 *   s_t = scale · q·k_t,   out = Σ_t e^{s_t − m} v_t / Σ_t e^{s_t − m},   lse = m + log Σ_t e^{s_t − m},  m = max_t s_t
 * </pre>
 * and a query that sees no key gets out = 0, lse = −∞.
 */
public final class PrefixAttentionReference {
    private PrefixAttentionReference() {}

    /**
     * Attention of {@code numQueries} queries over one dense key/value sequence.
     *
     * @param q          [numQueries, qHeads, headDim]
     * @param keys       [numKeys, kvHeads, headDim]
     * @param values     [numKeys, kvHeads, headDim]
     * @param queryLimit [numQueries]: query i sees keys {@code [0, min(queryLimit[i], numKeys))}
     * @param out        [numQueries, qHeads, headDim] output
     * @param lse        [numQueries, qHeads] output, or null
     */
    public static void attention(
            int qHeads,
            int kvHeads,
            int headDim,
            float scale,
            int numQueries,
            float[] q,
            int numKeys,
            float[] keys,
            float[] values,
            int[] queryLimit,
            float[] out,
            float[] lse) {
        Checks.require(
                qHeads >= 1 && kvHeads >= 1 && qHeads % kvHeads == 0,
                "qHeads must be a positive multiple of kvHeads, got " + qHeads + " and " + kvHeads);
        Checks.require(headDim >= 1, "headDim must be >= 1, got " + headDim);
        Checks.length(q.length, (long) numQueries * qHeads * headDim, "q");
        Checks.length(keys.length, (long) numKeys * kvHeads * headDim, "keys");
        Checks.length(values.length, (long) numKeys * kvHeads * headDim, "values");
        Checks.length(queryLimit.length, numQueries, "queryLimit");
        Checks.length(out.length, (long) numQueries * qHeads * headDim, "out");
        if (lse != null) Checks.length(lse.length, (long) numQueries * qHeads, "lse");
        int group = qHeads / kvHeads;
        double[] s = new double[numKeys];
        double[] acc = new double[headDim];
        for (int i = 0; i < numQueries; i++) {
            int visible = Math.max(0, Math.min(queryLimit[i], numKeys));
            for (int h = 0; h < qHeads; h++) {
                int qBase = (i * qHeads + h) * headDim;
                int kvHead = h / group;
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < visible; t++) {
                    int kBase = (t * kvHeads + kvHead) * headDim;
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) dot += (double) q[qBase + d] * keys[kBase + d];
                    s[t] = scale * dot;
                    max = Math.max(max, s[t]);
                }
                java.util.Arrays.fill(acc, 0);
                double sum = 0;
                for (int t = 0; t < visible; t++) {
                    double p = Math.exp(s[t] - max);
                    sum += p;
                    int vBase = (t * kvHeads + kvHead) * headDim;
                    for (int d = 0; d < headDim; d++) acc[d] += p * values[vBase + d];
                }
                for (int d = 0; d < headDim; d++) out[qBase + d] = visible == 0 ? 0f : (float) (acc[d] / sum);
                if (lse != null) {
                    lse[i * qHeads + h] = visible == 0 ? Float.NEGATIVE_INFINITY : (float) (max + Math.log(sum));
                }
            }
        }
    }

    /** Reads the K or V row of one head at a position of a block table. */
    @FunctionalInterface
    public interface RowReader {
        /** Copies {@code headDim} floats of the row (kv 0 = K, 1 = V) into dst at offset. */
        void read(int kv, int block, int slot, int head, float[] dst, int offset);
    }

    /**
     * A plan, attended densely: each query gathers the positions of all its parts into one key/value
     * sequence and runs {@link #attention}. No sharing, no merge: the oracle for the shared and paged paths.
     */
    public static void attend(
            PrefixAttentionPlan plan,
            int qHeads,
            int kvHeads,
            int headDim,
            float scale,
            RowReader cache,
            float[] q,
            float[] out,
            float[] lse) {
        int nq = plan.numQueries;
        int rowFloats = qHeads * headDim;
        float[] q1 = new float[rowFloats];
        float[] o1 = new float[rowFloats];
        float[] l1 = new float[qHeads];
        for (int i = 0; i < nq; i++) {
            int count = 0;
            for (int k = plan.queryEntryOffsets[i]; k < plan.queryEntryOffsets[i + 1]; k++) {
                int p = plan.partOfEntry(plan.queryEntries[k]);
                count += Math.max(0, Math.min(plan.partEnd[p], plan.queryLimit[i]) - plan.partBegin[p]);
            }
            float[] keys = new float[count * kvHeads * headDim];
            float[] values = new float[count * kvHeads * headDim];
            int t = 0;
            for (int k = plan.queryEntryOffsets[i]; k < plan.queryEntryOffsets[i + 1]; k++) {
                int p = plan.partOfEntry(plan.queryEntries[k]);
                int[] blocks = java.util.Arrays.copyOfRange(
                        plan.tableBlocks,
                        plan.tableOffsets[plan.partTable[p]],
                        plan.tableOffsets[plan.partTable[p] + 1]);
                int end = Math.min(plan.partEnd[p], plan.queryLimit[i]);
                for (int pos = plan.partBegin[p]; pos < end; pos++, t++) {
                    int block = blocks[pos / plan.blockSize], slot = pos % plan.blockSize;
                    for (int h = 0; h < kvHeads; h++) {
                        cache.read(0, block, slot, h, keys, (t * kvHeads + h) * headDim);
                        cache.read(1, block, slot, h, values, (t * kvHeads + h) * headDim);
                    }
                }
            }
            System.arraycopy(q, i * rowFloats, q1, 0, rowFloats);
            attention(qHeads, kvHeads, headDim, scale, 1, q1, count, keys, values, new int[] {count}, o1, l1);
            System.arraycopy(o1, 0, out, i * rowFloats, rowFloats);
            if (lse != null) System.arraycopy(l1, 0, lse, i * qHeads, qHeads);
        }
    }
}
