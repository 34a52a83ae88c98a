package io.github.spo4j.train;

import io.github.spo4j.model.Precision;

/**
 * The run around an algorithm: seed, how long, how often to evaluate and checkpoint, and how work is batched.
 *
 * @param seed             fixes questions, samples, shuffles and results
 * @param tokenBudget      stop once this many tokens were generated (responses, Monte-Carlo rollouts, tree
 *                         segments), and schedule the learning rate by the fraction spent; 0 for no budget (the
 *                         optimizer's iteration count then ends the run and drives the schedule)
 * @param evalEvery        evaluate on the test set every this many iterations (and at the end); 0 for only at the end
 * @param evalProblems     test problems evaluated (the first ones of the test set); 0 for all
 * @param evalSamples      k of the sampled accuracy (mean accuracy over k samples); 0 for greedy pass@1 only
 * @param evalTemperature  temperature of the sampled accuracy
 * @param microBatchSize   sequences per forward and backward (gradient accumulation up to the minibatch)
 * @param checkpointEvery  write a checkpoint every this many iterations (and at the end); 0 for only at the end
 * @param maxStreams       continuations decoded together (bounds the KV pool)
 * @param kvBlocks         KV-cache pool size in blocks
 * @param kvBlockSize      tokens per KV block
 * @param packedForward    compute each micro-batch's shared prefixes once in the training and log-prob forwards
 *                         ({@code Policy#forwardPacked}); false for one padded sequence per episode. The same numbers
 *                         up to fp32 rounding
 * @param precision        arithmetic of the training and log-prob forwards (the parameters and optimizer state stay
 *                         fp32; generation is fp32)
 * @param evalEveryTokens  evaluate after the iteration in which the generated tokens pass each multiple of this
 *                         (and at the end), in place of {@code evalEvery}'s iterations: every algorithm then
 *                         evaluates equally often per generated token, however many tokens its iterations hold; 0
 *                         for {@code evalEvery}
 */
public record RunSettings(
        long seed,
        long tokenBudget,
        int evalEvery,
        int evalProblems,
        int evalSamples,
        float evalTemperature,
        int microBatchSize,
        int checkpointEvery,
        int maxStreams,
        int kvBlocks,
        int kvBlockSize,
        boolean packedForward,
        Precision precision,
        long evalEveryTokens) {

    public RunSettings {
        nonNegative(tokenBudget, "tokenBudget");
        nonNegative(evalEvery, "evalEvery");
        nonNegative(evalProblems, "evalProblems");
        nonNegative(evalSamples, "evalSamples");
        if (!(evalTemperature > 0) || !Float.isFinite(evalTemperature)) {
            throw new IllegalArgumentException("evalTemperature must be finite and > 0, got " + evalTemperature);
        }
        positive(microBatchSize, "microBatchSize");
        nonNegative(checkpointEvery, "checkpointEvery");
        positive(maxStreams, "maxStreams");
        positive(kvBlocks, "kvBlocks");
        positive(kvBlockSize, "kvBlockSize");
        if (precision == null) throw new IllegalArgumentException("precision must not be null");
        nonNegative(evalEveryTokens, "evalEveryTokens");
    }

    /**
     * Seed 0, no budget, greedy evaluation every 10 iterations, micro-batch 8, checkpoints every 10 iterations, packed
     * fp32 forwards.
     */
    public static RunSettings defaults() {
        return new RunSettings(0, 0, 10, 0, 0, 0.35f, 8, 10, 512, 16384, 16, true, Precision.FP32, 0);
    }

    static void positive(long v, String name) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be > 0, got " + v);
    }

    static void nonNegative(long v, String name) {
        if (v < 0) throw new IllegalArgumentException(name + " must be >= 0, got " + v);
    }
}
