/*
 * spo4j flat C API: the only header the Java binding sees.
 *
 * Every function returns a status code (SPO4J_OK or an SPO4J_ERR_*); none throws across the boundary.
 * On failure spo4j_last_error() gives a message naming the bad argument (thread-local, valid until the
 * next call on the same thread). Inputs are checked (sizes, offsets, finiteness of the values that are
 * read, target range) in a read-only pass before any output is written, so a rejected call leaves every
 * output buffer untouched, an in-place gradient buffer included (CPU and CUDA alike; tested).
 *
 * `device` selects the implementation: SPO4J_DEVICE_CPU (host pointers) or SPO4J_DEVICE_CUDA (device
 * pointers on the current CUDA device, work queued on `stream`, NULL = the legacy default stream; the call
 * returns after its results are on the host).
 *
 * Dimension letters: N tokens (or tree nodes), B sequences, V vocabulary, T trees.
 */
#ifndef SPO4J_API_H
#define SPO4J_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SPO4J_EXPORT __declspec(dllexport)
#else
#define SPO4J_EXPORT __attribute__((visibility("default")))
#endif

/* ---- status, devices, dtypes ------------------------------------------------------------------- */
enum {
    SPO4J_OK = 0,
    SPO4J_ERR_INVALID_ARGUMENT = 1, /* a bad size, pointer, value or config: message names it       */
    SPO4J_ERR_UNAVAILABLE = 2,      /* built without CUDA, or no usable CUDA device/driver           */
    SPO4J_ERR_CUDA = 3,             /* a CUDA runtime error                                           */
    SPO4J_ERR_OUT_OF_MEMORY = 4,
    SPO4J_ERR_INTERNAL = 5
};
enum { SPO4J_DEVICE_CPU = 0, SPO4J_DEVICE_CUDA = 1 };
enum { SPO4J_DTYPE_F32 = 0, SPO4J_DTYPE_BF16 = 1, SPO4J_DTYPE_I32 = 2, SPO4J_DTYPE_I64 = 3 };

/* What spo4j_api_version() returns: the version of this header's contract (2: the device memory helpers went to
 * the JavaCPP CUDA presets). */
enum { SPO4J_API_VERSION = 2 };

SPO4J_EXPORT const char* spo4j_last_error(void);
SPO4J_EXPORT int spo4j_api_version(void);
/* 1 if the library was compiled with CUDA kernels. */
SPO4J_EXPORT int spo4j_built_with_cuda(void);
/* Number of usable CUDA devices in *count (0 without a driver or without CUDA support; never fails). */
SPO4J_EXPORT int spo4j_cuda_device_count(int* count);
/* Worker threads of the CPU kernels (default: hardware concurrency). Results do not depend on it. */
SPO4J_EXPORT int spo4j_set_num_threads(int num_threads);
SPO4J_EXPORT int spo4j_get_num_threads(void);

/* Instruction sets of the CPU kernels that have per-ISA variants (today: prefix attention). The library
 * uses the best one the CPU has, at most `max_isa` (default: AVX-512), like oneDNN's max CPU ISA; lowering it
 * lets tests exercise every variant on one machine. spo4j_cpu_isa() reports the one in use. */
enum { SPO4J_ISA_BASELINE = 0, SPO4J_ISA_AVX2 = 1, SPO4J_ISA_AVX512 = 2 };
SPO4J_EXPORT int spo4j_set_max_cpu_isa(int max_isa);
SPO4J_EXPORT int spo4j_cpu_isa(void);

/* ---- policy loss ------------------------------------------------------------------------------- */
enum { SPO4J_KL_K1 = 1, SPO4J_KL_K2 = 2, SPO4J_KL_K3 = 3 };
enum {
    SPO4J_AGG_TOKEN_MEAN = 0,          /* sum over kept tokens / kept-token count                      */
    SPO4J_AGG_SEQ_MEAN_TOKEN_SUM = 1,  /* mean over the B sequences of each one's kept-token sum      */
    SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN = 2, /* mean over the B sequences of each one's kept-token mean      */
    SPO4J_AGG_CONSTANT_NORM = 3        /* sum over kept tokens / a given constant (Dr. GRPO)           */
};

/*
 * Masked clipped-ratio policy loss, as SPO_SPEC §4, per token t of sequence b:
 *   kept_t = valid_t ∧ (rho >= 1 ∨ exp(oldLogp_t) < rho)
 *   Â_t    = whiten ? (A_t − μ) / sqrt(σ² + whiten_eps) : A_t     (μ, σ² Bessel: over kept tokens)
 *   r_t    = exp(clamp(logp_t − oldLogp_t, ±log_ratio_clamp))
 *   pg_t   = max(−Â r, −Â clip(r, 1 − eps_low, 1 + eps_high)), then min(pg_t, −Â c) where Â < 0 (dual clip)
 *   Δ_t    = clamp(refLogp_t − logp_t, ±kl_clamp);  k1 = −Δ, k2 = Δ²/2, k3 = e^Δ − Δ − 1
 *   loss   = agg_pg(pg) + beta · agg_kl(k)
 * Sequences in the seq-mean modes are all B given (one with no kept token adds 0 and still counts), as
 * SPO's reference does for its KL term. SPO = pg TOKEN_MEAN + kl SEQ_MEAN_TOKEN_SUM, rho 0.9, eps 0.2,
 * beta 1e-4, k3, whitening on. If max_mean_ratio > 0 and the kept tokens' mean ratio exceeds it, the loss
 * and the gradient are zero and stats[SKIPPED] = 1 (SPO's ratio_threshold = 10).
 */
typedef struct spo4j_policy_loss_config {
    float eps_low;         /* >= 0                                                                */
    float eps_high;        /* >= 0 (clip-higher when > eps_low)                                   */
    float dual_clip_c;     /* 0 = off, else > 1                                                   */
    float rho;             /* (0, 1]                                                              */
    float log_ratio_clamp; /* > 0 (10 in SPO)                                                     */
    int32_t whiten;        /* 0/1                                                                 */
    float whiten_eps;      /* >= 0 (1e-8)                                                         */
    float beta;            /* >= 0; > 0 needs ref_logp                                           */
    int32_t kl_estimator;  /* SPO4J_KL_K1..K3                                                     */
    float kl_clamp;        /* > 0 (10 in SPO)                                                     */
    int32_t pg_agg;        /* SPO4J_AGG_*                                                         */
    int32_t kl_agg;        /* SPO4J_AGG_*                                                         */
    float pg_norm;         /* > 0, the constant of CONSTANT_NORM for the pg term                  */
    float kl_norm;         /* > 0, the same for the kl term                                       */
    float max_mean_ratio;  /* 0 = off, else finite and > 0                                        */
} spo4j_policy_loss_config;

/* Indices into the double[SPO4J_PL_NUM_STATS] statistics output. Means are over kept tokens (0 if none). */
enum {
    SPO4J_PL_LOSS = 0,           /* pg + beta * kl (0 when skipped)                                   */
    SPO4J_PL_PG_LOSS = 1,        /* aggregated policy-gradient term                                   */
    SPO4J_PL_KL_LOSS = 2,        /* aggregated KL term, before beta                                   */
    SPO4J_PL_KEPT = 3,           /* number of kept tokens                                             */
    SPO4J_PL_CLIP_FRAC_LOW = 4,  /* fraction with Â < 0 and r < 1 − eps_low                           */
    SPO4J_PL_CLIP_FRAC_HIGH = 5, /* fraction with Â > 0 and r > 1 + eps_high                          */
    SPO4J_PL_DUAL_CLIP_FRAC = 6, /* fraction where the dual-clip bound is the loss                        */
    SPO4J_PL_MEAN_RATIO = 7,
    SPO4J_PL_APPROX_KL_OLD = 8, /* mean k3 of π_θ against π_old: r − 1 − log r                          */
    SPO4J_PL_KL_REF = 9,        /* mean of the chosen estimator against π_ref (0 without ref_logp)      */
    SPO4J_PL_ADV_MEAN = 10,     /* μ of the whitening (mean advantage over kept tokens)                 */
    SPO4J_PL_ADV_STD = 11,      /* sqrt of the Bessel variance over kept tokens (0 for fewer than 2)    */
    SPO4J_PL_SKIPPED = 12,      /* 1 if max_mean_ratio zeroed the batch                                  */
    SPO4J_PL_ENTROPY_MEAN = 13, /* logits entry with an entropy output: mean entropy of kept tokens    */
    SPO4J_PL_NUM_STATS = 14
};

/*
 * Per-token entry. seq_offsets: [B+1] int32, 0 = seq_offsets[0] <= ... <= seq_offsets[B] = N, or NULL for
 * one sequence. logp, old_logp, advantages: [N] f32; ref_logp: [N] f32 or NULL (then beta must be 0);
 * valid: [N] uint8 (0/1) or NULL for all valid. Only valid tokens' values are read.
 * grad_logp: [N] f32, d loss / d logp, 0 where not kept; NULL for the loss alone.
 * stats: double[SPO4J_PL_NUM_STATS], host memory even for CUDA.
 */
SPO4J_EXPORT int spo4j_policy_loss_tokens(int device, int64_t n, int32_t b, const int32_t* seq_offsets,
                                          const float* logp, const float* old_logp, const float* ref_logp,
                                          const float* advantages, const uint8_t* valid,
                                          const spo4j_policy_loss_config* config, float* grad_logp, double* stats,
                                          void* stream);

/*
 * Logits entry: logp_t = log_softmax(logits_t / T)[targets_t] by an online log-sum-exp, then the same loss,
 * and d loss / d logits_t = dloss/dlogp_t · (onehot(targets_t) − softmax(logits_t / T)) / T.
 * logits: [N, V] row-major, dtype F32 or BF16. targets: [N], I32 or I64, each in [0, V) where valid.
 * grad_logits: [N, V] of the logits dtype, or NULL; it may equal logits (in place). Rows of tokens that
 * are not kept get zeros. logp_out, entropy_out: [N] f32 or NULL (entropy of softmax(logits_t / T)).
 * No [N, V] temporary is allocated; the work space is O(N).
 */
SPO4J_EXPORT int spo4j_policy_loss_logits(int device, int64_t n, int64_t v, int32_t b, const int32_t* seq_offsets,
                                          const void* logits, int logits_dtype, const void* targets, int targets_dtype,
                                          float temperature, const float* old_logp, const float* ref_logp,
                                          const float* advantages, const uint8_t* valid,
                                          const spo4j_policy_loss_config* config, void* grad_logits, float* logp_out,
                                          float* entropy_out, double* stats, void* stream);

/* Log-probs (and optionally entropies) of targets under softmax(logits / T), no loss: [N, V] -> [N]. */
SPO4J_EXPORT int spo4j_policy_loss_token_logprobs(int device, int64_t n, int64_t v, const void* logits,
                                                  int logits_dtype, const void* targets, int targets_dtype,
                                                  float temperature, float* logp_out, float* entropy_out, void* stream);

/*
 * The vector-Jacobian product of spo4j_policy_loss_token_logprobs, for autograd through it: [N, V] <- [N].
 *   grad_logits[i, v] = grad_logp[i] / T · (1[v == targets[i]] − softmax(logits_i / T)[v])
 * logits: [N, V] row-major, F32 or BF16; targets: [N] I32 or I64; grad_logp: [N] f32, finite;
 * grad_logits: [N, V] of the logits dtype, and may equal logits (in place: logits are overwritten by their
 * gradient). A row with grad_logp[i] == 0 is all zeros and neither its logits nor its target are read (so
 * padding rows may hold anything); every other row needs a target in [0, V) and finite logits. All of it
 * is checked before grad_logits is written: a rejected call leaves it untouched, in place included.
 * Work space O(N), no [N, V] temporary.
 */
SPO4J_EXPORT int spo4j_policy_loss_token_logprobs_backward(int device, int64_t n, int64_t v, const void* logits,
                                                           int logits_dtype, const void* targets, int targets_dtype,
                                                           float temperature, const float* grad_logp, void* grad_logits,
                                                           void* stream);

/* ---- tree backup ------------------------------------------------------------------------------- */
enum {
    SPO4J_TREE_VALUE_CHILD_MEAN = 0, /* V(n) = Σ_c w_c V(c) / Σ_c w_c over n's children (SPO-tree)      */
    SPO4J_TREE_VALUE_LEAF_MEAN = 1   /* V(n) = Σ_l w_l R(l) / Σ_l w_l over the leaves under n (TreeRL)   */
};
enum {
    SPO4J_TREE_ADV_DIFF = 0,          /* A(n) = V(n) − V(p)                                  (SPO 'rloo') */
    SPO4J_TREE_ADV_DIFF_OVER_STD = 1, /* A(n) = (V(n) − V(p)) / (σ_p + std_eps)  (SPO 'grpo')  */
    SPO4J_TREE_ADV_LEAVE_ONE_OUT = 2  /* A(n) = V(n) − Σ_{c≠n} w_c V(c) / Σ_{c≠n} w_c; 0 for an only child */
};

/*
 * Values and advantages of every node of a forest, in one call.
 *
 * Layout: the T trees' nodes lie in flat [N] arrays, each tree contiguous; tree k is the nodes
 * [tree_offsets[k], tree_offsets[k+1]) and 0 = tree_offsets[0] < ... < tree_offsets[T] = N (every tree has
 * a node). Its first node is its root (parent −1); every other node i has tree_offsets[k] <= parent[i] < i.
 * A node with no children is a leaf, valued at leaf_reward[i] (finite; only leaves' rewards are read).
 * weight: [N] f32 > 0 and finite, or NULL for 1: a node's weight in its parent's mean (CHILD_MEAN) or a
 * leaf's weight in its ancestors' means (LEAF_MEAN). With equal weights, V(parent) is the plain mean of its
 * children: each child counts once however many leaves it has (SPO_SPEC §3: V = (1 + 2/3 + 0)/3).
 *
 * p is n's parent; σ_p = sqrt(Σ_c w_c (V(c) − μ_p)² / Σ_c w_c) and μ_p = Σ_c w_c V(c) / Σ_c w_c over p's
 * children (the population std of the siblings, n included; μ_p = V(p) in CHILD_MEAN). In DIFF_OVER_STD a
 * zero denominator (σ_p + std_eps = 0) gives A = 0. Roots have A = 0.
 *
 * Arithmetic is double, from the fp32 inputs and the fp32-rounded child values; every sum over a node's
 * children (or leaves) runs in decreasing node index. The CPU and CUDA implementations and the Java
 * reference follow this order and agree bit for bit.
 *
 * Outputs ([N] unless noted; all but value may be NULL): value; advantage; child_count; depth (roots 0);
 * root_value [T]; nonzero_advantages [T] (non-root nodes of the tree with A != 0; needs advantage).
 * The structure and the values read are checked before any output is written; a rejected call writes
 * nothing. CUDA: device pointers, work queued on `stream`; the call returns once the outputs are written.
 */
SPO4J_EXPORT int spo4j_tree_backup(int device, int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets,
                                   const int32_t* parent, const float* leaf_reward, const float* weight, int value_mode,
                                   int advantage_mode, float std_eps, float* value, float* advantage,
                                   int32_t* child_count, int32_t* depth, float* root_value, int32_t* nonzero_advantages,
                                   void* stream);

/* ---- paged KV cache ---------------------------------------------------------------------------- */
/*
 * The storage side of a paged KV cache (io.github.spo4j.kernels.kv.KvCache keeps the block tables,
 * ref-counts and free list). `cache` is ONE fp32 allocation of 2 · L · num_blocks · block_size · Hkv · D
 * floats, laid out [L][2][num_blocks][block_size][Hkv][D] row-major (layer, K = 0 / V = 1, block, slot, kv
 * head, head dim): the K row of (layer l, block b, slot s) starts at float
 *   ((((int64) l * 2 + 0) * num_blocks + b) * block_size + s) * Hkv * D,   head h at + h * D;
 * V uses + 1 instead of + 0. A flat slot is b * block_size + s (int32, so num_blocks · block_size < 2^31).
 *
 * Index arrays (slots, src, dst, slots_to_copy) are HOST memory for both devices; the CUDA entries copy them
 * to the device themselves. cache, k and v are host pointers for SPO4J_DEVICE_CPU and device pointers for
 * SPO4J_DEVICE_CUDA. Everything is checked in a read-only pass before any float of the cache is written; a
 * rejected call writes nothing. No float is written twice in one call (the checks ensure it), so results do
 * not depend on scheduling. k and v values are not checked (activations: NaN is stored as given).
 */

/* K/V rows of `layer` for num_tokens tokens: slot slots[t] <- k[t], v[t]; k, v: [num_tokens, Hkv, D].
 * slots: [num_tokens] int32, each in [0, num_blocks · block_size), no slot twice. */
SPO4J_EXPORT int spo4j_kv_cache_write(int device, float* cache, int32_t num_layers, int32_t num_blocks,
                                      int32_t block_size, int32_t kv_heads, int32_t head_dim, int32_t layer,
                                      int64_t num_tokens, const int32_t* slots, const float* k, const float* v,
                                      void* stream);

/* Copy-on-write of shared blocks, all in one call: for each copy c, slots [0, slots_to_copy[c]) of block
 * dst[c] <- the same slots of block src[c], at every layer, K and V. src, dst: [num_copies] in [0, num_blocks),
 * src[c] != dst[c], every dst once and never also a src; slots_to_copy: [num_copies] in [0, block_size]. */
SPO4J_EXPORT int spo4j_kv_cache_copy_blocks(int device, float* cache, int32_t num_layers, int32_t num_blocks,
                                            int32_t block_size, int32_t kv_heads, int32_t head_dim, int32_t num_copies,
                                            const int32_t* src, const int32_t* dst, const int32_t* slots_to_copy,
                                            void* stream);

/* ---- prefix attention over the paged KV cache ------------------------------------------------- */
/*
 * Attention of queries over the keys and values of a paged KV cache, computed in parts that are merged by
 * their log-sum-exp, so a prefix shared by many sequences is attended once for all of them.
 *
 * cache: f32 [num_layers][2][num_blocks][block_size][kv_heads][head_dim] (K then V of each layer); position
 * pos of block table t is slot pos % block_size of block table_blocks[table_offsets[t] + pos / block_size].
 * q, out: f32 [num_queries, q_heads, head_dim]; lse: f32 [num_queries, q_heads] or NULL. Query head j reads
 * KV head j / (q_heads / kv_heads); scores are scale · q·k.
 *
 * Part p attends table part_table[p] at positions [part_begin[p], part_end[p]) for each of its queries
 * part_queries[part_query_offsets[p] .. part_query_offsets[p+1]) (its "entries"); query i only sees
 * positions < query_limit[i] (its sequence length in decode, pos + 1 in causal prefill). Each query's
 * output merges the states of its entries in the order query_entries[query_entry_offsets[i] ..
 * query_entry_offsets[i+1]) lists them:
 *   o = Σ_e w_e o_e / Σ_e w_e,  w_e = exp(lse_e − max lse),  lse = max lse + log Σ_e w_e,
 * which is the attention over the union of the entries' positions when they are disjoint (the caller's
 * plan guarantees that; it is not checked). A query with no visible position gets o = 0 and lse = −inf.
 *
 * The plan arrays (query_limit, table_*, part_*, query_entr*) are HOST memory for both devices: they are
 * checked on the host, completely, before anything is written. cache, q, out and lse are device memory
 * for CUDA; q must be finite (checked). The cache's values are not checked. head_dim <= 256.
 */
SPO4J_EXPORT int spo4j_prefix_attention(int device, const float* cache, int32_t num_layers, int32_t num_blocks,
                                        int32_t block_size, int32_t kv_heads, int32_t head_dim, int32_t layer,
                                        int32_t q_heads, float scale, int32_t num_queries, const float* q,
                                        const int32_t* query_limit, int32_t num_tables, const int32_t* table_offsets,
                                        const int32_t* table_blocks, int32_t num_parts, const int32_t* part_table,
                                        const int32_t* part_begin, const int32_t* part_end,
                                        const int32_t* part_query_offsets, const int32_t* part_queries,
                                        const int32_t* query_entry_offsets, const int32_t* query_entries, float* out,
                                        float* lse, void* stream);

/* ---- sampling ---------------------------------------------------------------------------------- */
/*
 * One token per row of logits [B, V] (row-major, F32 or BF16; every value finite), by temperature, top-k and
 * top-p sampling or greedy, with a counter-based RNG: row b's token depends only on its logits, the config,
 * the seed, seq_ids[b] and positions[b], never on the other rows or their order.
 *   x_i = logit_i / T (fp32);  m = max x;  q_i = rint(2^44 · exp(x_i − m)) (an exact integer mass; exp as
 *   sampler.h, identical on CPU, CUDA and in Java; 0 below 2^-45 of the top token)
 *   kept: the order (q desc, index asc); top_k > 0 keeps its first top_k tokens; top_p < 1 then keeps the
 *   shortest prefix with Σ q >= min(Z, ceil(top_p · Z)), Z the mass after top-k; q = 0 is never kept
 *   rand64: Philox4x32-10, counter (positions[b], lo32(seq_ids[b]), hi32(seq_ids[b]), 0), key (lo32(seed),
 *   hi32(seed)), words (out[1] << 32) | out[0];  r = floor(rand64 · Zkept / 2^64)
 *   token: the first kept token in index order whose running mass exceeds r; greedy: argmax x (lowest index)
 *   logprob: log softmax(x)[token] over the FULL vocabulary (no filtering), x_tok − m − log(Z_all · 2^-44),
 *   within V · 2^-45 of the exact value
 * 1 <= V < 2^19; temperature finite > 0; top_k >= 0 (0 = off); top_p in (0, 1] (1 = off); greedy 0/1.
 * seq_ids: [B] int64; positions: [B] int32; tokens: [B] int32 out; logprobs: [B] f32 out, or NULL.
 * The logits are checked (every logit / T finite) before any output is written; the message names the row
 * and column.
 */
SPO4J_EXPORT int spo4j_sampler_sample(int device, int64_t b, int64_t v, const void* logits, int logits_dtype,
                                      const int64_t* seq_ids, const int32_t* positions, float temperature,
                                      int32_t top_k, float top_p, int32_t greedy, uint64_t seed, int32_t* tokens,
                                      float* logprobs, void* stream);

/* Philox4x32-10 (Random123) of one counter, on the host: the generator of spo4j_sampler_sample, exposed so that it
 * can be checked against the published known answers. counter: [4], key: [2], out: [4]. */
SPO4J_EXPORT int spo4j_sampler_philox4x32_10(const uint32_t* counter, const uint32_t* key, uint32_t* out);

#ifdef __cplusplus
}
#endif
#endif /* SPO4J_API_H */
