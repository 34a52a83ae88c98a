package io.github.spo4j.report;

/**
 * One evaluation of one run: the policy trained by {@code algorithm} from seed {@code seed}, measured after
 * {@code iteration} RL iterations. The constructor throws {@link IllegalArgumentException} naming the field that
 * breaks the rules below.
 *
 * @param algorithm       the algorithm's name, e.g. {@code "grpo"}, {@code "spo-chain"}, {@code "spo-tree"}; not blank
 * @param seed            the run's seed
 * @param iteration       RL iterations done, {@code >= 0}; 0 is the supervised base before RL
 * @param generatedTokens tokens sampled for training so far, {@code >= 0}
 * @param wallSeconds     training wall time so far, finite and {@code >= 0}
 * @param greedyAccuracy  test accuracy with greedy decoding, in [0, 1]
 * @param sampledAccuracy test accuracy with sampling, in [0, 1], or NaN when not measured
 * @param trainReward     mean training reward of the last iteration, finite, or NaN when there is none (iteration 0)
 * @param episodes        training episodes so far (the responses, or tree edges, the loss was taken on, each once
 *                        however many epochs), {@code >= 0}, or {@link #UNRECORDED} in files from before it was kept
 * @param optimizerSteps  optimizer steps so far, {@code >= 0}, or {@link #UNRECORDED}
 */
public record EvalPoint(
        String algorithm,
        long seed,
        int iteration,
        long generatedTokens,
        double wallSeconds,
        double greedyAccuracy,
        double sampledAccuracy,
        double trainReward,
        long episodes,
        long optimizerSteps) {
    /** {@link #episodes} and {@link #optimizerSteps} of a point read from a file that did not record them. */
    public static final long UNRECORDED = -1;

    /** A point without episode and step counts ({@link #UNRECORDED}). */
    public EvalPoint(
            String algorithm,
            long seed,
            int iteration,
            long generatedTokens,
            double wallSeconds,
            double greedyAccuracy,
            double sampledAccuracy,
            double trainReward) {
        this(
                algorithm,
                seed,
                iteration,
                generatedTokens,
                wallSeconds,
                greedyAccuracy,
                sampledAccuracy,
                trainReward,
                UNRECORDED,
                UNRECORDED);
    }

    public EvalPoint {
        if (algorithm == null || algorithm.isBlank()) {
            throw new IllegalArgumentException("algorithm must not be null or blank");
        }
        if (iteration < 0) throw new IllegalArgumentException("iteration must be >= 0, got " + iteration);
        if (generatedTokens < 0) {
            throw new IllegalArgumentException("generatedTokens must be >= 0, got " + generatedTokens);
        }
        if (!Double.isFinite(wallSeconds) || wallSeconds < 0) {
            throw new IllegalArgumentException("wallSeconds must be finite and >= 0, got " + wallSeconds);
        }
        if (!(greedyAccuracy >= 0 && greedyAccuracy <= 1)) {
            throw new IllegalArgumentException("greedyAccuracy must be in [0, 1], got " + greedyAccuracy);
        }
        if (!Double.isNaN(sampledAccuracy) && !(sampledAccuracy >= 0 && sampledAccuracy <= 1)) {
            throw new IllegalArgumentException("sampledAccuracy must be in [0, 1] or NaN, got " + sampledAccuracy);
        }
        if (Double.isInfinite(trainReward)) {
            throw new IllegalArgumentException("trainReward must be finite or NaN, got " + trainReward);
        }
        if (episodes < UNRECORDED) throw new IllegalArgumentException("episodes must be >= 0, got " + episodes);
        if (optimizerSteps < UNRECORDED) {
            throw new IllegalArgumentException("optimizerSteps must be >= 0, got " + optimizerSteps);
        }
    }
}
