package io.github.spo4j.readme;

import io.github.spo4j.kernels.attention.PrefixAttention;
import io.github.spo4j.kernels.attention.PrefixAttentionPlan;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.SplittableRandom;

/** README, "Prefix attention": one shared decode step over branches forked from one prompt. */
final class PrefixAttentionSnippet {
    private PrefixAttentionSnippet() {}

    /** The attention output [B, Hq, D] of 4 branches forked from a {@code promptTokens}-token prompt. */
    static float[] run(int qHeads, int kvHeads, int headDim, int promptTokens) {
        SplittableRandom rng = new SplittableRandom(9);
        int layer = 0;
        try (KvCache pool = KvCache.create(new KvCacheConfig(1, kvHeads, headDim, 16, 64))) {
            int prompt = pool.newSequence();
            pool.append(
                    prompt,
                    0,
                    KvCacheSnippet.random(rng, promptTokens * kvHeads * headDim),
                    KvCacheSnippet.random(rng, promptTokens * kvHeads * headDim));
            int[] seqs = pool.fork(prompt, 4);
            pool.appendBatch(
                    seqs,
                    0,
                    KvCacheSnippet.random(rng, 4 * kvHeads * headDim),
                    KvCacheSnippet.random(rng, 4 * kvHeads * headDim));
            float[] q = KvCacheSnippet.random(rng, 4 * qHeads * headDim);
            float[] lse = new float[4 * qHeads];
            // README begin
            PrefixAttention attention = PrefixAttention.create(pool.backend()); // the pool's memory: host or device
            // once per decode step, after layer 0's appendBatch (later layers reuse it: their tables are the same)
            PrefixAttentionPlan plan =
                    PrefixAttentionPlan.decodeShared(pool, seqs, 0, PrefixAttention.MIN_SHARED_TOKENS);
            float scale = PrefixAttention.defaultScale(headDim); // 1 / sqrt(D)
            float[] out = attention.attend(pool, layer, plan, qHeads, scale, q, lse); // q [B, Hq, D], lse [B, Hq]
            // README end
            return out;
        }
    }
}
