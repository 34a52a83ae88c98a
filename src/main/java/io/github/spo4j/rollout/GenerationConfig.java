package io.github.spo4j.rollout;

import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.tokenizer.Tokenizer;
import java.util.List;

/**
 * How a sampler generates: the token sampler's parameters and seed, the response length limit, and the stops.
 *
 * @param sampling          temperature, top-k, top-p, greedy, seed ({@link SamplerConfig}); the log-probs the
 *                          samplers return are at this temperature (π_old of SPO)
 * @param maxResponseTokens the most tokens of one response, over all its segments (a tree's last level runs to EOS or
 *                          this limit), &gt;= 1; also capped by the model's context
 * @param eosTokenIds       the tokens that end a response (usually the model's or tokenizer's EOS ids); may be empty
 * @param stopStrings       texts that end a response once generated (checked on the text of the request's tokens,
 *                          as vLLM does); empty for none
 * @param tokenizer         decodes tokens for the stop strings; required when there are stop strings, else may be null
 */
public record GenerationConfig(
        SamplerConfig sampling,
        int maxResponseTokens,
        int[] eosTokenIds,
        List<String> stopStrings,
        Tokenizer tokenizer) {

    public GenerationConfig {
        if (sampling == null) throw new IllegalArgumentException("sampling must not be null");
        if (maxResponseTokens < 1)
            throw new IllegalArgumentException("maxResponseTokens must be >= 1, got " + maxResponseTokens);
        if (eosTokenIds == null) throw new IllegalArgumentException("eosTokenIds must not be null (empty for none)");
        eosTokenIds = eosTokenIds.clone();
        if (stopStrings == null) throw new IllegalArgumentException("stopStrings must not be null (empty for none)");
        stopStrings = List.copyOf(stopStrings);
        for (int i = 0; i < stopStrings.size(); i++) {
            if (stopStrings.get(i).isEmpty()) throw new IllegalArgumentException("stopStrings[" + i + "] is empty");
        }
        if (!stopStrings.isEmpty() && tokenizer == null) {
            throw new IllegalArgumentException("tokenizer must not be null when there are stop strings");
        }
    }

    /** No stop strings. */
    public static GenerationConfig of(SamplerConfig sampling, int maxResponseTokens, int... eosTokenIds) {
        return new GenerationConfig(sampling, maxResponseTokens, eosTokenIds, List.of(), null);
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    boolean isEos(int token) {
        for (int e : eosTokenIds) if (e == token) return true;
        return false;
    }

    /** The same with other sampling parameters (e.g. greedy for evaluation, or the next iteration's seed). */
    public GenerationConfig withSampling(SamplerConfig s) {
        return new GenerationConfig(s, maxResponseTokens, eosTokenIds, stopStrings, tokenizer);
    }

    public GenerationConfig withMaxResponseTokens(int n) {
        return new GenerationConfig(sampling, n, eosTokenIds, stopStrings, tokenizer);
    }
}
