/**
 * The policy model: its architecture ({@link io.github.spo4j.model.ModelConfig}, Llama / Qwen2), weights and
 * configs on disk ({@link io.github.spo4j.model.io}) and tokenizers. Only this layer and {@code rollout} touch
 * libtorch types.
 */
package io.github.spo4j.model;
