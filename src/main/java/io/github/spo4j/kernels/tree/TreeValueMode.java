package io.github.spo4j.kernels.tree;

import io.github.spo4j.kernels.nativebind.Spo4jNative;

/** How a tree node is valued from the leaves below it (the codes of {@code SPO4J_TREE_VALUE_*}). */
public enum TreeValueMode {
    /**
     * V(n) = weighted mean of n's children's values; a leaf is its reward. Each child counts once however
     * many leaves it has (SPO-tree; SPO_SPEC §3).
     */
    CHILD_MEAN(Spo4jNative.SPO4J_TREE_VALUE_CHILD_MEAN),
    /** V(n) = weighted mean of the rewards of all leaves under n (TreeRL). */
    LEAF_MEAN(Spo4jNative.SPO4J_TREE_VALUE_LEAF_MEAN);

    final int code;

    TreeValueMode(int code) {
        this.code = code;
    }
}
