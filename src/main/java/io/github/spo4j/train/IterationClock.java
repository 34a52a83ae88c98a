package io.github.spo4j.train;

import io.github.spo4j.model.TargetBatch;
import java.util.Arrays;
import java.util.List;

/**
 * Where one iteration's time goes, phase by phase, and how many tokens its forwards processed against how many of
 * them are unique. Sequences that share a prompt or a tree's upper segments repeat those tokens, and a forward over
 * them recomputes each repetition; the unique count is what a forward that computes every shared prefix once would
 * process ({@link TargetBatch#uniqueTokens}).
 */
final class IterationClock {
    /** The phases an iteration's step is split into; what none of them covers (rewards, advantages) is "other". */
    enum Phase {
        SAMPLING,
        ROLLOUTS,
        OLD_LOGP,
        REF_LOGP,
        FORWARD_BACKWARD,
        OPTIMIZER,
        /** Data-parallel exchanges: gathers of episodes and edges, sums of statistics, the gradient all-reduce. */
        COMMUNICATION
    }

    private final long[] nanos = new long[Phase.values().length];
    private long trainTokens, trainUniqueTokens, logprobTokens, logprobUniqueTokens, allReducedBytes;

    void reset() {
        Arrays.fill(nanos, 0);
        trainTokens = trainUniqueTokens = logprobTokens = logprobUniqueTokens = allReducedBytes = 0;
    }

    /** Gradient bytes one rank sent into all-reduces. */
    void countAllReduced(long bytes) {
        allReducedBytes += bytes;
    }

    long allReducedBytes() {
        return allReducedBytes;
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

    /** The distinct prefixes of the sequences {@code queries[k] + targets[k]} ({@link TargetBatch#uniqueTokens}). */
    static long uniqueTokens(List<int[]> queries, List<int[]> targets) {
        if (queries.isEmpty() && targets.isEmpty()) return 0;
        return TargetBatch.ofPairs(queries.toArray(new int[0][]), targets.toArray(new int[0][]))
                .uniqueTokens();
    }
}
