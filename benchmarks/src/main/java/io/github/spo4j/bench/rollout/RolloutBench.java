package io.github.spo4j.bench.rollout;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.rollout.SampledTree;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.rollout.TreeShape;
import io.github.spo4j.tasks.FinishReason;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.presets.openblas_nolapack;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Generation through the shared KV cache against the same generation with nothing shared: throughput and peak KV
 * memory of {@link TreeSampler} (SPO-tree) and {@link ChainSampler} (SPO-chain's rollouts), with
 * {@link ModelConfig#tiny()} on the CPU.
 *
 * <p>Workloads (fixed seed, T = 1, no top-k / top-p, EOS = 2, prompts of random ids in [3, V)):
 * <ul>
 *   <li><b>tree</b>: {@code trees} prompts of P tokens, shape 6-6-6 with M-token segments, the last level running
 *       to EOS or the response limit. Shared: {@link TreeSampler#sample}. Unshared: every leaf of those trees is a
 *       sequence of its own, prefilled with its prompt and decoded along its whole path.</li>
 *   <li><b>chain</b>: {@code prefixes} prompts of P tokens, {@code rollouts} continuations each. Shared:
 *       {@link ChainSampler#sample}. Unshared: prefixes × rollouts sequences, each prefilled with its prefix.</li>
 * </ul>
 * The unshared baseline ({@link #unshared}) batches like the samplers do: one prefill for all its sequences (in
 * chunks of at most {@value #PREFILL_CHUNK_TOKENS} tokens), then one {@link Policy#decode} call per step for every
 * sequence still running, with {@code minSharedTokens = Integer.MAX_VALUE} (plain paged attention). Each of its
 * sequences draws the token at absolute position p from the sampler stream of the tree node (or rollout) that
 * owns that token, so it must reproduce the shared samplers' tokens exactly: {@link #tree} and {@link #chain} check
 * that and throw {@link IllegalStateException} if any token differs.
 *
 * <p>Per workload and mode: the median wall time of whole sampling calls (prefill included) after warm-up runs,
 * the delivered response tokens (Σ over leaves or rollouts of the whole response length, the same in both modes),
 * tokens/s = delivered / time, prompt tokens prefilled, tokens fed through decode steps, and the pool's peak bytes
 * in use ({@link KvCache#resetPeak} before the call, {@link KvCache#peakBytesInUse} after: whole blocks of
 * {@link Config#blockSize} tokens).
 */
@SuppressWarnings("try") // PointerScope is opened for its effect: it frees what is created inside
public final class RolloutBench {
    /** Prompts never hold PAD, BOS or EOS of {@link ModelConfig#tiny()}. */
    public static final int FIRST_PROMPT_ID = 3;

    public static final int EOS = 2;
    /** The unshared baseline prefills at most this many tokens per call (bounds its temporaries, not its work). */
    public static final int PREFILL_CHUNK_TOKENS = 65_536;
    /** BUILD_NOTES.md, "libtorch on 2 CPU cores from Java": sampling was fastest with torch 2 / BLAS 1 threads. */
    public static final int BLAS_THREADS = 1;

    private RolloutBench() {}

    /**
     * The workloads.
     *
     * @param promptTokens          P, each prompt's length
     * @param trees                 prompts of the tree workload
     * @param treeShape             branching and M
     * @param treeMaxResponseTokens a tree response's limit, over all its segments
     * @param prefixes              prompts of the chain workload
     * @param rollouts              continuations per prefix
     * @param chainMaxResponseTokens a rollout's limit
     * @param blockSize             the pool's tokens per block
     * @param seed                  weights, prompts and sampler seed
     */
    public record Config(
            int promptTokens,
            int trees,
            TreeShape treeShape,
            int treeMaxResponseTokens,
            int prefixes,
            int rollouts,
            int chainMaxResponseTokens,
            int blockSize,
            long seed) {
        public Config {
            if (promptTokens < 1 || trees < 1 || prefixes < 1 || rollouts < 1 || blockSize < 1) {
                throw new IllegalArgumentException("promptTokens, trees, prefixes, rollouts, blockSize must be >= 1");
            }
            if (treeShape == null) throw new IllegalArgumentException("treeShape must not be null");
            if (treeMaxResponseTokens < 1 || chainMaxResponseTokens < 1) {
                throw new IllegalArgumentException("the response limits must be >= 1");
            }
        }

        /** {@code QuickBench}'s default: one 6-6-6 tree (M = 16, 64 tokens), 2 × 9 rollouts (64), P = 512. */
        public static Config quick() {
            return new Config(512, 1, TreeShape.parse("6-6-6", 16), 64, 2, 9, 64, 16, 1);
        }

        /** {@code --no-quick} and the recorded CSV: 4 trees, 4 × 9 rollouts (SPO-chain's N = 9), P = 512. */
        public static Config full() {
            return new Config(512, 4, TreeShape.parse("6-6-6", 16), 64, 4, 9, 64, 16, 1);
        }

        public Config withSeed(long s) {
            return new Config(
                    promptTokens,
                    trees,
                    treeShape,
                    treeMaxResponseTokens,
                    prefixes,
                    rollouts,
                    chainMaxResponseTokens,
                    blockSize,
                    s);
        }

        String treeLabel() {
            return shapeName(treeShape) + " M=" + treeShape.segmentTokens() + " trees=" + trees + " P=" + promptTokens
                    + " max=" + treeMaxResponseTokens;
        }

        String chainLabel() {
            return prefixes + "x" + rollouts + " P=" + promptTokens + " max=" + chainMaxResponseTokens;
        }
    }

    /**
     * One workload in one mode.
     *
     * @param medianMs       median wall time of one whole sampling call
     * @param responseTokens delivered response tokens, Σ over leaves or rollouts
     * @param prefillTokens  prompt tokens prefilled
     * @param decodeTokens   tokens fed through decode steps
     * @param peakKvBytes    the pool's peak bytes in use during the call
     * @param sequences      the sequences that carry responses (leaves or rollouts)
     */
    public record Measurement(
            String workload,
            String mode,
            String shape,
            double medianMs,
            long responseTokens,
            long prefillTokens,
            long decodeTokens,
            long peakKvBytes,
            int sequences) {
        public double tokensPerSecond() {
            return responseTokens / (medianMs * 1e-3);
        }
    }

    /**
     * Both modes of one workload.
     *
     * @param maxLogprobDiff the largest |Δ log-prob| between the modes' tokens (the tokens are equal)
     */
    public record Comparison(Measurement shared, Measurement unshared, double maxLogprobDiff) {
        /** Shared throughput over unshared (tokens/s ratio; the same tokens, so also the time ratio). */
        public double throughputGain() {
            return unshared.medianMs() / shared.medianMs();
        }

        /** Unshared peak KV bytes over shared. */
        public double kvReduction() {
            return (double) unshared.peakKvBytes() / shared.peakKvBytes();
        }
    }

    /**
     * Both workloads on a {@link Policy#random random} {@link ModelConfig#tiny()}, with libtorch's BLAS on
     * {@link #BLAS_THREADS} threads for the duration (torch's and our kernels' threads are the caller's).
     */
    public static List<Comparison> run(Config c, int warmup, int repeats) {
        int blasBefore = openblas_nolapack.blas_get_num_threads();
        openblas_nolapack.blas_set_num_threads(BLAS_THREADS);
        try (Policy policy = Policy.random(ModelConfig.tiny(), c.seed())) {
            return List.of(tree(policy, c, warmup, repeats), chain(policy, c, warmup, repeats));
        } finally {
            openblas_nolapack.blas_set_num_threads(blasBefore);
        }
    }

    // ---- workloads -------------------------------------------------------------------------------------------

    /** The tree workload, shared and unshared; the unshared leaves are checked against the trees. */
    public static Comparison tree(Policy policy, Config c, int warmup, int repeats) {
        List<int[]> prompts =
                prompts(c.trees(), c.promptTokens(), policy.config().vocabSize(), c.seed());
        GenerationConfig gen = generation(c.seed(), c.treeMaxResponseTokens());
        TreeShape shape = c.treeShape();
        int leavesPerTree = Math.toIntExact(shape.maxLeaves());
        int perSeq = blocksFor(c.promptTokens() + c.treeMaxResponseTokens(), c.blockSize()) + 1;
        try (KvCache pool = KvCache.create(
                policy.kvCacheConfig(c.blockSize(), c.trees() * leavesPerTree * perSeq + 16), Backend.autoHost())) {
            TreeSampler sampler = new TreeSampler(policy, pool);
            List<List<SampledTree>> last = new ArrayList<>(1);
            long[] counts = new long[2];
            Timed shared = time(pool, warmup, repeats, () -> {
                long p0 = sampler.prefilledTokens(), d0 = sampler.decodedTokens();
                last.clear();
                last.add(sampler.sample(prompts, shape, gen));
                counts[0] = sampler.prefilledTokens() - p0;
                counts[1] = sampler.decodedTokens() - d0;
            });
            List<SampledTree> trees = last.get(0);
            List<Request> requests = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            List<float[]> expectedLogprobs = new ArrayList<>();
            long delivered = 0;
            for (int t = 0; t < trees.size(); t++) {
                SampledTree tree = trees.get(t);
                for (int leaf : tree.leaves()) {
                    int[] path = tree.path(leaf);
                    long[] streams = new long[path.length];
                    for (int k = 0; k < path.length; k++)
                        streams[k] = tree.nodes().get(path[k]).streamId();
                    requests.add(new Request(prompts.get(t), streams, shape.segmentTokens()));
                    expected.add(tree.responseIds(leaf));
                    expectedLogprobs.add(pathLogprobs(tree, path));
                    delivered += tree.responseIds(leaf).length;
                }
            }
            Measurement sharedM = new Measurement(
                    "tree",
                    "shared",
                    c.treeLabel(),
                    shared.medianMs,
                    delivered,
                    counts[0],
                    counts[1],
                    shared.peakBytes,
                    requests.size());
            return compare(policy, pool, requests, gen, expected, expectedLogprobs, sharedM, warmup, repeats);
        }
    }

    /** The chain workload, shared and unshared; the unshared rollouts are checked against the shared ones. */
    public static Comparison chain(Policy policy, Config c, int warmup, int repeats) {
        List<int[]> prefixes =
                prompts(c.prefixes(), c.promptTokens(), policy.config().vocabSize(), c.seed() + 1);
        GenerationConfig gen = generation(c.seed() + 1, c.chainMaxResponseTokens());
        int n = c.rollouts();
        int perSeq = blocksFor(c.promptTokens() + c.chainMaxResponseTokens(), c.blockSize()) + 1;
        try (KvCache pool = KvCache.create(
                policy.kvCacheConfig(c.blockSize(), c.prefixes() * n * perSeq + 16), Backend.autoHost())) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            List<List<List<Completion>>> last = new ArrayList<>(1);
            long[] counts = new long[2];
            Timed shared = time(pool, warmup, repeats, () -> {
                long p0 = sampler.prefilledTokens(), d0 = sampler.decodedTokens();
                last.clear();
                last.add(sampler.sample(prefixes, n, gen));
                counts[0] = sampler.prefilledTokens() - p0;
                counts[1] = sampler.decodedTokens() - d0;
            });
            List<Request> requests = new ArrayList<>();
            List<int[]> expected = new ArrayList<>();
            List<float[]> expectedLogprobs = new ArrayList<>();
            long delivered = 0;
            for (int p = 0; p < prefixes.size(); p++) {
                for (int j = 0; j < n; j++) {
                    Completion comp = last.get(0).get(p).get(j);
                    requests.add(new Request(prefixes.get(p), new long[] {((long) p << 32) | j}, Integer.MAX_VALUE));
                    expected.add(comp.tokens());
                    expectedLogprobs.add(comp.logprobs());
                    delivered += comp.length();
                }
            }
            Measurement sharedM = new Measurement(
                    "chain",
                    "shared",
                    c.chainLabel(),
                    shared.medianMs,
                    delivered,
                    counts[0],
                    counts[1],
                    shared.peakBytes,
                    requests.size());
            return compare(policy, pool, requests, gen, expected, expectedLogprobs, sharedM, warmup, repeats);
        }
    }

    /** Times the unshared replay of {@code requests} and checks its tokens against the shared run's. */
    private static Comparison compare(
            Policy policy,
            KvCache pool,
            List<Request> requests,
            GenerationConfig gen,
            List<int[]> expected,
            List<float[]> expectedLogprobs,
            Measurement shared,
            int warmup,
            int repeats) {
        List<Replay> last = new ArrayList<>(1);
        Timed t = time(pool, warmup, repeats, () -> {
            last.clear();
            last.add(unshared(policy, pool, requests, gen));
        });
        Replay r = last.get(0);
        double maxDiff = 0;
        long delivered = 0;
        for (int i = 0; i < requests.size(); i++) {
            int[] got = r.completions().get(i).tokens();
            delivered += got.length;
            if (!Arrays.equals(got, expected.get(i))) {
                throw new IllegalStateException(shared.workload() + ": unshared sequence " + i + " drew "
                        + Arrays.toString(got) + " but the shared sampler drew " + Arrays.toString(expected.get(i)));
            }
            float[] lp = r.completions().get(i).logprobs();
            for (int k = 0; k < lp.length; k++)
                maxDiff = Math.max(maxDiff, Math.abs(lp[k] - expectedLogprobs.get(i)[k]));
        }
        Measurement m = new Measurement(
                shared.workload(),
                "unshared",
                shared.shape(),
                t.medianMs,
                delivered,
                r.prefillTokens(),
                r.decodeTokens(),
                t.peakBytes,
                requests.size());
        return new Comparison(shared, m, maxDiff);
    }

    // ---- the unshared baseline -------------------------------------------------------------------------------

    /**
     * One unshared sequence: a prompt and the sampler streams of its response, token k drawn from
     * {@code streams[min(k / segmentTokens, streams.length − 1)]} (a tree leaf's path: one stream per segment; a
     * rollout: one stream and {@code segmentTokens = Integer.MAX_VALUE}).
     */
    public record Request(int[] prompt, long[] streams, int segmentTokens) {
        public Request {
            if (prompt == null || prompt.length == 0) throw new IllegalArgumentException("prompt must hold a token");
            if (streams == null || streams.length == 0) throw new IllegalArgumentException("streams must not be empty");
            if (segmentTokens < 1) throw new IllegalArgumentException("segmentTokens must be >= 1");
        }

        long stream(int k) {
            return streams[Math.min(k / segmentTokens, streams.length - 1)];
        }
    }

    /**
     * The unshared baseline's output.
     *
     * @param completions   one per request, in order
     * @param prefillTokens prompt tokens prefilled (Σ of the prompts' lengths)
     * @param decodeTokens  tokens fed through decode steps
     */
    public record Replay(List<Completion> completions, long prefillTokens, long decodeTokens) {}

    /**
     * Samples every request on a sequence of its own: a batched prefill of all prompts, then one
     * {@link Policy#decode decode(..., Integer.MAX_VALUE)} step per token for all sequences still running, each
     * stopping at EOS or {@link GenerationConfig#maxResponseTokens}. Sequences are released as they finish.
     */
    public static Replay unshared(Policy policy, KvCache pool, List<Request> requests, GenerationConfig gen) {
        int b = requests.size();
        int context = policy.config().maxPositionEmbeddings();
        int vocab = policy.config().vocabSize();
        int[] eos = gen.eosTokenIds();
        for (Request r : requests) {
            if (r.prompt().length + gen.maxResponseTokens() > context) {
                throw new IllegalArgumentException("a prompt and its response limit exceed the context of " + context);
            }
        }
        Sampler sampler = Sampler.create(Backend.CPU);
        int[] seqs = new int[b];
        Arrays.fill(seqs, -1);
        int[][] tokens = new int[b][gen.maxResponseTokens()];
        float[][] logprobs = new float[b][gen.maxResponseTokens()];
        int[] count = new int[b];
        FinishReason[] finish = new FinishReason[b];
        long prefill = 0, decode = 0;
        Tensor logits = null;
        try {
            for (int i = 0; i < b; i++) seqs[i] = pool.newSequence();
            // Batched prefill, in chunks of consecutive requests; logits [B, V] of every prompt's last token.
            try (PointerScope scope = new PointerScope()) {
                logits = torch.empty(new long[] {b, vocab}, new TensorOptions(ScalarType.Float), null);
                for (int from = 0; from < b; ) {
                    int to = from, chunk = 0;
                    while (to < b && (to == from || chunk + requests.get(to).prompt().length <= PREFILL_CHUNK_TOKENS)) {
                        chunk += requests.get(to++).prompt().length;
                    }
                    int[][] prompts = new int[to - from][];
                    for (int i = from; i < to; i++)
                        prompts[i - from] = requests.get(i).prompt();
                    Tensor part = policy.prefill(pool, Arrays.copyOfRange(seqs, from, to), prompts);
                    logits.narrow(0, from, to - from).copy_(part);
                    prefill += chunk;
                    from = to;
                }
                logits.retainReference();
            }
            int[] active = new int[b];
            for (int i = 0; i < b; i++) active[i] = i;
            int n = b;
            while (n > 0) {
                int[] drawn = new int[n];
                float[] lps = new float[n];
                Tensor next = null;
                try (PointerScope scope = new PointerScope()) {
                    long[] ids = new long[n];
                    int[] positions = new int[n];
                    for (int a = 0; a < n; a++) {
                        int i = active[a];
                        ids[a] = requests.get(i).stream(count[i]);
                        positions[a] = requests.get(i).prompt().length + count[i];
                    }
                    Tensor tok = torch.empty(new long[] {n}, new TensorOptions(ScalarType.Int), null);
                    Tensor lp = torch.empty(new long[] {n}, new TensorOptions(ScalarType.Float), null);
                    sampler.sample(
                            gen.sampling(),
                            logits,
                            torch.from_blob(new LongPointer(ids), new long[] {n}, new TensorOptions(ScalarType.Long)),
                            torch.from_blob(
                                    new IntPointer(positions), new long[] {n}, new TensorOptions(ScalarType.Int)),
                            tok,
                            lp);
                    new IntPointer(tok.data_ptr_int()).capacity(n).get(drawn);
                    new FloatPointer(lp.data_ptr_float()).capacity(n).get(lps);
                    int m = 0;
                    int[] feed = new int[n];
                    for (int a = 0; a < n; a++) {
                        int i = active[a];
                        tokens[i][count[i]] = drawn[a];
                        logprobs[i][count[i]++] = lps[a];
                        if (contains(eos, drawn[a])) {
                            finish[i] = FinishReason.EOS;
                        } else if (count[i] >= gen.maxResponseTokens()) {
                            finish[i] = FinishReason.LENGTH;
                        } else {
                            feed[m] = drawn[a];
                            active[m++] = i;
                            continue;
                        }
                        pool.release(seqs[i]);
                        seqs[i] = -1;
                    }
                    if (m > 0) {
                        int[] running = new int[m];
                        for (int a = 0; a < m; a++) running[a] = seqs[active[a]];
                        next = policy.decode(pool, running, Arrays.copyOf(feed, m), Integer.MAX_VALUE);
                        decode += m;
                        next.retainReference();
                    }
                    n = m;
                }
                logits.releaseReference();
                logits = next;
            }
        } finally {
            if (logits != null) logits.releaseReference();
            for (int s : seqs) if (s >= 0) pool.release(s);
        }
        List<Completion> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            out.add(new Completion(
                    Arrays.copyOf(tokens[i], count[i]), Arrays.copyOf(logprobs[i], count[i]), finish[i]));
        }
        return new Replay(out, prefill, decode);
    }

    // ---- harness ---------------------------------------------------------------------------------------------

    private record Timed(double medianMs, long peakBytes) {}

    /** {@code warmup} untimed runs, then the median of {@code repeats} timed ones; the peak of the last run. */
    private static Timed time(KvCache pool, int warmup, int repeats, Runnable run) {
        for (int i = 0; i < warmup; i++) run.run();
        double[] ms = new double[Math.max(1, repeats)];
        long peak = 0;
        for (int i = 0; i < ms.length; i++) {
            if (pool.blocksInUse() != 0) throw new IllegalStateException("blocks left in use: " + pool.blocksInUse());
            pool.resetPeak();
            long t0 = System.nanoTime();
            run.run();
            ms[i] = (System.nanoTime() - t0) * 1e-6;
            peak = pool.peakBytesInUse();
        }
        Arrays.sort(ms);
        int k = ms.length;
        return new Timed(k % 2 == 1 ? ms[k / 2] : 0.5 * (ms[k / 2 - 1] + ms[k / 2]), peak);
    }

    /** Prints one row per workload and mode, with the shared rows' gains over unshared. */
    public static void print(List<Comparison> results, PrintWriter out) {
        String fmt = "%-6s %-9s %-38s %10s %8s %10s %9s %8s %8s %8s %8s%n";
        out.printf(
                fmt,
                "case",
                "mode",
                "shape",
                "median ms",
                "resp tok",
                "tokens/s",
                "prefill",
                "decode",
                "KV MiB",
                "thpt x",
                "KV x");
        for (Comparison c : results) {
            for (Measurement m : List.of(c.unshared(), c.shared())) {
                boolean s = m == c.shared();
                out.printf(
                        fmt,
                        m.workload(),
                        m.mode(),
                        m.shape(),
                        String.format(Locale.ROOT, "%.1f", m.medianMs()),
                        m.responseTokens(),
                        String.format(Locale.ROOT, "%.0f", m.tokensPerSecond()),
                        m.prefillTokens(),
                        m.decodeTokens(),
                        String.format(Locale.ROOT, "%.2f", m.peakKvBytes() / (double) (1 << 20)),
                        s ? String.format(Locale.ROOT, "%.2fx", c.throughputGain()) : "-",
                        s ? String.format(Locale.ROOT, "%.2fx", c.kvReduction()) : "-");
            }
        }
        out.println();
        out.println(
                "rollout: ModelConfig.tiny() (random weights, V 64, hidden 64, 2 layers, GQA 4:2, D 16) on the CPU,");
        out.println(
                "T 1, EOS 2, pool blocks of 16 tokens. shared = TreeSampler / ChainSampler (one prefill per prompt,");
        out.println("forks, shared-prefix attention); unshared = every leaf / rollout prefilled and decoded alone");
        out.println("(plain paged attention), batched per step, same sampler streams: the same tokens (checked).");
        out.println(
                "resp tok: delivered response tokens (each leaf's whole response); thpt x = unshared ms / shared ms;");
        out.println("KV x = unshared peak KV bytes / shared (the pool's peak blocks in use).");
        for (Comparison c : results) {
            out.printf(
                    Locale.ROOT,
                    "%s: %d sequences, identical tokens, max |dlogprob| %.1e%n",
                    c.shared().workload(),
                    c.shared().sequences(),
                    c.maxLogprobDiff());
        }
        out.flush();
    }

    // ---- inputs ----------------------------------------------------------------------------------------------

    /** {@code count} prompts of {@code length} ids drawn uniformly from [3, V) (no PAD, BOS or EOS). */
    static List<int[]> prompts(int count, int length, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>(count);
        for (int p = 0; p < count; p++) {
            int[] x = new int[length];
            for (int i = 0; i < length; i++) x[i] = FIRST_PROMPT_ID + r.nextInt(vocab - FIRST_PROMPT_ID);
            out.add(x);
        }
        return out;
    }

    static GenerationConfig generation(long seed, int maxResponseTokens) {
        return GenerationConfig.of(SamplerConfig.of(seed), maxResponseTokens, EOS);
    }

    private static float[] pathLogprobs(SampledTree tree, int[] path) {
        float[] lps = new float[0];
        for (int k : path) {
            float[] seg = tree.nodes().get(k).segment().logprobs();
            int at = lps.length;
            lps = Arrays.copyOf(lps, at + seg.length);
            System.arraycopy(seg, 0, lps, at, seg.length);
        }
        return lps;
    }

    private static int blocksFor(int tokens, int blockSize) {
        return (tokens + blockSize - 1) / blockSize;
    }

    private static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }

    private static String shapeName(TreeShape shape) {
        StringBuilder s = new StringBuilder();
        int[] b = shape.branching();
        for (int d = 0; d < b.length; d++) s.append(d == 0 ? "" : "-").append(b[d]);
        return s.toString();
    }
}
