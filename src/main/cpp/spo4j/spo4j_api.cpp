// The flat C API: argument checks that need no data, then dispatch to the CPU or CUDA implementation.
//
// Every entry that returns a status has the same shape:
//   SPO4J_API_BEGIN()                     clears the last error; C++ exceptions become status codes
//   SPO4J_TRY(check_device(device));      each check returns a status; the first failure is returned
//   if (bad) return fail(status, ...);    a check written in place records its message and returns
//   return SPO4J_DISPATCH(device, cpu_call, cuda_call);
//   SPO4J_API_END()
#include "spo4j_api.h"

#include <cstdarg>
#include <cstdio>
#include <new>
#include <string>

#include "kv_cache.h"
#include "parallel.h"
#include "policy_loss.h"
#include "prefix_attention.h"
#include "sampler.h"
#include "tree_backup.h"

#ifdef SPO4J_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace spo4j {

namespace {
thread_local char g_last_error[512] = "";
}

int fail(int status, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(g_last_error, sizeof g_last_error, fmt, args);
    va_end(args);
    return status;
}

void clear_error() { g_last_error[0] = '\0'; }

}  // namespace spo4j

using namespace spo4j;

// Catches what must never cross the C boundary.
#define SPO4J_API_BEGIN() \
    clear_error();        \
    try {
#define SPO4J_API_END()                                                       \
    }                                                                         \
    catch (const std::bad_alloc&) {                                           \
        return fail(SPO4J_ERR_OUT_OF_MEMORY, "out of host memory");           \
    }                                                                         \
    catch (const std::exception& e) {                                         \
        return fail(SPO4J_ERR_INTERNAL, "internal error: %s", e.what());      \
    }                                                                         \
    catch (...) {                                                             \
        return fail(SPO4J_ERR_INTERNAL, "internal error: unknown exception"); \
    }

// Returns the status of `expr` from the calling function unless it is SPO4J_OK.
#define SPO4J_TRY(expr)                                      \
    do {                                                     \
        const int spo4j_status_ = (expr);                    \
        if (spo4j_status_ != SPO4J_OK) return spo4j_status_; \
    } while (0)

// The one CPU/CUDA dispatch, for a `device` that check_device accepted: `cpu_call` on SPO4J_DEVICE_CPU, else
// `cuda_call`. A build without CUDA has no CUDA path to take (check_device rejected SPO4J_DEVICE_CUDA with
// "built without CUDA"), so there the CUDA call is only an unevaluated operand: it is still type-checked
// against its declaration and its arguments (the stream) count as used, but nothing of CUDA is referenced.
#ifdef SPO4J_WITH_CUDA
#define SPO4J_DISPATCH(device, cpu_call, cuda_call) ((device) == SPO4J_DEVICE_CPU ? (cpu_call) : (cuda_call))
#else
#define SPO4J_DISPATCH(device, cpu_call, cuda_call) ((void)sizeof(cuda_call), (cpu_call))
#endif

namespace {

// SPO4J_OK for SPO4J_DEVICE_CPU, and for SPO4J_DEVICE_CUDA when this build has CUDA and a device is usable.
int check_device(int device) {
    if (device == SPO4J_DEVICE_CPU) return SPO4J_OK;
    if (device != SPO4J_DEVICE_CUDA)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "device must be 0 (CPU) or 1 (CUDA), got %d", device);
#ifdef SPO4J_WITH_CUDA
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        return fail(SPO4J_ERR_UNAVAILABLE, "no usable CUDA device (driver missing or no GPU)");
    }
    return SPO4J_OK;
#else
    return fail(SPO4J_ERR_UNAVAILABLE, "spo4j was built without CUDA (nvcc was not found at build time)");
#endif
}

// The name Java's DType gives a code ("F32"), so messages read as the facades' do; "code N" if there is none.
std::string dtype_name(int dtype) {
    switch (dtype) {
        case SPO4J_DTYPE_F32:
            return "F32";
        case SPO4J_DTYPE_BF16:
            return "BF16";
        case SPO4J_DTYPE_I32:
            return "I32";
        case SPO4J_DTYPE_I64:
            return "I64";
        default:
            return "code " + std::to_string(dtype);
    }
}

int check_logits_dtype(int logits_dtype) {
    if (logits_dtype != SPO4J_DTYPE_F32 && logits_dtype != SPO4J_DTYPE_BF16)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "logitsDtype must be F32 or BF16, got %s",
                    dtype_name(logits_dtype).c_str());
    return SPO4J_OK;
}

// n rows of logits, without sequences (the token log-prob entries).
int check_rows(int64_t n) {
    if (n < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "n must be >= 0, got %lld", static_cast<long long>(n));
    if (n > INT32_MAX)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "n must fit in int32, got %lld", static_cast<long long>(n));
    return SPO4J_OK;
}

int check_sizes(int64_t n, int32_t b, const int32_t* seq_offsets) {
    if (n < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "n must be >= 0, got %lld", static_cast<long long>(n));
    if (n > INT32_MAX)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "n must fit in int32 (seqOffsets are int32), got %lld",
                    static_cast<long long>(n));
    if (seq_offsets != nullptr && b < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numSeqs must be >= 0, got %d", b);
    if (seq_offsets != nullptr && b == 0 && n > 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numSeqs = 0 sequences cannot hold n = %lld tokens",
                    static_cast<long long>(n));
    return SPO4J_OK;
}

int check_token_inputs(int64_t n, const float* logp_or_dummy, const float* old_logp, const float* advantages,
                       double* stats) {
    if (stats == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "stats must not be null");
    if (n == 0) return SPO4J_OK;
    if (logp_or_dummy == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "logp must not be null");
    if (old_logp == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "oldLogp must not be null");
    if (advantages == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "advantages must not be null");
    return SPO4J_OK;
}

int check_logits_inputs(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                        int targets_dtype, float temperature) {
    if (v <= 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "vocab must be > 0, got %lld", static_cast<long long>(v));
    SPO4J_TRY(check_logits_dtype(logits_dtype));
    if (targets_dtype != SPO4J_DTYPE_I32 && targets_dtype != SPO4J_DTYPE_I64)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "targetsDtype must be I32 or I64, got %s",
                    dtype_name(targets_dtype).c_str());
    if (!(temperature > 0) || temperature == INFINITY)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "temperature must be finite and > 0, got %g", temperature);
    if (n > 0 && logits == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "logits must not be null");
    if (n > 0 && targets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "targets must not be null");
    return SPO4J_OK;
}

}  // namespace

extern "C" {

const char* spo4j_last_error(void) { return g_last_error; }

int spo4j_api_version(void) { return SPO4J_API_VERSION; }

int spo4j_built_with_cuda(void) {
#ifdef SPO4J_WITH_CUDA
    return 1;
#else
    return 0;
#endif
}

int spo4j_cuda_device_count(int* count) {
    SPO4J_API_BEGIN()
    if (count == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "count must not be null");
    *count = 0;
#ifdef SPO4J_WITH_CUDA
    int c = 0;
    if (cudaGetDeviceCount(&c) == cudaSuccess)
        *count = c;
    else
        cudaGetLastError();
#endif
    return SPO4J_OK;
    SPO4J_API_END()
}

int spo4j_set_num_threads(int num_threads) {
    SPO4J_API_BEGIN()
    if (num_threads < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numThreads must be >= 1, got %d", num_threads);
    set_num_threads(num_threads);
    return SPO4J_OK;
    SPO4J_API_END()
}

int spo4j_get_num_threads(void) { return num_threads(); }

int spo4j_set_max_cpu_isa(int max_isa) {
    SPO4J_API_BEGIN()
    return set_max_cpu_isa(max_isa);
    SPO4J_API_END()
}

int spo4j_cpu_isa(void) { return cpu_isa(); }

int spo4j_policy_loss_tokens(int device, int64_t n, int32_t b, const int32_t* seq_offsets, const float* logp,
                             const float* old_logp, const float* ref_logp, const float* advantages,
                             const uint8_t* valid, const spo4j_policy_loss_config* config, float* grad_logp,
                             double* stats, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    SPO4J_TRY(check_sizes(n, b, seq_offsets));
    SPO4J_TRY(check_token_inputs(n, logp, old_logp, advantages, stats));
    PolicyLossParams p;
    SPO4J_TRY(make_policy_loss_params(config, ref_logp != nullptr, &p));
    // No seq_offsets: one sequence of all n tokens (the CUDA code handles a null seq_offsets itself).
    const int32_t num_seqs = seq_offsets != nullptr ? b : 1;
    const int32_t one_seq[2] = {0, static_cast<int32_t>(n)};
    return SPO4J_DISPATCH(device,
                          policy_loss_tokens_cpu(n, num_seqs, seq_offsets != nullptr ? seq_offsets : one_seq, logp,
                                                 old_logp, ref_logp, advantages, valid, p, grad_logp, stats),
                          policy_loss_tokens_cuda(n, num_seqs, seq_offsets, logp, old_logp, ref_logp, advantages, valid,
                                                  p, grad_logp, stats, stream));
    SPO4J_API_END()
}

int spo4j_policy_loss_logits(int device, int64_t n, int64_t v, int32_t b, const int32_t* seq_offsets,
                             const void* logits, int logits_dtype, const void* targets, int targets_dtype,
                             float temperature, const float* old_logp, const float* ref_logp, const float* advantages,
                             const uint8_t* valid, const spo4j_policy_loss_config* config, void* grad_logits,
                             float* logp_out, float* entropy_out, double* stats, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    SPO4J_TRY(check_sizes(n, b, seq_offsets));
    SPO4J_TRY(check_logits_inputs(n, v, logits, logits_dtype, targets, targets_dtype, temperature));
    SPO4J_TRY(check_token_inputs(n, static_cast<const float*>(logits), old_logp, advantages, stats));
    PolicyLossParams p;
    SPO4J_TRY(make_policy_loss_params(config, ref_logp != nullptr, &p));
    const int32_t num_seqs = seq_offsets != nullptr ? b : 1;
    const int32_t one_seq[2] = {0, static_cast<int32_t>(n)};
    return SPO4J_DISPATCH(device,
                          policy_loss_logits_cpu(n, v, num_seqs, seq_offsets != nullptr ? seq_offsets : one_seq, logits,
                                                 logits_dtype, targets, targets_dtype, temperature, old_logp, ref_logp,
                                                 advantages, valid, p, grad_logits, logp_out, entropy_out, stats),
                          policy_loss_logits_cuda(n, v, num_seqs, seq_offsets, logits, logits_dtype, targets,
                                                  targets_dtype, temperature, old_logp, ref_logp, advantages, valid, p,
                                                  grad_logits, logp_out, entropy_out, stats, stream));
    SPO4J_API_END()
}

int spo4j_policy_loss_token_logprobs(int device, int64_t n, int64_t v, const void* logits, int logits_dtype,
                                     const void* targets, int targets_dtype, float temperature, float* logp_out,
                                     float* entropy_out, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    SPO4J_TRY(check_rows(n));
    SPO4J_TRY(check_logits_inputs(n, v, logits, logits_dtype, targets, targets_dtype, temperature));
    if (n > 0 && logp_out == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "logpOut must not be null");
    return SPO4J_DISPATCH(
        device,
        token_logprobs_cpu(n, v, logits, logits_dtype, targets, targets_dtype, temperature, logp_out, entropy_out),
        token_logprobs_cuda(n, v, logits, logits_dtype, targets, targets_dtype, temperature, logp_out, entropy_out,
                            stream));
    SPO4J_API_END()
}

int spo4j_policy_loss_token_logprobs_backward(int device, int64_t n, int64_t v, const void* logits, int logits_dtype,
                                              const void* targets, int targets_dtype, float temperature,
                                              const float* grad_logp, void* grad_logits, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    SPO4J_TRY(check_rows(n));
    SPO4J_TRY(check_logits_inputs(n, v, logits, logits_dtype, targets, targets_dtype, temperature));
    if (n > 0 && grad_logp == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "gradLogp must not be null");
    if (n > 0 && grad_logits == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "gradLogits must not be null");
    if (n > INT64_MAX / v)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "N x V overflows: N = %lld, V = %lld", static_cast<long long>(n),
                    static_cast<long long>(v));
    return SPO4J_DISPATCH(device,
                          token_logprobs_backward_cpu(n, v, logits, logits_dtype, targets, targets_dtype, temperature,
                                                      grad_logp, grad_logits),
                          token_logprobs_backward_cuda(n, v, logits, logits_dtype, targets, targets_dtype, temperature,
                                                       grad_logp, grad_logits, stream));
    SPO4J_API_END()
}

int spo4j_tree_backup(int device, int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets,
                      const int32_t* parent, const float* leaf_reward, const float* weight, int value_mode,
                      int advantage_mode, float std_eps, float* value, float* advantage, int32_t* child_count,
                      int32_t* depth, float* root_value, int32_t* nonzero_advantages, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    if (num_nodes < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numNodes must be >= 0, got %lld", static_cast<long long>(num_nodes));
    if (num_nodes > INT32_MAX)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numNodes must fit in int32 (parent indices are int32), got %lld",
                    static_cast<long long>(num_nodes));
    if (num_trees < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numTrees must be >= 0, got %d", num_trees);
    if (num_trees == 0 && num_nodes > 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numTrees = 0 trees cannot hold numNodes = %lld nodes",
                    static_cast<long long>(num_nodes));
    if (num_trees > num_nodes)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numTrees = %d exceeds numNodes = %lld (every tree has a root)",
                    num_trees, static_cast<long long>(num_nodes));
    TreeBackupParams p;
    SPO4J_TRY(make_tree_backup_params(value_mode, advantage_mode, std_eps, &p));
    if (num_trees > 0) {
        if (tree_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "treeOffsets must not be null");
        if (parent == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "parent must not be null");
        if (leaf_reward == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "leafReward must not be null");
        if (value == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "value must not be null");
        if (nonzero_advantages != nullptr && advantage == nullptr)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "nonzeroAdvantages needs the advantage output (it counts A != 0)");
    }
    return SPO4J_DISPATCH(device,
                          tree_backup_cpu(num_nodes, num_trees, tree_offsets, parent, leaf_reward, weight, p, value,
                                          advantage, child_count, depth, root_value, nonzero_advantages),
                          tree_backup_cuda(num_nodes, num_trees, tree_offsets, parent, leaf_reward, weight, p, value,
                                           advantage, child_count, depth, root_value, nonzero_advantages, stream));
    SPO4J_API_END()
}

int spo4j_kv_cache_write(int device, float* cache, int32_t num_layers, int32_t num_blocks, int32_t block_size,
                         int32_t kv_heads, int32_t head_dim, int32_t layer, int64_t num_tokens, const int32_t* slots,
                         const float* k, const float* v, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    const KvShape s{num_layers, num_blocks, block_size, kv_heads, head_dim};
    SPO4J_TRY(kv_check_shape(s));
    if (cache == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "cache must not be null");
    SPO4J_TRY(kv_check_write(s, layer, num_tokens, slots, k, v));
    return SPO4J_DISPATCH(device, kv_write_cpu(s, cache, layer, num_tokens, slots, k, v),
                          kv_write_cuda(s, cache, layer, num_tokens, slots, k, v, stream));
    SPO4J_API_END()
}

int spo4j_kv_cache_copy_blocks(int device, float* cache, int32_t num_layers, int32_t num_blocks, int32_t block_size,
                               int32_t kv_heads, int32_t head_dim, int32_t num_copies, const int32_t* src,
                               const int32_t* dst, const int32_t* slots_to_copy, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    const KvShape s{num_layers, num_blocks, block_size, kv_heads, head_dim};
    SPO4J_TRY(kv_check_shape(s));
    if (cache == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "cache must not be null");
    SPO4J_TRY(kv_check_copies(s, num_copies, src, dst, slots_to_copy));
    return SPO4J_DISPATCH(device, kv_copy_blocks_cpu(s, cache, num_copies, src, dst, slots_to_copy),
                          kv_copy_blocks_cuda(s, cache, num_copies, src, dst, slots_to_copy, stream));
    SPO4J_API_END()
}

int spo4j_prefix_attention(int device, const float* cache, int32_t num_layers, int32_t num_blocks, int32_t block_size,
                           int32_t kv_heads, int32_t head_dim, int32_t layer, int32_t q_heads, float scale,
                           int32_t num_queries, const float* q, const int32_t* query_limit, int32_t num_tables,
                           const int32_t* table_offsets, const int32_t* table_blocks, int32_t num_parts,
                           const int32_t* part_table, const int32_t* part_begin, const int32_t* part_end,
                           const int32_t* part_query_offsets, const int32_t* part_queries,
                           const int32_t* query_entry_offsets, const int32_t* query_entries, float* out, float* lse,
                           void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    const AttentionArgs a{cache,
                          num_layers,
                          num_blocks,
                          block_size,
                          kv_heads,
                          head_dim,
                          layer,
                          q_heads,
                          scale,
                          num_queries,
                          q,
                          query_limit,
                          num_tables,
                          table_offsets,
                          table_blocks,
                          num_parts,
                          part_table,
                          part_begin,
                          part_end,
                          part_query_offsets,
                          part_queries,
                          query_entry_offsets,
                          query_entries,
                          out,
                          lse};
    SPO4J_TRY(check_attention_args(a));
    return SPO4J_DISPATCH(device, prefix_attention_cpu(a), prefix_attention_cuda(a, stream));
    SPO4J_API_END()
}

int spo4j_sampler_sample(int device, int64_t b, int64_t v, const void* logits, int logits_dtype, const int64_t* seq_ids,
                         const int32_t* positions, float temperature, int32_t top_k, float top_p, int32_t greedy,
                         uint64_t seed, int32_t* tokens, float* logprobs, void* stream) {
    SPO4J_API_BEGIN()
    SPO4J_TRY(check_device(device));
    if (b < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numRows must be >= 0, got %lld", static_cast<long long>(b));
    if (v <= 0 || v > kSampleMaxVocab)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "vocab must be in [1, 2^19 - 1 = %lld], got %lld",
                    static_cast<long long>(kSampleMaxVocab), static_cast<long long>(v));
    if (b > INT64_MAX / v)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "B x V overflows: B = %lld, V = %lld", static_cast<long long>(b),
                    static_cast<long long>(v));
    SPO4J_TRY(check_logits_dtype(logits_dtype));
    if (!(temperature > 0) || temperature == INFINITY)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "temperature must be finite and > 0, got %g",
                    static_cast<double>(temperature));
    if (top_k < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "topK must be >= 0 (0 = off), got %d", top_k);
    if (!(top_p > 0.0f && top_p <= 1.0f))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "topP must be in (0, 1], got %g", static_cast<double>(top_p));
    if (greedy != 0 && greedy != 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "greedy must be 0 or 1, got %d", greedy);
    if (b > 0) {
        if (logits == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "logits must not be null");
        if (seq_ids == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqIds must not be null");
        if (positions == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "positions must not be null");
        if (tokens == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "tokens must not be null");
    }
    const SampleParams p{temperature, top_k, top_p, greedy != 0, seed};
    return SPO4J_DISPATCH(device, sample_cpu(b, v, logits, logits_dtype, seq_ids, positions, p, tokens, logprobs),
                          sample_cuda(b, v, logits, logits_dtype, seq_ids, positions, p, tokens, logprobs, stream));
    SPO4J_API_END()
}

int spo4j_sampler_philox4x32_10(const uint32_t* counter, const uint32_t* key, uint32_t* out) {
    SPO4J_API_BEGIN()
    if (counter == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "counter must not be null");
    if (key == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "key must not be null");
    if (out == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "out must not be null");
    philox4x32_10(counter, key, out);
    return SPO4J_OK;
    SPO4J_API_END()
}

}  // extern "C"
