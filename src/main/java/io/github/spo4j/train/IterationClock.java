package io.github.spo4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where one iteration's time goes, phase by phase, and how many tokens its forwards processed against how many of
 * them are unique. A token is unique once per distinct prefix: sequences that share a prompt or a tree's upper
 * segments repeat those tokens, and a forward over them recomputes each repetition. The unique count is what a
 * forward that computes every shared prefix once would process: the number of nodes of the token trie of the
 * sequences,
 * <pre>
 *   unique = Σ_i |s_i| − Σ_{i&gt;0} lcp(s_(i−1), s_(i))   over the sequences in lexicographic order,
 * </pre>
 * since in that order a sequence's longest common prefix with any earlier one is the one with its predecessor.
 */
final class IterationClock {
    /** The phases an iteration's step is split into; what none of them covers (rewards, advantages) is "other". */
    enum Phase {
        SAMPLING,
        ROLLOUTS,
        OLD_LOGP,
        REF_LOGP,
        FORWARD_BACKWARD,
        OPTIMIZER
    }

    private final long[] nanos = new long[Phase.values().length];
    private long trainTokens, trainUniqueTokens, logprobTokens, logprobUniqueTokens;

    void reset() {
        Arrays.fill(nanos, 0);
        trainTokens = trainUniqueTokens = logprobTokens = logprobUniqueTokens = 0;
    }

    /** Adds the time since {@code startNanos} ({@link System#nanoTime}) to {@code phase}. */
    void stop(Phase phase, long startNanos) {
        nanos[phase.ordinal()] += System.nanoTime() - startNanos;
    }

    double seconds(Phase phase) {
        return nanos[phase.ordinal()] / 1e9;
    }

    /** A no-grad log-prob forward over {@code queries[k] + targets[k]}. */
    void countLogprobForward(List<int[]> queries, List<int[]> targets) {
        logprobTokens += totalTokens(queries, targets);
        logprobUniqueTokens += uniqueTokens(queries, targets);
    }

    /** One epoch of the training forward and backward over {@code queries[k] + targets[k]}. */
    void countTrainingEpoch(List<int[]> queries, List<int[]> targets) {
        trainTokens += totalTokens(queries, targets);
        trainUniqueTokens += uniqueTokens(queries, targets);
    }

    long trainTokens() {
        return trainTokens;
    }

    long trainUniqueTokens() {
        return trainUniqueTokens;
    }

    long logprobTokens() {
        return logprobTokens;
    }

    long logprobUniqueTokens() {
        return logprobUniqueTokens;
    }

    static long totalTokens(List<int[]> queries, List<int[]> targets) {
        long n = 0;
        for (int k = 0; k < queries.size(); k++) n += queries.get(k).length + targets.get(k).length;
        return n;
    }

    /** The distinct prefixes of the sequences {@code queries[k] + targets[k]}: the nodes of their token trie. */
    static long uniqueTokens(List<int[]> queries, List<int[]> targets) {
        if (queries.size() != targets.size()) {
            throw new IllegalArgumentException(
                    "queries has " + queries.size() + " entries but targets has " + targets.size());
        }
        List<int[]> sequences = new ArrayList<>(queries.size());
        for (int k = 0; k < queries.size(); k++) {
            int[] q = queries.get(k), t = targets.get(k);
            int[] s = Arrays.copyOf(q, q.length + t.length);
            System.arraycopy(t, 0, s, q.length, t.length);
            sequences.add(s);
        }
        sequences.sort(Arrays::compare);
        long unique = 0;
        int[] previous = new int[0];
        for (int[] s : sequences) {
            int m = Arrays.mismatch(previous, s);
            int common = m < 0 ? s.length : m;
            unique += s.length - common;
            previous = s;
        }
        return unique;
    }
}
