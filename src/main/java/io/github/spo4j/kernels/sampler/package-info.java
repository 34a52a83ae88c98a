/**
 * The sampler op ({@code sampler}): temperature, top-k and top-p sampling of next tokens with a counter-based
 * generator ({@link io.github.spo4j.kernels.sampler.Philox}), so a seed and a token's coordinates fix the token
 * on every backend.
 */
package io.github.spo4j.kernels.sampler;
