package io.github.spo4j.kernels.loss;

/** How per-token loss terms of kept tokens are reduced to one number (the codes of {@code SPO4J_AGG_*}). */
public enum Aggregation {
    /** Σ over kept tokens / number of kept tokens (SPO's policy-gradient term). */
    TOKEN_MEAN(0),
    /** Mean over all B sequences of each sequence's kept-token sum (SPO's KL term). */
    SEQ_MEAN_TOKEN_SUM(1),
    /** Mean over all B sequences of each sequence's kept-token mean (0 for a sequence with none). */
    SEQ_MEAN_TOKEN_MEAN(2),
    /** Σ over kept tokens / a given constant (Dr. GRPO: B × max response length). */
    CONSTANT_NORM(3);

    final int code;

    Aggregation(int code) {
        this.code = code;
    }
}
