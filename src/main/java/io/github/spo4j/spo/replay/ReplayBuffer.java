package io.github.spo4j.spo.replay;

import io.github.spo4j.spo.SpoArguments;
import io.github.spo4j.spo.data.TreeEdge;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * SPO-tree's replay buffer of {@link TreeEdge}s ({@code OnPolicyReplayBuffer}, SPO_SPEC §3), with the batch
 * fixed to {@code episodesPerIteration} as the on-policy episode generator does. Each iteration,
 * {@link #nextBatch}:
 *
 * <ol>
 *   <li>adds the new edges (tagged with the iteration they were generated in);
 *   <li>drops every edge whose age, iteration − edge.iteration, is &gt;= maxAge (8);
 *   <li>groups the edges by question id and samples up to maxPerQuestion (32) per question uniformly without
 *       replacement (all of a question's edges when it has no more);
 *   <li>removes the sampled edges, so an edge is trained on in at most one iteration;
 *   <li>forces the sample to episodesPerIteration edges: too many, a uniformly random subset; too few,
 *       ⌊E / n⌋ + 1 copies concatenated, shuffled and truncated to E. An empty sample stays empty.
 * </ol>
 *
 * Edges keep their generation-time log-probs (π_old) however long they wait. The randomness of each call comes
 * from a {@link Random} seeded by the construction seed and the iteration, so the same seed and the same calls give
 * the same batches, and a buffer {@link #restore restored} from its {@link #pending()} edges continues exactly. Groups
 * are visited in the order their question first appears in the buffer. Not thread-safe.
 */
public final class ReplayBuffer {
    /** Edges this many iterations old or older are dropped (the reference's hard-coded 8). */
    public static final int DEFAULT_MAX_AGE = 8;
    /** At most this many edges per question per iteration (the reference's hard-coded 32). */
    public static final int DEFAULT_MAX_PER_QUESTION = 32;

    private final int episodesPerIteration;
    private final int maxAge;
    private final int maxPerQuestion;
    private final long seed;
    private Random random;
    private final List<TreeEdge> edges = new ArrayList<>();
    private int lastIteration = -1;

    /**
     * One iteration's batch.
     *
     * @param edges   exactly episodesPerIteration edges (copies of one edge when the buffer had too few), or
     *                none when the buffer was empty; unmodifiable
     * @param sampled the distinct edges sampled from the buffer (and removed from it)
     * @param agedOut the edges dropped for age in this call
     */
    public record Batch(List<TreeEdge> edges, int sampled, int agedOut) {}

    /** With SPO's limits: age 8, 32 edges per question. */
    public ReplayBuffer(int episodesPerIteration, long seed) {
        this(episodesPerIteration, DEFAULT_MAX_AGE, DEFAULT_MAX_PER_QUESTION, seed);
    }

    /**
     * @param episodesPerIteration E, the batch size (SPO: 1024 for Rho GSM8K, 512 for Qwen MATH), &gt; 0
     * @param maxAge               edges of this age or older are dropped, &gt; 0
     * @param maxPerQuestion       edges sampled per question, &gt; 0
     * @param seed                 seed of the sampling and shuffling
     * @throws IllegalArgumentException naming the argument at fault
     */
    public ReplayBuffer(int episodesPerIteration, int maxAge, int maxPerQuestion, long seed) {
        SpoArguments.positive(episodesPerIteration, "episodesPerIteration");
        SpoArguments.positive(maxAge, "maxAge");
        SpoArguments.positive(maxPerQuestion, "maxPerQuestion");
        this.episodesPerIteration = episodesPerIteration;
        this.maxAge = maxAge;
        this.maxPerQuestion = maxPerQuestion;
        this.seed = seed;
    }

    /**
     * Adds this iteration's edges and draws this iteration's batch.
     *
     * @param iteration the current iteration, &gt;= 0, not below the previous call's
     * @param newEdges  the edges generated in this iteration (each {@code edge.iteration() == iteration})
     * @throws IllegalArgumentException naming the argument at fault
     */
    public Batch nextBatch(int iteration, List<TreeEdge> newEdges) {
        SpoArguments.require(iteration >= 0, "iteration must be >= 0, got " + iteration);
        SpoArguments.require(
                iteration >= lastIteration,
                "iteration = " + iteration + " goes back before the previous iteration " + lastIteration);
        SpoArguments.notNull(newEdges, "newEdges");
        for (int i = 0; i < newEdges.size(); i++) {
            TreeEdge e = newEdges.get(i);
            SpoArguments.require(e != null, "newEdges[" + i + "] is null");
            SpoArguments.require(
                    e.iteration() == iteration,
                    "newEdges[" + i + "] was generated in iteration " + e.iteration()
                            + ", not in the current iteration " + iteration);
        }
        lastIteration = iteration;
        edges.addAll(newEdges);
        // Seeded per call, so that a buffer restored from a checkpoint draws what the original would have.
        random = new Random(seed ^ (0x9E3779B97F4A7C15L * (iteration + 1)));

        int before = edges.size();
        edges.removeIf(e -> iteration - e.iteration() >= maxAge);
        int agedOut = before - edges.size();

        Map<Integer, List<TreeEdge>> byQuestion = new LinkedHashMap<>();
        for (TreeEdge e : edges)
            byQuestion.computeIfAbsent(e.questionId(), q -> new ArrayList<>()).add(e);
        List<TreeEdge> sampled = new ArrayList<>();
        for (List<TreeEdge> group : byQuestion.values()) {
            if (group.size() > maxPerQuestion) {
                partialShuffle(group, maxPerQuestion);
                sampled.addAll(group.subList(0, maxPerQuestion));
            } else {
                sampled.addAll(group);
            }
        }
        // By identity: two equal edges (same tokens, same advantage) are still two samples.
        Set<TreeEdge> used = Collections.newSetFromMap(new IdentityHashMap<>());
        used.addAll(sampled);
        edges.removeIf(used::contains);

        return new Batch(Collections.unmodifiableList(toEpisodeCount(sampled)), sampled.size(), agedOut);
    }

    /** Edges waiting in the buffer. */
    public int size() {
        return edges.size();
    }

    /** The edges waiting in the buffer, in buffer order (what a checkpoint saves). */
    public List<TreeEdge> pending() {
        return List.copyOf(edges);
    }

    /** The iteration of the last {@link #nextBatch} call, or −1 before the first. */
    public int lastIteration() {
        return lastIteration;
    }

    /**
     * Puts a saved buffer's state back: its {@link #pending()} edges and {@link #lastIteration()}. Together with the
     * same constructor arguments, the restored buffer returns what the saved one would have.
     *
     * @throws IllegalArgumentException naming the argument at fault, or when the buffer was already used
     */
    public void restore(List<TreeEdge> pending, int lastIteration) {
        SpoArguments.notNull(pending, "pending");
        SpoArguments.require(lastIteration >= -1, "lastIteration must be >= -1, got " + lastIteration);
        SpoArguments.require(this.lastIteration == -1 && edges.isEmpty(), "restore needs a fresh buffer");
        for (int i = 0; i < pending.size(); i++) {
            TreeEdge e = pending.get(i);
            SpoArguments.require(e != null, "pending[" + i + "] is null");
            SpoArguments.require(
                    e.iteration() <= lastIteration,
                    "pending[" + i + "] was generated in iteration " + e.iteration() + ", after lastIteration "
                            + lastIteration);
        }
        edges.addAll(pending);
        this.lastIteration = lastIteration;
    }

    public int episodesPerIteration() {
        return episodesPerIteration;
    }

    public int maxAge() {
        return maxAge;
    }

    public int maxPerQuestion() {
        return maxPerQuestion;
    }

    private List<TreeEdge> toEpisodeCount(List<TreeEdge> sampled) {
        int n = sampled.size(), e = episodesPerIteration;
        if (n == 0 || n == e) return sampled;
        List<TreeEdge> pool = sampled;
        if (n < e) {
            pool = new ArrayList<>((e / n + 1) * n);
            for (int copy = 0; copy < e / n + 1; copy++) pool.addAll(sampled);
        }
        Collections.shuffle(pool, random);
        return new ArrayList<>(pool.subList(0, e));
    }

    /** Moves a uniform random k-subset of the list to its front (the first k steps of Fisher–Yates). */
    private void partialShuffle(List<TreeEdge> list, int k) {
        for (int i = 0; i < k; i++) Collections.swap(list, i, i + random.nextInt(list.size() - i));
    }
}
