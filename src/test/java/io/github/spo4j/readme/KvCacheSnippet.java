package io.github.spo4j.readme;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheConfig;
import java.util.SplittableRandom;

/** README, "The KV-cache pool": a prompt forked 6 ways, one batched decode step. */
final class KvCacheSnippet {
    private KvCacheSnippet() {}

    /** What the pool held at the end: blocks in use, copy-on-writes, live sequences and the first table's size. */
    static long[] run(int layers, int kvHeads, int headDim, int numBlocks, int promptTokens) {
        SplittableRandom rng = new SplittableRandom(7);
        float[][] k = new float[layers][],
                v = new float[layers][],
                kStep = new float[layers][],
                vStep = new float[layers][];
        for (int l = 0; l < layers; l++) {
            k[l] = random(rng, promptTokens * kvHeads * headDim);
            v[l] = random(rng, promptTokens * kvHeads * headDim);
            kStep[l] = random(rng, 6 * kvHeads * headDim);
            vStep[l] = random(rng, 6 * kvHeads * headDim);
        }
        long[] result;
        // README begin
        KvCacheConfig c = new KvCacheConfig(layers, kvHeads, headDim, 16, numBlocks); // or KvCacheConfig.forBudget
        try (KvCache pool = KvCache.create(c)) { // Backend.auto(); or create(c, Backend.CPU)
            int prompt = pool.newSequence();
            for (int l = 0; l < layers; l++) {
                pool.append(prompt, l, k[l], v[l]); // [n, Hkv, D]: float[], FloatPointer or Tensor
            }
            int[] kids = pool.fork(prompt, 6); // share every block; no copy yet
            pool.release(prompt); // its blocks live on in the children
            for (int l = 0; l < layers; l++) {
                pool.appendBatch(kids, l, kStep[l], vStep[l]); // decode: [B, Hkv, D], one native call
            }
            int[] table = pool.blockTable(kids[0]); // what the attention kernels read, with pool.storage()
            long[] state = {pool.blocksInUse(), pool.copyOnWrites(), pool.liveSequences(), table.length}; // README skip
            result = state; // README skip
        }
        // README end
        return result;
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
        return x;
    }
}
