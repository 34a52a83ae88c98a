package io.github.spo4j.kernels.tree;

import java.util.Arrays;

/**
 * Builds a {@link Forest} from nodes added as a sampler produces them: trees may interleave, and a node is
 * added after its parent. Every node gets a handle (0, 1, 2, ... in the order of addition);
 * {@link #build()} lays the trees out contiguously, in the order their roots were added, each tree's nodes
 * in the order they were added, and {@link #indexOf(int)} then maps a handle to its index in the forest.
 *
 * <pre>{@code
 * ForestBuilder b = Forest.builder();
 * int root = b.addRoot();
 * int mid = b.addChild(root);              // an inner node: its value comes from its children
 * b.addLeaf(mid, 1f);
 * b.addLeaf(root, 0f);                     // finished early: a leaf one level up
 * Forest forest = b.build();
 * }</pre>
 */
public final class ForestBuilder {
    private int[] parentHandle = new int[16];
    private int[] treeOf = new int[16];
    private float[] rewards = new float[16];
    private float[] weights = new float[16];
    private int size;
    private boolean weighted;
    private int numTrees;
    private int[] index;

    ForestBuilder() {}

    /** Starts a new tree; returns its root's handle. */
    public int addRoot() {
        return add(Forest.NO_PARENT, numTrees++);
    }

    /** Adds a child of {@code parent} (a handle); returns the child's handle. */
    public int addChild(int parent) {
        checkHandle(parent, "parent");
        return add(parent, treeOf[parent]);
    }

    /** Adds a child of {@code parent} with its reward (used if it stays a leaf); returns its handle. */
    public int addLeaf(int parent, float reward) {
        int h = addChild(parent);
        setReward(h, reward);
        return h;
    }

    /** Sets a node's reward (read only if the node is a leaf when built). */
    public ForestBuilder setReward(int node, float reward) {
        checkHandle(node, "node");
        rewards[node] = reward;
        return this;
    }

    /** Sets a node's weight in its parent's mean (default 1). */
    public ForestBuilder setWeight(int node, float weight) {
        checkHandle(node, "node");
        weights[node] = weight;
        weighted = true;
        return this;
    }

    public int numNodes() {
        return size;
    }

    public int numTrees() {
        return numTrees;
    }

    /**
     * The forest, validated (a leaf without a finite reward is an {@link IllegalArgumentException} naming
     * {@code leafReward} and the node's forest index).
     */
    public Forest build() {
        int n = size;
        int[] treeSize = new int[numTrees];
        for (int h = 0; h < n; h++) treeSize[treeOf[h]]++;
        int[] offsets = new int[numTrees + 1];
        for (int k = 0; k < numTrees; k++) offsets[k + 1] = offsets[k] + treeSize[k];
        int[] next = Arrays.copyOf(offsets, numTrees);
        int[] idx = new int[n];
        for (int h = 0; h < n; h++) idx[h] = next[treeOf[h]]++;
        int[] parent = new int[n];
        float[] reward = new float[n];
        float[] weight = weighted ? new float[n] : null;
        for (int h = 0; h < n; h++) {
            int p = parentHandle[h];
            parent[idx[h]] = p == Forest.NO_PARENT ? Forest.NO_PARENT : idx[p];
            reward[idx[h]] = rewards[h];
            if (weight != null) weight[idx[h]] = weights[h];
        }
        Forest.validate(offsets, parent, reward, weight);
        index = idx;
        return Forest.wrap(offsets, parent, reward, weight);
    }

    /** The forest index of a node handle, after {@link #build()}. */
    public int indexOf(int handle) {
        if (index == null) throw new IllegalStateException("indexOf needs build() first");
        checkHandle(handle, "handle");
        return index[handle];
    }

    private int add(int parent, int tree) {
        if (size == parentHandle.length) {
            int cap = size * 2;
            parentHandle = Arrays.copyOf(parentHandle, cap);
            treeOf = Arrays.copyOf(treeOf, cap);
            rewards = Arrays.copyOf(rewards, cap);
            weights = Arrays.copyOf(weights, cap);
        }
        parentHandle[size] = parent;
        treeOf[size] = tree;
        rewards[size] = Float.NaN; // a leaf must be given a reward
        weights[size] = 1f;
        index = null;
        return size++;
    }

    private void checkHandle(int h, String name) {
        if (h < 0 || h >= size) {
            throw new IllegalArgumentException(name + " = " + h + " is not a node handle (0.." + (size - 1) + ")");
        }
    }
}
