package io.github.spo4j.kernels.sampler;

/**
 * The tokens drawn for a batch of B rows.
 *
 * @param tokens   [B] the token of each row, in [0, V)
 * @param logprobs [B] log softmax(logits / T)[token] over the full vocabulary (before top-k / top-p), the
 *                 behaviour policy's log-prob π_old of the token
 */
public record SampleResult(int[] tokens, float[] logprobs) {}
