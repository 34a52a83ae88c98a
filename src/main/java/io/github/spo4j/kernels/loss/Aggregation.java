package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.nativebind.Spo4jNative;

/** How per-token loss terms of kept tokens are reduced to one number (the codes of {@code SPO4J_AGG_*}). */
public enum Aggregation {
    /** Σ over kept tokens / number of kept tokens (SPO's policy-gradient term). */
    TOKEN_MEAN(Spo4jNative.SPO4J_AGG_TOKEN_MEAN),
    /** Mean over all B sequences of each sequence's kept-token sum (SPO's KL term). */
    SEQ_MEAN_TOKEN_SUM(Spo4jNative.SPO4J_AGG_SEQ_MEAN_TOKEN_SUM),
    /** Mean over all B sequences of each sequence's kept-token mean (0 for a sequence with none). */
    SEQ_MEAN_TOKEN_MEAN(Spo4jNative.SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN),
    /** Σ over kept tokens / a given constant (Dr. GRPO: B × max response length). */
    CONSTANT_NORM(Spo4jNative.SPO4J_AGG_CONSTANT_NORM);

    final int code;

    Aggregation(int code) {
        this.code = code;
    }
}
