// Batched tree-value backup (SPO_SPEC §3): the per-tree math, shared verbatim by the CPU implementation
// (tree_backup.cpp) and the CUDA kernels (src/main/cuda/tree_backup.cu), so both give the same bits.
//
// Within a tree, a parent precedes its children, so one pass in decreasing node index sees every child
// before its parent: it finishes each node's value and adds it to its parent's running sums. The sums over
// a node's children therefore run in decreasing index, in double, over the fp32-rounded child values.
//   CHILD_MEAN: V(n) = S_n / W_n,  S_n = Σ_c w_c V(c),  W_n = Σ_c w_c
//   LEAF_MEAN:  V(n) = Σ_l w_l R(l) / Σ_l w_l over the leaves under n
//   DIFF:         A(n) = V(n) − V(p)
//   DIFF_OVER_STD A(n) = (V(n) − V(p)) / (σ_p + eps),  σ_p² = Σ_c w_c (V(c) − μ_p)² / W_p,  μ_p = S_p / W_p
//   LEAVE_ONE_OUT A(n) = V(n) − (S_p − w_n V(n)) / (W_p − w_n)
// Products of two floats are exact in double; the only multiply-add, w·(d·d), is written as two rounded
// operations on purpose (CUDA uses __dmul_rn/__dadd_rn there so nvcc cannot fuse it).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace spo4j {

struct TreeBackupParams {
    int value_mode;      // SPO4J_TREE_VALUE_*
    int advantage_mode;  // SPO4J_TREE_ADV_*
    float std_eps;
};

int make_tree_backup_params(int value_mode, int advantage_mode, float std_eps, TreeBackupParams* params);

// What is wrong with a tree, found by check_tree; the facade's messages name the argument and the node.
enum TreeFault : int32_t {
    TREE_FAULT_NONE = 0,
    TREE_FAULT_ROOT_HAS_PARENT = 1,    // parent[first node] != -1
    TREE_FAULT_SECOND_ROOT = 2,        // parent[i] == -1 for a node that does not start its tree
    TREE_FAULT_PARENT_NOT_BEFORE = 3,  // parent[i] >= i: a child before its parent, or a cycle
    TREE_FAULT_PARENT_OUTSIDE = 4,     // parent[i] in another tree (or negative other than -1)
    TREE_FAULT_BAD_WEIGHT = 5,         // weight[i] not finite or <= 0
    TREE_FAULT_BAD_REWARD = 6          // a leaf's reward is NaN or infinite
};

// Formats the message for a fault at global node `node` of tree `tree` (host only), from the node's values
// (only the one the fault names is printed): parent[node], leafReward[node], weight[node]. The CUDA code
// copies these few values back from the device, so both implementations report the same text.
int tree_fault_status(int32_t fault, int64_t tree, int64_t node, int32_t parent_value, float leaf_reward_value,
                      float weight_value);

// treeOffsets must be 0 first, strictly increasing (every tree has its root) and N last. The checks are
// reported in that order; as a key: 0 = treeOffsets[0] != 0, k in [1, T] = treeOffsets[k] <= treeOffsets[k-1],
// T + 1 = treeOffsets[T] != N, so the smallest failing key is the one reported. Entry k's key from
// at = treeOffsets[k] and before = treeOffsets[k-1] (unused for k = 0), or -1 if entry k passes.
SPO4J_HD int64_t tree_offsets_fault(int32_t k, int32_t num_trees, int64_t num_nodes, int32_t at, int32_t before) {
    if (k == 0) return at != 0 ? 0 : -1;
    if (at <= before) return k;
    if (k == num_trees && static_cast<int64_t>(at) != num_nodes) return static_cast<int64_t>(num_trees) + 1;
    return -1;
}

// The message of treeOffsets fault `key`, from at = treeOffsets[min(key, T)] and before = treeOffsets[key-1].
int tree_offsets_status(int64_t key, int64_t num_nodes, int32_t num_trees, int32_t at, int32_t before);

// Structural fault of node i with parent p in tree [begin, end), or TREE_FAULT_NONE. A node's fault depends
// on nothing else, so the first structural fault of a tree is that of its lowest faulty node.
SPO4J_HD int32_t tree_node_fault(int32_t i, int32_t p, int32_t begin, int32_t end) {
    if (i == begin) return p != -1 ? TREE_FAULT_ROOT_HAS_PARENT : TREE_FAULT_NONE;
    if (p == -1) return TREE_FAULT_SECOND_ROOT;
    if (p >= i && p < end) return TREE_FAULT_PARENT_NOT_BEFORE;
    if (p < begin || p >= end) return TREE_FAULT_PARENT_OUTSIDE;
    return TREE_FAULT_NONE;
}
SPO4J_HD bool tree_weight_ok(float w) { return w > 0.0f && w != INFINITY; }  // false for NaN
SPO4J_HD bool tree_reward_ok(float r) { return r - r == 0.0f; }              // false for NaN and ±inf

// Per-node scratch of one tree: child counts and the running sums of the pass.
struct TreeScratch {
    int32_t* count;
    double* sum;      // S_n
    double* wsum;     // W_n
    double* extra;    // LEAF_MEAN: Σ w R over leaves;  DIFF_OVER_STD: Σ w (V − μ)²
    double* extra_w;  // LEAF_MEAN: Σ w over leaves
};

// Read-only check of tree [begin, end). Fills s.count (child counts); returns the first fault in node order
// (structure, then weights, then leaf rewards) and its node in *bad_node.
SPO4J_HD int32_t check_tree(int32_t begin, int32_t end, const int32_t* parent, const float* leaf_reward,
                            const float* weight, const TreeScratch& s, int32_t* bad_node) {
    for (int32_t k = 0; k < end - begin; ++k) s.count[k] = 0;
    for (int32_t i = begin; i < end; ++i) {
        const int32_t p = parent[i];
        const int32_t fault = tree_node_fault(i, p, begin, end);
        if (fault != TREE_FAULT_NONE) {
            *bad_node = i;
            return fault;
        }
        if (i != begin) s.count[p - begin] += 1;
    }
    if (weight != nullptr) {
        for (int32_t i = begin; i < end; ++i) {
            if (!tree_weight_ok(weight[i])) {
                *bad_node = i;
                return TREE_FAULT_BAD_WEIGHT;
            }
        }
    }
    for (int32_t i = begin; i < end; ++i) {
        if (s.count[i - begin] == 0 && !tree_reward_ok(leaf_reward[i])) {
            *bad_node = i;
            return TREE_FAULT_BAD_REWARD;
        }
    }
    return TREE_FAULT_NONE;
}

SPO4J_HD double tb_add(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
SPO4J_HD double tb_mul(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

// Child counts of a checked tree [begin, end).
SPO4J_HD void count_children(int32_t begin, int32_t end, const int32_t* parent, int32_t* count) {
    for (int32_t k = 0; k < end - begin; ++k) count[k] = 0;
    for (int32_t i = begin + 1; i < end; ++i) count[parent[i] - begin] += 1;
}

// Values and advantages of one checked tree [begin, end) (s.count filled by check_tree or count_children). Returns
// the number of non-root nodes with a non-zero advantage. Optional outputs may be null. One bottom-up pass
// (values, sums), a second one for the sibling deviations in DIFF_OVER_STD, then one top-down pass (child
// counts, depths, advantages).
SPO4J_HD int32_t backup_tree(int32_t begin, int32_t end, const int32_t* parent, const float* leaf_reward,
                             const float* weight, const TreeBackupParams& p, const TreeScratch& s, float* value,
                             float* advantage, int32_t* child_count, int32_t* depth) {
    const int32_t m = end - begin;
    const bool leaf_mean = p.value_mode == SPO4J_TREE_VALUE_LEAF_MEAN;
    for (int32_t k = 0; k < m; ++k) {
        s.sum[k] = 0.0;
        s.wsum[k] = 0.0;
    }
    if (leaf_mean) {
        for (int32_t k = 0; k < m; ++k) {
            s.extra[k] = 0.0;
            s.extra_w[k] = 0.0;
        }
    }
    for (int32_t i = end - 1; i >= begin; --i) {
        const int32_t k = i - begin;
        const double w = weight != nullptr ? static_cast<double>(weight[i]) : 1.0;
        float v;
        if (s.count[k] == 0) {
            v = leaf_reward[i];
            if (leaf_mean) {
                s.extra[k] = tb_mul(w, static_cast<double>(v));
                s.extra_w[k] = w;
            }
        } else {
            v = leaf_mean ? static_cast<float>(s.extra[k] / s.extra_w[k]) : static_cast<float>(s.sum[k] / s.wsum[k]);
        }
        value[i] = v;
        if (i != begin) {
            const int32_t pk = parent[i] - begin;
            s.sum[pk] = tb_add(s.sum[pk], tb_mul(w, static_cast<double>(v)));
            s.wsum[pk] = tb_add(s.wsum[pk], w);
            if (leaf_mean) {
                s.extra[pk] = tb_add(s.extra[pk], s.extra[k]);
                s.extra_w[pk] = tb_add(s.extra_w[pk], s.extra_w[k]);
            }
        }
    }
    const bool with_advantage = advantage != nullptr;
    if (with_advantage && p.advantage_mode == SPO4J_TREE_ADV_DIFF_OVER_STD) {
        // The siblings' squared deviations: μ_p is only known once all children are in.
        double* sq = s.extra;  // LEAF_MEAN's leaf sums are no longer needed
        for (int32_t k = 0; k < m; ++k) sq[k] = 0.0;
        for (int32_t i = end - 1; i > begin; --i) {
            const int32_t pk = parent[i] - begin;
            const double w = weight != nullptr ? static_cast<double>(weight[i]) : 1.0;
            const double d = static_cast<double>(value[i]) - s.sum[pk] / s.wsum[pk];
            sq[pk] = tb_add(sq[pk], tb_mul(w, tb_mul(d, d)));
        }
    }
    if (child_count != nullptr) child_count[begin] = s.count[0];
    if (depth != nullptr) depth[begin] = 0;
    if (with_advantage) advantage[begin] = 0.0f;
    int32_t nonzero = 0;
    for (int32_t i = begin + 1; i < end; ++i) {
        const int32_t pi = parent[i], pk = pi - begin;
        if (child_count != nullptr) child_count[i] = s.count[i - begin];
        if (depth != nullptr) depth[i] = depth[pi] + 1;
        if (!with_advantage) continue;
        const double vi = static_cast<double>(value[i]);
        double a;
        if (p.advantage_mode == SPO4J_TREE_ADV_DIFF) {
            a = vi - static_cast<double>(value[pi]);
        } else if (p.advantage_mode == SPO4J_TREE_ADV_DIFF_OVER_STD) {
            const double denom = sqrt(s.extra[pk] / s.wsum[pk]) + static_cast<double>(p.std_eps);
            a = denom == 0.0 ? 0.0 : (vi - static_cast<double>(value[pi])) / denom;
        } else {
            const double w = weight != nullptr ? static_cast<double>(weight[i]) : 1.0;
            a = s.count[pk] == 1 ? 0.0 : vi - (s.sum[pk] - tb_mul(w, vi)) / (s.wsum[pk] - w);
        }
        const float af = static_cast<float>(a);
        advantage[i] = af;
        nonzero += af != 0.0f ? 1 : 0;
    }
    return nonzero;
}

// ---- CPU (tree_backup.cpp) ------------------------------------------------------------------------
// Arguments as spo4j_tree_backup, already checked for null pointers and modes; tree_offsets is checked here.
int tree_backup_cpu(int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets, const int32_t* parent,
                    const float* leaf_reward, const float* weight, const TreeBackupParams& p, float* value,
                    float* advantage, int32_t* child_count, int32_t* depth, float* root_value,
                    int32_t* nonzero_advantages);

// ---- CUDA (src/main/cuda/tree_backup.cu; only when built with CUDA) --------------------------------
// Same contract with device pointers, queued on `stream` (cudaStream_t); waits for the results.
int tree_backup_cuda(int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets, const int32_t* parent,
                     const float* leaf_reward, const float* weight, const TreeBackupParams& p, float* value,
                     float* advantage, int32_t* child_count, int32_t* depth, float* root_value,
                     int32_t* nonzero_advantages, void* stream);

}  // namespace spo4j
