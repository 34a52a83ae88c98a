package io.github.spo4j.rollout;

import io.github.spo4j.tasks.FinishReason;

/**
 * One sampled continuation.
 *
 * @param tokens       [L] the generated ids, the EOS or the token that completed a stop string included
 * @param logprobs     [L] log π(token | text before it) at the sampling temperature (π_old)
 * @param finishReason EOS, STOP, or LENGTH when it hit the token limit
 */
public record Completion(int[] tokens, float[] logprobs, FinishReason finishReason) {
    public Completion {
        if (tokens == null || logprobs == null || finishReason == null) {
            throw new IllegalArgumentException("tokens, logprobs and finishReason must not be null");
        }
        if (tokens.length != logprobs.length) {
            throw new IllegalArgumentException(
                    "tokens and logprobs differ in length: " + tokens.length + " vs " + logprobs.length);
        }
        tokens = tokens.clone();
        logprobs = logprobs.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public float[] logprobs() {
        return logprobs.clone();
    }

    public int length() {
        return tokens.length;
    }
}
