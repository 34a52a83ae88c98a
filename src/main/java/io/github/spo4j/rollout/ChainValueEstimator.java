package io.github.spo4j.rollout;

import io.github.spo4j.spo.advantage.ValueEstimator;
import io.github.spo4j.spo.data.MonteCarloValue;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The SPO core's {@link ValueEstimator} on {@link ChainSampler}: all states of a batch in one request, N continuations
 * each (every state's prefix prefilled once and shared by its N rollouts), each rollout scored on the state's
 * response prefix plus its continuation, combined by {@link MonteCarloValue#of}.
 *
 * <p>The sampling parameters of rollouts should be the training ones (SPO_SPEC §2). A rollout's length limit is what
 * is left of {@link GenerationConfig#maxResponseTokens} after the state's response prefix (at least one token).
 * Call {@link #setSeed} per iteration so the estimates of different iterations use fresh randomness; the calls after
 * the first since the seed was set (SPO-chain's tie refinement) draw from their own streams, so a state estimated
 * twice gets new rollouts.
 */
public final class ChainValueEstimator implements ValueEstimator {
    private final ChainSampler sampler;
    private final RewardFunction reward;
    private final GenerationConfig gen;
    private long rollouts;
    private Map<Integer, Integer> firstStates = Map.of();
    private long seed;
    private int callsSinceSeed;

    public ChainValueEstimator(ChainSampler sampler, GenerationConfig gen, RewardFunction reward) {
        if (sampler == null) throw new IllegalArgumentException("sampler must not be null");
        if (gen == null) throw new IllegalArgumentException("gen must not be null");
        if (reward == null) throw new IllegalArgumentException("reward must not be null");
        this.sampler = sampler;
        this.gen = gen;
        this.reward = reward;
        this.seed = gen.sampling().seed();
    }

    /** The seed of the next {@link #estimate} calls. */
    public void setSeed(long seed) {
        this.seed = seed;
        callsSinceSeed = 0;
    }

    /** The first call since the seed keeps it; call c &gt; 0 draws from its own stream family. */
    private GenerationConfig callGeneration() {
        long s = callsSinceSeed == 0 ? seed : seed ^ (0x9E3779B97F4A7C15L * callsSinceSeed);
        callsSinceSeed++;
        return gen.withSampling(gen.sampling().withSeed(s));
    }

    /**
     * The sampler requests an {@link #estimate} of {@code states} makes: states whose prefix leaves the same rollout
     * budget (response tokens left, at least one) go in one request, in their order. Maps each budget to its
     * request's size.
     */
    public SortedMap<Integer, Integer> requestSizes(List<StatePrefix> states) {
        if (states == null) throw new IllegalArgumentException("states must not be null");
        SortedMap<Integer, Integer> sizes = new TreeMap<>();
        for (StatePrefix s : states) sizes.merge(budget(s), 1, Integer::sum);
        return sizes;
    }

    /**
     * Places the next {@link #estimate} inside a wider one estimated in parts (a data-parallel rank's share of a
     * batch): its states of budget b draw from the streams of states {@code firstStates.get(b)}, +1, ... of the whole
     * request of that budget (0 where absent), so the parts draw exactly the rollouts of the whole. Holds for that
     * one call.
     */
    public void placeNextEstimate(Map<Integer, Integer> firstStates) {
        if (firstStates == null) throw new IllegalArgumentException("firstStates must not be null");
        for (var e : firstStates.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException(
                        "firstStates of budget " + e.getKey() + " must be >= 0, got " + e.getValue());
            }
        }
        this.firstStates = Map.copyOf(firstStates);
    }

    private int budget(StatePrefix s) {
        return Math.max(1, gen.maxResponseTokens() - s.responsePrefixLength());
    }

    @Override
    public double[] estimate(List<StatePrefix> states, int n) {
        if (states == null) throw new IllegalArgumentException("states must not be null");
        if (n < 1) throw new IllegalArgumentException("rollouts must be >= 1, got " + n);
        Map<Integer, Integer> first = firstStates;
        firstStates = Map.of();
        GenerationConfig gen = callGeneration();
        double[] values = new double[states.size()];
        if (states.isEmpty()) return values;
        // States whose prefix leaves different budgets go in separate requests (one limit per request).
        Map<Integer, List<Integer>> byBudget = new TreeMap<>();
        for (int i = 0; i < states.size(); i++) {
            byBudget.computeIfAbsent(budget(states.get(i)), k -> new ArrayList<>())
                    .add(i);
        }
        for (var e : byBudget.entrySet()) {
            List<Integer> idx = e.getValue();
            List<int[]> prefixes = new ArrayList<>(idx.size());
            for (int i : idx) prefixes.add(states.get(i).tokens());
            List<List<Completion>> out = sampler.sample(
                    prefixes, first.getOrDefault(e.getKey(), 0), n, gen.withMaxResponseTokens(e.getKey()));
            for (int k = 0; k < idx.size(); k++) {
                StatePrefix s = states.get(idx.get(k));
                int[] prefix = s.responsePrefixIds();
                double[] r = new double[n];
                FinishReason[] f = new FinishReason[n];
                for (int j = 0; j < n; j++) {
                    Completion c = out.get(k).get(j);
                    int[] full = Arrays.copyOf(prefix, prefix.length + c.length());
                    System.arraycopy(c.tokens(), 0, full, prefix.length, c.length());
                    r[j] = reward.score(s.questionId(), full, c.finishReason());
                    f[j] = c.finishReason();
                }
                values[idx.get(k)] = MonteCarloValue.of(r, f);
                rollouts += n;
            }
        }
        return values;
    }

    /** Rollouts sampled so far. */
    public long rollouts() {
        return rollouts;
    }
}
