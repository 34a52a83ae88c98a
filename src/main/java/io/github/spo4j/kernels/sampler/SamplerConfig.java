package io.github.spo4j.kernels.sampler;

import io.github.spo4j.kernels.engine.Checks;

/**
 * How {@link Sampler} draws a token.
 *
 * @param temperature T, finite and &gt; 0: the logits are divided by it
 * @param topK        keep the k most probable tokens; 0 = off
 * @param topP        keep the smallest most-probable set holding at least this share of the probability, in
 *                    (0, 1]; 1 = off
 * @param greedy      take the argmax (ties to the lowest index) instead of drawing
 * @param seed        the generator's key: with a row's sequence id and position it fixes the row's token
 */
public record SamplerConfig(float temperature, int topK, float topP, boolean greedy, long seed) {

    public SamplerConfig {
        Checks.temperature(temperature);
        Checks.require(topK >= 0, "topK must be >= 0 (0 = off), got " + topK);
        Checks.require(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
    }

    /** Plain sampling at T = 1 with the given seed. */
    public static SamplerConfig of(long seed) {
        return new SamplerConfig(1f, 0, 1f, false, seed);
    }

    public static Builder builder() {
        return new Builder();
    }

    public SamplerConfig withTemperature(float t) {
        return new SamplerConfig(t, topK, topP, greedy, seed);
    }

    public SamplerConfig withTopK(int k) {
        return new SamplerConfig(temperature, k, topP, greedy, seed);
    }

    public SamplerConfig withTopP(float p) {
        return new SamplerConfig(temperature, topK, p, greedy, seed);
    }

    public SamplerConfig withGreedy(boolean g) {
        return new SamplerConfig(temperature, topK, topP, g, seed);
    }

    public SamplerConfig withSeed(long s) {
        return new SamplerConfig(temperature, topK, topP, greedy, s);
    }

    /** Defaults: T = 1, top-k off, top-p off, not greedy, seed 0. */
    public static final class Builder {
        private float temperature = 1f;
        private int topK;
        private float topP = 1f;
        private boolean greedy;
        private long seed;

        private Builder() {}

        public Builder temperature(float t) {
            temperature = t;
            return this;
        }

        public Builder topK(int k) {
            topK = k;
            return this;
        }

        public Builder topP(float p) {
            topP = p;
            return this;
        }

        public Builder greedy(boolean g) {
            greedy = g;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public SamplerConfig build() {
            return new SamplerConfig(temperature, topK, topP, greedy, seed);
        }
    }
}
