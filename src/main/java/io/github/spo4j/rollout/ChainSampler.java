package io.github.spo4j.rollout;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheExhaustedException;
import io.github.spo4j.model.Policy;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Samples n continuations from each of many prefixes (SPO-chain's Monte-Carlo rollouts, GRPO's groups, evaluation):
 * every prefix is prefilled once into the {@link KvCache}, forked n ways (the continuations share its blocks; only
 * a partial tail block is copied, by the first write of each branch), and all continuations of all prefixes decode
 * together, one batched step per token, reading each shared prefix once per step.
 *
 * <p>Continuation j of prefix p draws its token at absolute position t from the sampler's stream
 * {@code (seed, p · 2^32 + j, t)}: a seed fixes every token, whatever the batch. Change the seed between calls that
 * should differ (a trainer derives it from the run seed and the iteration).
 *
 * <pre>{@code
 * try (KvCache pool = policy.createKvCache(16, 4096)) {
 *     ChainSampler sampler = new ChainSampler(policy, pool);
 *     List<List<Completion>> out = sampler.sample(prompts, 8, GenerationConfig.of(SamplerConfig.of(seed), 256, eos));
 * }
 * }</pre>
 *
 * Not thread-safe; the pool may be shared with other samplers used from the same thread.
 */
public final class ChainSampler {
    private final Policy policy;
    private final KvCache pool;
    private long decodedTokens;
    private long prefilledTokens;
    private long generatedTokens;
    private int maxStreamsPerBatch = Integer.MAX_VALUE;

    public ChainSampler(Policy policy, KvCache pool) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (pool == null) throw new IllegalArgumentException("pool must not be null");
        this.policy = policy;
        this.pool = pool;
    }

    /**
     * @param prefixes non-empty token arrays (prompt, or prompt and a partial response), each shorter than the context
     * @param n        continuations per prefix, &gt;= 1
     * @return [prefixes.size()][n] continuations, in order
     * @throws KvCacheExhaustedException when the pool is too small for the batch (nothing stays allocated)
     */
    public List<List<Completion>> sample(List<int[]> prefixes, int n, GenerationConfig gen) {
        return sample(prefixes, 0, n, gen);
    }

    /**
     * {@link #sample(List, int, GenerationConfig)} for prefixes {@code firstPrefix, firstPrefix + 1, ...} of a wider
     * request sampled in parts (a data-parallel rank's share): prefix p of {@code prefixes} draws from the streams of
     * prefix {@code firstPrefix + p}, so the parts together draw exactly the tokens of the whole request.
     *
     * @param firstPrefix index of {@code prefixes.get(0)} in the whole request, &gt;= 0
     */
    public List<List<Completion>> sample(List<int[]> prefixes, int firstPrefix, int n, GenerationConfig gen) {
        if (prefixes == null) throw new IllegalArgumentException("prefixes must not be null");
        if (firstPrefix < 0) throw new IllegalArgumentException("firstPrefix must be >= 0, got " + firstPrefix);
        if (gen == null) throw new IllegalArgumentException("gen must not be null");
        if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
        int context = policy.config().maxPositionEmbeddings();
        DecodeEngine.checkPrefixes(prefixes, context, "prefixes");
        List<List<Completion>> out = new ArrayList<>(prefixes.size());
        int perBatch = Math.max(1, maxStreamsPerBatch / n);
        for (int from = 0; from < prefixes.size(); from += perBatch) {
            out.addAll(sampleBatch(
                    prefixes.subList(from, Math.min(prefixes.size(), from + perBatch)),
                    firstPrefix + from,
                    n,
                    gen,
                    context));
        }
        return out;
    }

    /**
     * Caps the continuations decoded together: {@link #sample} takes the prefixes in batches of at most
     * {@code max(1, maxStreams / n)}, which bounds the pool blocks in use. Results do not depend on the cap.
     */
    public void setMaxStreamsPerBatch(int maxStreams) {
        if (maxStreams < 1) throw new IllegalArgumentException("maxStreams must be >= 1, got " + maxStreams);
        maxStreamsPerBatch = maxStreams;
    }

    private List<List<Completion>> sampleBatch(
            List<int[]> prefixes, int firstPrefix, int n, GenerationConfig gen, int context) {
        List<List<Completion>> out = new ArrayList<>();
        DecodeEngine engine = new DecodeEngine(policy, pool);
        List<Integer> live = new ArrayList<>();
        try (PointerScope scope = new PointerScope()) {
            int b = prefixes.size();
            int[] roots = new int[b];
            for (int p = 0; p < b; p++) {
                roots[p] = pool.newSequence();
                live.add(roots[p]);
            }
            Tensor last = policy.prefill(pool, roots, prefixes.toArray(new int[0][]));
            for (int[] x : prefixes) prefilledTokens += x.length;
            List<DecodeEngine.Stream> streams = new ArrayList<>(b * n);
            long[] rows = new long[b * n];
            for (int p = 0; p < b; p++) {
                int[] children = pool.fork(roots[p], n);
                for (int c : children) live.add(c);
                pool.release(roots[p]);
                live.remove(Integer.valueOf(roots[p]));
                int position = prefixes.get(p).length;
                int budget = Math.min(gen.maxResponseTokens(), context - position);
                for (int j = 0; j < n; j++) {
                    long streamId = ((long) (firstPrefix + p) << 32) | j;
                    streams.add(new DecodeEngine.Stream(children[j], streamId, position, budget));
                    rows[p * n + j] = p;
                }
            }
            Tensor first = last.index_select(0, RolloutTensors.longs(rows, policy.device()));
            engine.run(streams, first, gen);
            for (int p = 0; p < b; p++) {
                List<Completion> group = new ArrayList<>(n);
                for (int j = 0; j < n; j++) {
                    Completion c = streams.get(p * n + j).completion();
                    generatedTokens += c.length();
                    group.add(c);
                }
                out.add(group);
            }
        } finally {
            for (int s : live) pool.release(s);
            decodedTokens += engine.decodedTokens();
        }
        return out;
    }

    /** One greedy continuation of each prefix (evaluation): temperature and seed of {@code gen} do not matter. */
    public List<Completion> greedy(List<int[]> prefixes, GenerationConfig gen) {
        if (gen == null) throw new IllegalArgumentException("gen must not be null");
        List<List<Completion>> r =
                sample(prefixes, 1, gen.withSampling(gen.sampling().withGreedy(true)));
        List<Completion> out = new ArrayList<>(r.size());
        for (List<Completion> g : r) out.add(g.get(0));
        return out;
    }

    /** Tokens fed through decode steps by this sampler so far. */
    public long decodedTokens() {
        return decodedTokens;
    }

    /** Tokens of the completions this sampler has returned so far. */
    public long generatedTokens() {
        return generatedTokens;
    }

    /** Prefix tokens prefilled by this sampler so far. */
    public long prefilledTokens() {
        return prefilledTokens;
    }
}
