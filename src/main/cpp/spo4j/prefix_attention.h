// Attention over the paged KV cache, split into parts that are merged by their log-sum-exp (the
// shared-prefix / cascade scheme of Hydragen and FlashInfer).
//
// For one query head with scores s_t = scale · q·k_t over a key set P, the attention state is
//   o(P) = Σ_{t∈P} e^{s_t} v_t / Σ_{t∈P} e^{s_t},   lse(P) = log Σ_{t∈P} e^{s_t},
// and for disjoint P_1 … P_n the state of their union is
//   o = Σ_i w_i o(P_i) / Σ_i w_i,  w_i = e^{lse(P_i) − max_j lse(P_j)},  lse = max_j lse(P_j) + log Σ_i w_i.
// A part attends one block table over a range of positions for many queries at once, so a prefix that
// many sequences share is read once for all of them; each query then merges its parts.
//
// This header holds what the CPU (prefix_attention.cpp) and CUDA (prefix_attention.cu) code share: the
// argument bundle, the host-side checks of the plan, and the merge.
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace spo4j {

// Upper bound on head_dim: the CUDA kernel keeps a query row's D / 32 output values per lane in registers.
constexpr int32_t kMaxAttentionHeadDim = 256;

struct AttentionArgs {
    const float* cache;  // [L][2][num_blocks][block_size][Hkv][D]
    int32_t num_layers, num_blocks, block_size, kv_heads, head_dim, layer, q_heads;
    float scale;
    int32_t num_queries;
    const float* q;              // [num_queries, Hq, D]
    const int32_t* query_limit;  // [num_queries]: a query sees positions < its limit
    int32_t num_tables;
    const int32_t* table_offsets;  // [num_tables + 1]
    const int32_t* table_blocks;   // [table_offsets[num_tables]]
    int32_t num_parts;
    const int32_t* part_table;           // [num_parts]
    const int32_t* part_begin;           // [num_parts]
    const int32_t* part_end;             // [num_parts]
    const int32_t* part_query_offsets;   // [num_parts + 1]
    const int32_t* part_queries;         // [num_entries]
    const int32_t* query_entry_offsets;  // [num_queries + 1]
    const int32_t* query_entries;        // [num_entries]
    float* out;                          // [num_queries, Hq, D]
    float* lse;                          // [num_queries, Hq] or null

    int64_t num_entries() const { return num_parts == 0 ? 0 : part_query_offsets[num_parts]; }
    SPO4J_HD int32_t group() const { return q_heads / kv_heads; }
    // Float offset of the K (kv = 0) or V (kv = 1) row of `head` at slot `slot` of `block`, in this layer.
    SPO4J_HD int64_t row_offset(int kv, int32_t block, int32_t slot, int32_t head) const {
        return ((((static_cast<int64_t>(layer) * 2 + kv) * num_blocks + block) * block_size + slot) * kv_heads + head) *
               head_dim;
    }
};

// Checks everything but the values of q (sizes, dims, the plan's index arrays, all on the host) before any
// output is written. The plan arrays are host memory for both devices; q, cache, out and lse are device
// memory for CUDA, so the CPU path checks q's values separately.
int check_attention_args(const AttentionArgs& a);

// Index of the first non-finite value of x[0, n), or -1.
int64_t first_non_finite(const float* x, int64_t n);

// The running state of one query head while it merges parts in a fixed order: o ← o·c + w·o_i with the
// weights kept relative to the largest lse seen so far. An empty part (lse = −inf) adds nothing; a query
// with no visible position ends with o = 0, lse = −inf.
struct LseMerge {
    float max_lse = -INFINITY;
    float weight_sum = 0.0f;
    // Scale for the accumulated o before adding part i, and part i's weight, after which max_lse covers it.
    SPO4J_HD void add(float lse_i, float* scale_acc, float* weight_i) {
        if (lse_i == -INFINITY) {
            *scale_acc = 1.0f;
            *weight_i = 0.0f;
            return;
        }
        const float new_max = lse_i > max_lse ? lse_i : max_lse;
        const float c = max_lse == -INFINITY ? 0.0f : expf(max_lse - new_max);
        const float w = expf(lse_i - new_max);
        weight_sum = weight_sum * c + w;
        max_lse = new_max;
        *scale_acc = c;
        *weight_i = w;
    }
    SPO4J_HD float inverse_weight() const { return weight_sum > 0.0f ? 1.0f / weight_sum : 0.0f; }
    SPO4J_HD float lse() const { return weight_sum > 0.0f ? max_lse + logf(weight_sum) : -INFINITY; }
};

// The instruction set the CPU item kernel uses: the best this CPU has, capped by set_max_cpu_isa.
int cpu_isa();
int set_max_cpu_isa(int isa);

int prefix_attention_cpu(const AttentionArgs& a);
int prefix_attention_cuda(const AttentionArgs& a, void* stream);

}  // namespace spo4j
