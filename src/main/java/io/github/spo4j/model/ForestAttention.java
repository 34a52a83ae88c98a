package io.github.spo4j.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Attention over a token forest in which each node sees its ancestors and itself ({@link PackedForest}), computed
 * chunk by chunk instead of through a dense U × U mask. A chunk is a maximal chain of nodes, each the only child of
 * the one before it: a group's prompt, each response, each tree segment. Chunk c's L_c tokens have the same P_c
 * ancestors, so with keys = those ancestors followed by the chunk's own tokens, its query j sees keys
 * {@code [0, P_c + j]}: a causal window shifted by P_c. Chunks of similar (L, P + L) are padded into one batched
 * libtorch attention over gathered Q/K/V rows, so attention costs about Σ L_c · (P_c + L_c) scores instead of U², and
 * projections and MLPs stay on the U unique rows. Siblings (a tree node's children) attend as one item over one
 * copy of their common ancestors' keys where the scores they then also compute against each other's tokens (masked
 * out) cost little: each gathered copy of the ancestors is held for the backward, so this bounds memory by the
 * nodes that branch rather than by the chunks below them. Gathers and the final scatter are {@code index_select}s, so
 * autograd runs through unchanged (their backward is an {@code index_add}, an ordered sum on the CPU).
 */
final class ForestAttention {
    /** Padded scores a bucket may hold relative to its items' own, before a new bucket starts. */
    static final double MAX_PADDING = 1.25;

    /** Scores siblings may cost together relative to apart, to gather their ancestors' keys once. */
    static final double MAX_GROUPING = 1.5;

    /**
     * Buckets of items as Java arrays. An item is one chunk, or sibling chunks (the children of one node) whose
     * queries share one copy of their ancestors' keys. Bucket b holds {@code count[b]} items, each padded to
     * {@code queries[b]} query rows and {@code keys[b]} key rows; {@code queryRows[b]} and {@code keyRows[b]} are
     * row-major [count, queries] and [count, keys] node indices (padding reads node 0). An item's keys are its
     * ancestors, then its chunks' tokens in its query order. Query row r sees keys {@code [0, ancestorKeys[b][r])}
     * and {@code [ownStart[b][r], ownEnd[b][r])}: its ancestors, and its own chunk's tokens up to itself (a padding row
     * sees key 0 alone, so no row's softmax is empty). A {@code causal} bucket holds single root chunks (no ancestors,
     * keys = queries): libtorch's causal attention needs no mask there, and its padding rows, whose outputs are
     * dropped, see real keys. Node u's output is row {@code outputRows[u]} of the buckets' outputs concatenated.
     */
    record Plan(
            int[] count,
            int[] queries,
            int[] keys,
            boolean[] causal,
            int[][] queryRows,
            int[][] keyRows,
            int[][] ancestorKeys,
            int[][] ownStart,
            int[][] ownEnd,
            int[] outputRows) {
        int numBuckets() {
            return count.length;
        }

        /** Scores computed, padding included: Σ count · queries · keys. */
        long paddedScores() {
            long s = 0;
            for (int b = 0; b < count.length; b++) s += (long) count[b] * queries[b] * keys[b];
            return s;
        }
    }

    /**
     * Plans the forest whose node u has parent {@code parent[u]} (−1 for a root, else &lt; u) and {@code depth[u]}
     * ancestors.
     */
    static Plan plan(int[] parent, int[] depth) {
        int u = parent.length;
        int[] children = new int[u];
        for (int p : parent) if (p >= 0) children[p]++;
        // Chunk starts: a root, a node not created right after its parent, or a sibling of another chunk.
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < u; i++) {
            if (parent[i] < 0 || parent[i] != i - 1 || children[i - 1] > 1) starts.add(i);
        }
        int chunks = starts.size();
        int[] start = new int[chunks], length = new int[chunks], parentChunk = new int[chunks];
        int[] chunkOf = new int[u];
        for (int c = 0; c < chunks; c++) {
            start[c] = starts.get(c);
            length[c] = (c + 1 < chunks ? starts.get(c + 1) : u) - start[c];
            Arrays.fill(chunkOf, start[c], start[c] + length[c], c);
            // A chunk's parent node ends its own chunk: it has this chunk's start and, if any, another as children.
            parentChunk[c] = parent[start[c]] < 0 ? -1 : chunkOf[parent[start[c]]];
        }

        // Items: each root chunk alone; the chunks under one node together where that costs at most MAX_GROUPING
        // times their scores apart ((ΣL)(P + ΣL) against Σ L(P + L)), else one item each.
        Map<Integer, List<Integer>> siblings = new LinkedHashMap<>();
        List<int[]> items = new ArrayList<>();
        for (int c = 0; c < chunks; c++) {
            if (parent[start[c]] < 0) items.add(new int[] {c});
            else
                siblings.computeIfAbsent(parent[start[c]], k -> new ArrayList<>())
                        .add(c);
        }
        for (List<Integer> group : siblings.values()) {
            long p = depth[start[group.get(0)]], total = 0, apart = 0;
            for (int c : group) {
                total += length[c];
                apart += length[c] * (p + length[c]);
            }
            if (group.size() > 1 && total * (p + total) <= MAX_GROUPING * apart) {
                items.add(group.stream().mapToInt(Integer::intValue).toArray());
            } else {
                for (int c : group) items.add(new int[] {c});
            }
        }
        int numItems = items.size();
        int[] itemQueries = new int[numItems], itemAncestors = new int[numItems];
        for (int i = 0; i < numItems; i++) {
            itemAncestors[i] = depth[start[items.get(i)[0]]];
            for (int c : items.get(i)) itemQueries[i] += length[c];
        }

        // Roots first (their buckets run causal, without a mask), then by queries and keys.
        Integer[] order = new Integer[numItems];
        for (int i = 0; i < numItems; i++) order[i] = i;
        Arrays.sort(
                order,
                Comparator.<Integer>comparingInt(i -> itemAncestors[i] == 0 ? 0 : 1)
                        .thenComparingInt(i -> itemQueries[i])
                        .thenComparingInt(i -> itemAncestors[i] + itemQueries[i]));
        List<int[]> bucketItems = new ArrayList<>();
        for (int i = 0; i < numItems; ) {
            int maxL = 0, maxK = 0;
            long own = 0;
            int j = i;
            boolean roots = itemAncestors[order[i]] == 0;
            while (j < numItems && (itemAncestors[order[j]] == 0) == roots) {
                int item = order[j];
                int l = Math.max(maxL, itemQueries[item]), k = Math.max(maxK, itemAncestors[item] + itemQueries[item]);
                long ownNext = own + (long) itemQueries[item] * (itemAncestors[item] + itemQueries[item]);
                if (j > i && (double) (j - i + 1) * l * k > MAX_PADDING * ownNext) break;
                maxL = l;
                maxK = k;
                own = ownNext;
                j++;
            }
            int[] members = new int[j - i];
            for (int m = 0; m < members.length; m++) members[m] = order[i + m];
            bucketItems.add(members);
            i = j;
        }

        int buckets = bucketItems.size();
        int[] count = new int[buckets], queries = new int[buckets], keys = new int[buckets];
        boolean[] causal = new boolean[buckets];
        int[][] queryRows = new int[buckets][], keyRows = new int[buckets][];
        int[][] ancestorKeys = new int[buckets][], ownStart = new int[buckets][], ownEnd = new int[buckets][];
        int[] outputRows = new int[u];
        int base = 0;
        for (int b = 0; b < buckets; b++) {
            int[] members = bucketItems.get(b);
            int nq = 0, nk = 0;
            for (int item : members) {
                nq = Math.max(nq, itemQueries[item]);
                nk = Math.max(nk, itemAncestors[item] + itemQueries[item]);
            }
            count[b] = members.length;
            causal[b] = itemAncestors[members[0]] == 0;
            queries[b] = nq;
            keys[b] = nk;
            int rows = Math.multiplyExact(members.length, nq);
            queryRows[b] = new int[rows];
            keyRows[b] = new int[Math.multiplyExact(members.length, nk)];
            ancestorKeys[b] = new int[rows];
            ownStart[b] = new int[rows];
            ownEnd[b] = new int[rows];
            Arrays.fill(ancestorKeys[b], 1);
            for (int slot = 0; slot < members.length; slot++) {
                int[] itemChunks = items.get(members[slot]);
                int ancestors = itemAncestors[members[slot]];
                int keyBase = slot * nk;
                // The ancestors: each chunk above starts at its own depth in the path.
                for (int a = parentChunk[itemChunks[0]]; a >= 0; a = parentChunk[a]) {
                    for (int t = 0; t < length[a]; t++) keyRows[b][keyBase + depth[start[a]] + t] = start[a] + t;
                }
                int offset = 0;
                for (int c : itemChunks) {
                    for (int t = 0; t < length[c]; t++) {
                        int row = slot * nq + offset + t;
                        int key = ancestors + offset + t;
                        keyRows[b][keyBase + key] = start[c] + t;
                        queryRows[b][row] = start[c] + t;
                        ancestorKeys[b][row] = ancestors;
                        ownStart[b][row] = ancestors + offset;
                        ownEnd[b][row] = key + 1;
                        outputRows[start[c] + t] = base + row;
                    }
                    offset += length[c];
                }
            }
            base = Math.addExact(base, rows);
        }
        return new Plan(count, queries, keys, causal, queryRows, keyRows, ancestorKeys, ownStart, ownEnd, outputRows);
    }

    private final int[] count, queries, keys;
    private final boolean[] causal;
    private final Tensor[] queryRows, keyRows, masks; // per bucket, in the caller's scope; no mask where causal
    private final Tensor outputRows;
    private final int nodes;

    /** The plan's index and mask tensors on {@code device}, made in the caller's scope. */
    ForestAttention(Plan plan, Device device) {
        int buckets = plan.numBuckets();
        count = plan.count();
        queries = plan.queries();
        keys = plan.keys();
        causal = plan.causal();
        nodes = plan.outputRows().length;
        queryRows = new Tensor[buckets];
        keyRows = new Tensor[buckets];
        masks = new Tensor[buckets];
        for (int b = 0; b < buckets; b++) {
            queryRows[b] = device.place(Tensors.scopedLongs(plan.queryRows()[b]));
            keyRows[b] = device.place(Tensors.scopedLongs(plan.keyRows()[b]));
            if (causal[b]) continue;
            int rows = plan.queryRows()[b].length;
            byte[] mask = new byte[Math.multiplyExact(rows, keys[b])];
            for (int r = 0; r < rows; r++) {
                Arrays.fill(mask, r * keys[b], r * keys[b] + plan.ancestorKeys()[b][r], (byte) 1);
                Arrays.fill(mask, r * keys[b] + plan.ownStart()[b][r], r * keys[b] + plan.ownEnd()[b][r], (byte) 1);
            }
            masks[b] = device.place(Tensors.scopedBytes(mask))
                    .view(count[b], 1, queries[b], keys[b])
                    .ne(new Scalar(0));
        }
        outputRows = device.place(Tensors.scopedLongs(plan.outputRows()));
    }

    /**
     * Each node's attention output: q [U, H, D] and k, v [U, Hkv, D] (rope applied) to [U, H·D], in the caller's
     * scope.
     */
    Tensor attend(Tensor q, Tensor k, Tensor v, double scale) {
        long h = q.size(1), hkv = k.size(1), d = q.size(2);
        Tensor qRows = q.reshape(nodes, h * d), kRows = k.reshape(nodes, hkv * d), vRows = v.reshape(nodes, hkv * d);
        TensorVector outs = new TensorVector();
        for (int b = 0; b < count.length; b++) {
            long n = count[b], nq = queries[b], nk = keys[b];
            Tensor qb = qRows.index_select(0, queryRows[b]).view(n, nq, h, d).transpose(1, 2);
            Tensor kb = kRows.index_select(0, keyRows[b]).view(n, nk, hkv, d).transpose(1, 2);
            Tensor vb = vRows.index_select(0, keyRows[b]).view(n, nk, hkv, d).transpose(1, 2);
            Tensor a = torch.scaled_dot_product_attention(
                    qb,
                    kb,
                    vb,
                    causal[b] ? new TensorOptional() : new TensorOptional(masks[b]),
                    0.0,
                    causal[b],
                    new DoubleOptional(scale),
                    hkv != h);
            outs.push_back(a.transpose(1, 2).reshape(n * nq, h * d));
        }
        Tensor all = count.length == 1 ? outs.get(0) : torch.cat(outs, 0);
        return all.index_select(0, outputRows);
    }
}
