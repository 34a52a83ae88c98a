/**
 * The policy model: its architecture ({@link io.github.spo4j.model.ModelConfig}, Llama / Qwen2), weights and
 * configs on disk ({@link io.github.spo4j.model.io}) and tokenizers. Only this layer and {@code rollout} touch
 * libtorch types; {@link io.github.spo4j.model.Tensors} makes and reads the tensors the policy takes from Java arrays,
 * and every {@link io.github.spo4j.model.Policy} entry has a Java-array twin, so embedding code needs no JavaCPP.
 */
package io.github.spo4j.model;
