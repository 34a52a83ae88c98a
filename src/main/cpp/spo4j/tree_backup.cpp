// CPU tree backup: trees are independent, so chunks of trees run in parallel and every result is the
// same for any thread count. A first parallel pass only reads (checks); outputs are written only if every
// tree passed, and the error reported is the one of the lowest-index bad tree.
#include "tree_backup.h"

#include <algorithm>
#include <vector>

#include "parallel.h"

namespace spo4j {

int make_tree_backup_params(int value_mode, int advantage_mode, float std_eps, TreeBackupParams* params) {
    if (value_mode != SPO4J_TREE_VALUE_CHILD_MEAN && value_mode != SPO4J_TREE_VALUE_LEAF_MEAN)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "valueMode must be 0 (CHILD_MEAN) or 1 (LEAF_MEAN), got %d",
                    value_mode);
    if (advantage_mode < SPO4J_TREE_ADV_DIFF || advantage_mode > SPO4J_TREE_ADV_LEAVE_ONE_OUT)
        return fail(SPO4J_ERR_INVALID_ARGUMENT,
                    "advantageMode must be 0 (DIFF), 1 (DIFF_OVER_STD) or 2 (LEAVE_ONE_OUT), got %d", advantage_mode);
    if (!(std_eps >= 0.0f) || std_eps == INFINITY)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "stdEps must be finite and >= 0, got %g", static_cast<double>(std_eps));
    *params = TreeBackupParams{value_mode, advantage_mode, std_eps};
    return SPO4J_OK;
}

int tree_fault_status(int32_t fault, int64_t tree, int64_t node, int32_t parent_value, float leaf_reward_value,
                      float weight_value) {
    const long long t = static_cast<long long>(tree), i = static_cast<long long>(node);
    switch (fault) {
        case TREE_FAULT_ROOT_HAS_PARENT:
            return fail(SPO4J_ERR_INVALID_ARGUMENT,
                        "parent[%lld] = %d: node %lld starts tree %lld and must be its root (parent -1)", i,
                        parent_value, i, t);
        case TREE_FAULT_SECOND_ROOT:
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "parent[%lld] = -1: tree %lld has a second root at node %lld", i, t,
                        i);
        case TREE_FAULT_PARENT_NOT_BEFORE:
            return fail(SPO4J_ERR_INVALID_ARGUMENT,
                        "parent[%lld] = %d: a parent must come before its child (a later parent, or a cycle)", i,
                        parent_value);
        case TREE_FAULT_PARENT_OUTSIDE:
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "parent[%lld] = %d is outside tree %lld", i, parent_value, t);
        case TREE_FAULT_BAD_WEIGHT:
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "weight[%lld] = %g must be finite and > 0", i,
                        static_cast<double>(weight_value));
        case TREE_FAULT_BAD_REWARD:
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "leafReward[%lld] = %g is not finite (node %lld is a leaf)", i,
                        static_cast<double>(leaf_reward_value), i);
        default:
            return fail(SPO4J_ERR_INTERNAL, "unknown tree fault %d", fault);
    }
}

int tree_offsets_status(int64_t key, int64_t num_nodes, int32_t num_trees, int32_t at, int32_t before) {
    if (key == 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "treeOffsets[0] must be 0, got %d", at);
    if (key <= num_trees)
        return fail(SPO4J_ERR_INVALID_ARGUMENT,
                    "treeOffsets must be strictly increasing (every tree has a root): treeOffsets[%d] = %d <= "
                    "treeOffsets[%d] = %d",
                    static_cast<int32_t>(key), at, static_cast<int32_t>(key - 1), before);
    return fail(SPO4J_ERR_INVALID_ARGUMENT, "treeOffsets[T] must equal the node count N = %lld, got %d",
                static_cast<long long>(num_nodes), at);
}

namespace {

// The first failing treeOffsets check (entries in order; see tree_offsets_fault).
int check_tree_offsets(int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets) {
    for (int32_t k = 0; k <= num_trees; ++k) {
        const int32_t before = k > 0 ? tree_offsets[k - 1] : 0;
        const int64_t key = tree_offsets_fault(k, num_trees, num_nodes, tree_offsets[k], before);
        if (key >= 0) return tree_offsets_status(key, num_nodes, num_trees, tree_offsets[k], before);
    }
    return SPO4J_OK;
}

// Reusable per-thread scratch sized to the largest tree seen.
struct ScratchBuffers {
    std::vector<int32_t> count;
    std::vector<double> sum, wsum, extra, extra_w;

    TreeScratch get(int32_t m, bool need_extra, bool need_extra_w) {
        if (count.size() < static_cast<size_t>(m)) {
            count.resize(m);
            sum.resize(m);
            wsum.resize(m);
        }
        if (need_extra && extra.size() < static_cast<size_t>(m)) extra.resize(m);
        if (need_extra_w && extra_w.size() < static_cast<size_t>(m)) extra_w.resize(m);
        return TreeScratch{count.data(), sum.data(), wsum.data(), need_extra ? extra.data() : nullptr,
                           need_extra_w ? extra_w.data() : nullptr};
    }
};

thread_local ScratchBuffers t_scratch;

constexpr int64_t kNodesPerChunk = 16384;  // enough work per task to amortize the pool's hand-off

}  // namespace

int tree_backup_cpu(int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets, const int32_t* parent,
                    const float* leaf_reward, const float* weight, const TreeBackupParams& p, float* value,
                    float* advantage, int32_t* child_count, int32_t* depth, float* root_value,
                    int32_t* nonzero_advantages) {
    if (num_trees == 0) return SPO4J_OK;
    int st = check_tree_offsets(num_nodes, num_trees, tree_offsets);
    if (st != SPO4J_OK) return st;

    // Chunks of whole trees with about kNodesPerChunk nodes each; chunk c holds trees [first[c], first[c+1]).
    std::vector<int32_t> first{0};
    for (int32_t k = 0; k < num_trees; ++k) {
        if (tree_offsets[k + 1] - tree_offsets[first.back()] >= kNodesPerChunk || k + 1 == num_trees)
            first.push_back(k + 1);
    }
    const int64_t chunks = static_cast<int64_t>(first.size()) - 1;
    const bool leaf_mean = p.value_mode == SPO4J_TREE_VALUE_LEAF_MEAN;
    const bool need_extra = leaf_mean || (advantage != nullptr && p.advantage_mode == SPO4J_TREE_ADV_DIFF_OVER_STD);

    // Pass 1, read-only: each chunk records its first bad tree.
    std::vector<int32_t> bad_tree(chunks, -1), bad_fault(chunks, 0), bad_node(chunks, 0);
    // Both passes walk each tree from its last node down, so they take a chunk's trees from the last one down
    // too: the chunk is then one descending stream, which the hardware prefetcher follows (in increasing tree
    // order, every tree starts with a jump forward and the loads stall: 1.3x slower on one thread here).
    parallel_for(chunks, [&](int64_t c) {
        for (int32_t k = first[c + 1] - 1; k >= first[c]; --k) {
            const int32_t b = tree_offsets[k], e = tree_offsets[k + 1];
            const TreeScratch s = t_scratch.get(e - b, false, false);
            int32_t node = 0;
            const int32_t fault = check_tree(b, e, parent, leaf_reward, weight, s, &node);
            if (fault != TREE_FAULT_NONE) {  // the last one recorded is the chunk's first bad tree
                bad_tree[c] = k;
                bad_fault[c] = fault;
                bad_node[c] = node;
            }
        }
    });
    for (int64_t c = 0; c < chunks; ++c) {
        if (bad_tree[c] >= 0) {
            const int32_t i = bad_node[c];
            return tree_fault_status(bad_fault[c], bad_tree[c], i, parent[i], leaf_reward[i],
                                     weight != nullptr ? weight[i] : 1.0f);
        }
    }

    // Pass 2: the values and advantages, tree by tree.
    parallel_for(chunks, [&](int64_t c) {
        for (int32_t k = first[c + 1] - 1; k >= first[c]; --k) {
            const int32_t b = tree_offsets[k], e = tree_offsets[k + 1];
            const TreeScratch s = t_scratch.get(e - b, need_extra, leaf_mean);
            // Counting again costs no memory traffic (parent is read here anyway); keeping pass 1's counts
            // would cost an N-sized buffer and its traffic, and measured no faster on 2 threads.
            count_children(b, e, parent, s.count);
            const int32_t nonzero =
                backup_tree(b, e, parent, leaf_reward, weight, p, s, value, advantage, child_count, depth);
            if (root_value != nullptr) root_value[k] = value[b];
            if (nonzero_advantages != nullptr) nonzero_advantages[k] = nonzero;
        }
    });
    return SPO4J_OK;
}

}  // namespace spo4j
