package io.github.spo4j.rollout;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheExhaustedException;
import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Samples SPO-trees (SPO_SPEC §3) for a batch of prompts, level by level: each prompt is prefilled once, each node
 * that must branch forks its pool sequence b_d ways (children share every block of the text above them), and all
 * the segments of a level, across all trees, decode together in batched steps whose attention reads each shared
 * run of the cache once per step.
 *
 * <p>A child that ends with EOS or a stop string is a leaf. A child that fills its M-token segment is expanded at the
 * next level; at the last level segments run to EOS, a stop string or the response limit
 * ({@link GenerationConfig#maxResponseTokens}, and the model's context), and a node cut there is a truncated leaf.
 * Before a node branches, its last token is fed once, on its own sequence, so its children start from shared logits
 * and a shared cache. With {@link TreeShape#branchBelow} a segment that reaches an uncertain step stops before it and
 * is expanded from the logits of that step, which its children then draw.
 *
 * <p>Node i of tree t draws its token at absolute position p from the sampler's stream {@code (seed, t · 2^32 + i, p)}:
 * a seed fixes the trees, and each leaf's tokens are exactly those an unshared decode of its path would draw with
 * the same streams.
 */
public final class TreeSampler {
    private final Policy policy;
    private final KvCache pool;
    private long decodedTokens;
    private long prefilledTokens;
    private long generatedTokens;

    public TreeSampler(Policy policy, KvCache pool) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (pool == null) throw new IllegalArgumentException("pool must not be null");
        this.policy = policy;
        this.pool = pool;
    }

    private record Expansion(int tree, int node, int seq, int depth, int usedTokens, int position) {}

    /**
     * @param prompts non-empty token arrays, each shorter than the model's context
     * @return one tree per prompt, in order
     * @throws KvCacheExhaustedException when the pool is too small (nothing stays allocated)
     */
    public List<SampledTree> sample(List<int[]> prompts, TreeShape shape, GenerationConfig gen) {
        return sample(prompts, 0, shape, gen);
    }

    /**
     * {@link #sample(List, TreeShape, GenerationConfig)} for trees {@code firstTree, firstTree + 1, ...} of a wider
     * request sampled in parts (a data-parallel rank's share): tree t of {@code prompts} draws from the streams of
     * tree {@code firstTree + t}, so the parts together draw exactly the trees of the whole request.
     *
     * @param firstTree index of {@code prompts.get(0)}'s tree in the whole request, &gt;= 0
     */
    public List<SampledTree> sample(List<int[]> prompts, int firstTree, TreeShape shape, GenerationConfig gen) {
        if (prompts == null) throw new IllegalArgumentException("prompts must not be null");
        if (firstTree < 0) throw new IllegalArgumentException("firstTree must be >= 0, got " + firstTree);
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        if (gen == null) throw new IllegalArgumentException("gen must not be null");
        int context = policy.config().maxPositionEmbeddings();
        DecodeEngine.checkPrefixes(prompts, context, "prompts");
        int trees = prompts.size();
        List<List<SampledTree.Node>> nodes = new ArrayList<>(trees);
        for (int t = 0; t < trees; t++) nodes.add(new ArrayList<>());
        if (trees == 0) return List.of();
        DecodeEngine engine = new DecodeEngine(policy, pool);
        Set<Integer> live = new HashSet<>();
        Tensor logits = null;
        try {
            List<Expansion> frontier = new ArrayList<>(trees);
            try (PointerScope scope = new PointerScope()) {
                int[] roots = new int[trees];
                for (int t = 0; t < trees; t++) {
                    roots[t] = pool.newSequence();
                    live.add(roots[t]);
                    frontier.add(new Expansion(t, SamplingTree.ROOT, roots[t], 0, 0, prompts.get(t).length));
                    prefilledTokens += prompts.get(t).length;
                }
                logits = policy.prefill(pool, roots, prompts.toArray(new int[0][]));
                logits.retainReference();
            }
            int levels = shape.depth();
            int segment = shape.segmentTokens();
            for (int d = 0; d < levels && !frontier.isEmpty(); d++) {
                int b = shape.branching()[d];
                boolean last = d == levels - 1;
                List<DecodeEngine.Stream> streams = new ArrayList<>();
                List<int[]> owners = new ArrayList<>(); // {tree, node} of each stream
                long[] rows = new long[frontier.size() * b];
                for (int e = 0; e < frontier.size(); e++) {
                    Expansion x = frontier.get(e);
                    int[] children = pool.fork(x.seq, b);
                    for (int c : children) live.add(c);
                    pool.release(x.seq);
                    live.remove(x.seq);
                    int remaining = Math.min(gen.maxResponseTokens() - x.usedTokens, context - x.position);
                    int budget = last ? remaining : Math.min(segment, remaining);
                    double branchBelow = last ? 0 : shape.branchBelow();
                    List<SampledTree.Node> treeNodes = nodes.get(x.tree);
                    for (int j = 0; j < b; j++) {
                        int index = treeNodes.size();
                        treeNodes.add(null); // filled once sampled
                        long stream = ((long) (firstTree + x.tree) << 32) | index;
                        streams.add(new DecodeEngine.Stream(children[j], stream, x.position, budget, branchBelow));
                        owners.add(new int[] {x.tree, index, x.node, x.usedTokens});
                        rows[e * b + j] = e;
                    }
                }
                try (PointerScope scope = new PointerScope()) {
                    Tensor first = logits.index_select(0, RolloutTensors.longs(rows, policy.device()));
                    logits.releaseReference();
                    logits = null;
                    engine.run(streams, first, gen);
                }
                List<Expansion> next = new ArrayList<>();
                List<DecodeEngine.Stream> expanded = new ArrayList<>();
                for (int i = 0; i < streams.size(); i++) {
                    DecodeEngine.Stream s = streams.get(i);
                    int[] o = owners.get(i);
                    Completion c = s.completion();
                    nodes.get(o[0]).set(o[1], new SampledTree.Node(o[2], d + 1, s.streamId, c));
                    int used = o[3] + c.length();
                    boolean expand = !last
                            && c.finishReason() == FinishReason.LENGTH
                            && (c.length() == segment || s.stoppedBeforeBranch())
                            && used < gen.maxResponseTokens()
                            && s.position < context;
                    if (expand) {
                        next.add(new Expansion(o[0], o[1], s.seq, d + 1, used, s.position));
                        expanded.add(s);
                    } else {
                        pool.release(s.seq);
                        live.remove(s.seq);
                    }
                }
                try {
                    if (!expanded.isEmpty()) logits = nextLogits(engine, expanded);
                } finally {
                    for (DecodeEngine.Stream s : streams) {
                        if (s.branchLogits != null) s.branchLogits.releaseReference();
                    }
                }
                frontier = next;
            }
        } finally {
            if (logits != null) logits.releaseReference();
            for (int s : live) pool.release(s);
            decodedTokens += engine.decodedTokens();
        }
        List<SampledTree> out = new ArrayList<>(trees);
        for (int t = 0; t < trees; t++) {
            SampledTree tree = new SampledTree(prompts.get(t), shape.depth(), nodes.get(t));
            generatedTokens += tree.generatedTokens();
            out.add(tree);
        }
        return out;
    }

    /**
     * The next-token logits [E, V] of the nodes to expand, in order (retained): a stream that filled its segment has
     * its last token fed now, one that stopped before an uncertain step gives the logits it kept.
     */
    private static Tensor nextLogits(DecodeEngine engine, List<DecodeEngine.Stream> expanded) {
        List<DecodeEngine.Stream> toFeed = new ArrayList<>();
        for (DecodeEngine.Stream s : expanded) if (!s.stoppedBeforeBranch()) toFeed.add(s);
        try (PointerScope scope = new PointerScope()) {
            Tensor fed = toFeed.isEmpty() ? null : engine.feedLast(toFeed);
            Tensor out;
            if (toFeed.size() == expanded.size()) {
                out = fed;
            } else {
                TensorVector rows = new TensorVector();
                int fedRow = 0;
                for (DecodeEngine.Stream s : expanded) {
                    rows.push_back(s.stoppedBeforeBranch() ? s.branchLogits : fed.narrow(0, fedRow++, 1));
                }
                out = torch.cat(rows, 0);
            }
            out.retainReference();
            return out;
        }
    }

    /** Tokens fed through decode steps by this sampler so far. */
    public long decodedTokens() {
        return decodedTokens;
    }

    /** Tokens of the segments of the trees this sampler has returned so far. */
    public long generatedTokens() {
        return generatedTokens;
    }

    /** Prompt tokens prefilled by this sampler so far. */
    public long prefilledTokens() {
        return prefilledTokens;
    }
}
