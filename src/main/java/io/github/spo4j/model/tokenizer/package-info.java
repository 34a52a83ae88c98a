/**
 * Tokenizers for the policy model: {@link io.github.spo4j.model.tokenizer.CharTokenizer} for the built-in task and
 * {@link io.github.spo4j.model.tokenizer.BpeTokenizer}, a pure-Java byte-level BPE that reproduces a Hugging Face
 * {@code tokenizer.json} of the GPT-2 / Llama-3 / Qwen2 family.
 */
package io.github.spo4j.model.tokenizer;
