package io.github.spo4j.model;

import java.util.HashMap;
import java.util.Map;

/**
 * A {@link TargetBatch} laid out as the token trie of its sequences: every distinct prefix is one node, so a group's
 * shared prompt or a tree's upper segments appear once. Node u holds a token at position {@code depth(u)} and sees,
 * in attention, exactly its ancestors and itself: the tokens its own sequence had before it. Causal attention over
 * each sequence alone and ancestor attention over the forest give each node the same hidden state, so the forest's
 * forward computes the batch's every target log-prob from each unique token once. Target k of the batch is predicted
 * by node {@link #targetRows()}[k], the node of the token before it (rows repeat when sequences repeat a prefix).
 */
final class PackedForest {
    private final int[] tokens; // [U]
    private final int[] parent; // [U], -1 for a root
    private final int[] depth; // [U] the position id
    private final int[] targetRows; // [N]
    private final int[] targets; // [N]

    PackedForest(TargetBatch batch) {
        int n = batch.numTargets();
        long total = batch.totalTokens();
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("batch holds " + total + " tokens");
        int[] tok = new int[(int) total], par = new int[(int) total], dep = new int[(int) total];
        Map<Long, Integer> children = new HashMap<>();
        int size = 0;
        targetRows = new int[n];
        targets = new int[n];
        for (int b = 0, k = 0; b < batch.numSequences(); b++) {
            int[] seq = batch.sequence(b);
            int node = -1;
            for (int i = 0; i < seq.length; i++) {
                if (i >= batch.contextLength(b)) {
                    targetRows[k] = node; // the node of token i − 1 predicts token i
                    targets[k++] = seq[i];
                }
                long key = ((long) (node + 1) << 32) | (seq[i] & 0xffffffffL);
                Integer child = children.get(key);
                if (child == null) {
                    child = size++;
                    children.put(key, child);
                    tok[child] = seq[i];
                    par[child] = node;
                    dep[child] = i;
                }
                node = child;
            }
        }
        tokens = java.util.Arrays.copyOf(tok, size);
        parent = java.util.Arrays.copyOf(par, size);
        depth = java.util.Arrays.copyOf(dep, size);
    }

    /** U, the unique tokens. */
    int size() {
        return tokens.length;
    }

    int[] tokens() {
        return tokens;
    }

    int[] depth() {
        return depth;
    }

    int maxDepth() {
        int m = 0;
        for (int d : depth) m = Math.max(m, d);
        return m;
    }

    int[] targetRows() {
        return targetRows;
    }

    int[] targets() {
        return targets;
    }

    /** The chunked ancestor attention of this forest. */
    ForestAttention.Plan attentionPlan() {
        return ForestAttention.plan(parent, depth);
    }

    int[] parent() {
        return parent;
    }
}
