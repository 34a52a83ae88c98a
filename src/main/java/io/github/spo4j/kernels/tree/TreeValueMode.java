package io.github.spo4j.kernels.tree;

/** How a tree node is valued from the leaves below it (the codes of {@code SPO4J_TREE_VALUE_*}). */
public enum TreeValueMode {
    /**
     * V(n) = weighted mean of n's children's values; a leaf is its reward. Each child counts once however
     * many leaves it has (SPO-tree; SPO_SPEC §3).
     */
    CHILD_MEAN(0),
    /** V(n) = weighted mean of the rewards of all leaves under n (TreeRL). */
    LEAF_MEAN(1);

    final int code;

    TreeValueMode(int code) {
        this.code = code;
    }
}
