package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.nativebind.Spo4jNative;

/**
 * How a node's advantage is formed from its value and its parent p's children (the codes of
 * {@code SPO4J_TREE_ADV_*}). Roots have advantage 0.
 */
public enum TreeAdvantageMode {
    /** A(n) = V(n) − V(p): SPO-tree's default ({@code adv_method='rloo'} in the reference code). */
    DIFF(Spo4jNative.SPO4J_TREE_ADV_DIFF),
    /**
     * A(n) = (V(n) − V(p)) / (σ_p + stdEps), σ_p the weighted population std of p's children's values
     * ({@code 'grpo'} in the reference code); 0 where the denominator is 0.
     */
    DIFF_OVER_STD(Spo4jNative.SPO4J_TREE_ADV_DIFF_OVER_STD),
    /** A(n) = V(n) − the weighted mean of n's siblings' values without n; 0 for an only child. */
    LEAVE_ONE_OUT(Spo4jNative.SPO4J_TREE_ADV_LEAVE_ONE_OUT);

    final int code;

    TreeAdvantageMode(int code) {
        this.code = code;
    }
}
