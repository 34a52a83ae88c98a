package io.github.spo4j.model;

import java.util.Locale;

/**
 * The arithmetic of the policy's training and log-prob forwards. The parameters, their gradients and the optimizer
 * state stay fp32 (master weights) either way; generation stays fp32 (the KV pool holds fp32).
 */
public enum Precision {
    /** Every op in fp32. */
    FP32,
    /**
     * libtorch's autocast to bf16 on the policy's device: matrix products and attention run in bf16 on bf16 copies
     * of the weights (made once per forward), the residual stream and norms stay fp32, and the log-probs come from
     * the loss kernel's bf16 logits entry.
     */
    BF16;

    /** Parses {@code fp32} or {@code bf16} (any case). */
    public static Precision parse(String name) {
        if (name != null) {
            switch (name.strip().toLowerCase(Locale.ROOT)) {
                case "fp32", "float32" -> {
                    return FP32;
                }
                case "bf16", "bfloat16" -> {
                    return BF16;
                }
                default -> {}
            }
        }
        throw new IllegalArgumentException("precision must be fp32 or bf16, got '" + name + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
