// CPU side of the paged KV cache: the read-only checks shared with the CUDA entry, and the host write and
// copy. Every store goes to a distinct location (the checks make sure of it), so the chunks of the parallel
// loops write disjoint memory and the result does not depend on the thread count.
#include "kv_cache.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "parallel.h"

namespace spo4j {

int kv_check_shape(const KvShape& s) {
    if (s.num_layers < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numLayers must be >= 1, got %d", s.num_layers);
    if (s.num_blocks < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numBlocks must be >= 1, got %d", s.num_blocks);
    if (s.block_size < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "blockSize must be >= 1, got %d", s.block_size);
    if (s.kv_heads < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "kvHeads must be >= 1, got %d", s.kv_heads);
    if (s.head_dim < 1) return fail(SPO4J_ERR_INVALID_ARGUMENT, "headDim must be >= 1, got %d", s.head_dim);
    if (s.slots() > INT32_MAX)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numBlocks * blockSize = %lld must fit in int32 (slots are int32)",
                    static_cast<long long>(s.slots()));
    // bytes = 4 · 2 · L · slots · row, each factor below 2^31: compare in long double to avoid the overflow.
    const long double bytes =
        8.0L * s.num_layers * static_cast<long double>(s.slots()) * static_cast<long double>(s.row());
    if (bytes > static_cast<long double>(INT64_MAX))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "the cache of %d layers x %lld slots x %lld floats exceeds 2^63 bytes",
                    s.num_layers, static_cast<long long>(s.slots()), static_cast<long long>(s.row()));
    return SPO4J_OK;
}

int kv_check_write(const KvShape& s, int32_t layer, int64_t num_tokens, const int32_t* slots, const float* k,
                   const float* v) {
    if (layer < 0 || layer >= s.num_layers)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "layer = %d is outside [0, numLayers = %d)", layer, s.num_layers);
    if (num_tokens < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numTokens must be >= 0, got %lld", static_cast<long long>(num_tokens));
    if (num_tokens == 0) return SPO4J_OK;
    if (num_tokens > s.slots())
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "numTokens = %lld exceeds the cache's %lld slots (a slot would repeat)",
                    static_cast<long long>(num_tokens), static_cast<long long>(s.slots()));
    if (slots == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "slots must not be null");
    if (k == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "k must not be null");
    if (v == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "v must not be null");
    for (int64_t t = 0; t < num_tokens; ++t) {
        if (slots[t] < 0 || slots[t] >= s.slots())
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "slots[%lld] = %d is outside [0, numBlocks * blockSize = %lld)",
                        static_cast<long long>(t), slots[t], static_cast<long long>(s.slots()));
    }
    std::vector<int32_t> sorted(slots, slots + num_tokens);
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end())
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "slots holds slot %d twice (each token needs its own slot)", *dup);
    return SPO4J_OK;
}

int kv_check_copies(const KvShape& s, int32_t num_copies, const int32_t* src, const int32_t* dst,
                    const int32_t* slots_to_copy) {
    if (num_copies < 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "numCopies must be >= 0, got %d", num_copies);
    if (num_copies == 0) return SPO4J_OK;
    if (src == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "src must not be null");
    if (dst == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "dst must not be null");
    if (slots_to_copy == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "slotsToCopy must not be null");
    for (int32_t c = 0; c < num_copies; ++c) {
        if (src[c] < 0 || src[c] >= s.num_blocks)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "src[%d] = %d is outside [0, numBlocks = %d)", c, src[c],
                        s.num_blocks);
        if (dst[c] < 0 || dst[c] >= s.num_blocks)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "dst[%d] = %d is outside [0, numBlocks = %d)", c, dst[c],
                        s.num_blocks);
        if (src[c] == dst[c])
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "src[%d] = dst[%d] = %d: a block cannot be copied onto itself", c,
                        c, src[c]);
        if (slots_to_copy[c] < 0 || slots_to_copy[c] > s.block_size)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "slotsToCopy[%d] = %d is outside [0, blockSize = %d]", c,
                        slots_to_copy[c], s.block_size);
    }
    std::vector<int32_t> dsts(dst, dst + num_copies);
    std::sort(dsts.begin(), dsts.end());
    const auto dup = std::adjacent_find(dsts.begin(), dsts.end());
    if (dup != dsts.end()) return fail(SPO4J_ERR_INVALID_ARGUMENT, "dst holds block %d twice", *dup);
    for (int32_t c = 0; c < num_copies; ++c) {
        if (std::binary_search(dsts.begin(), dsts.end(), src[c]))
            return fail(SPO4J_ERR_INVALID_ARGUMENT,
                        "src[%d] = %d is also a dst of the same call (the result would depend on the copy order)", c,
                        src[c]);
    }
    return SPO4J_OK;
}

namespace {
constexpr int64_t kFloatsPerChunk = 1 << 16;  // 256 KiB of stores per task: amortizes the pool's hand-off
}

int kv_write_cpu(const KvShape& s, float* cache, int32_t layer, int64_t num_tokens, const int32_t* slots,
                 const float* k, const float* v) {
    if (num_tokens == 0) return SPO4J_OK;
    const int64_t row = s.row();
    const int64_t per_chunk = std::max<int64_t>(1, kFloatsPerChunk / (2 * row));
    parallel_for(ceil_div(num_tokens, per_chunk), [&](int64_t c) {
        const int64_t end = std::min(num_tokens, (c + 1) * per_chunk);
        for (int64_t t = c * per_chunk; t < end; ++t) {
            memcpy(cache + s.offset(layer, 0, slots[t]), k + t * row, sizeof(float) * row);
            memcpy(cache + s.offset(layer, 1, slots[t]), v + t * row, sizeof(float) * row);
        }
    });
    return SPO4J_OK;
}

int kv_copy_blocks_cpu(const KvShape& s, float* cache, int32_t num_copies, const int32_t* src, const int32_t* dst,
                       const int32_t* slots_to_copy) {
    if (num_copies == 0) return SPO4J_OK;
    // One task per (copy, layer, K/V): the slots of one block at one layer are contiguous rows.
    const int64_t planes = static_cast<int64_t>(s.num_layers) * 2;
    parallel_for(static_cast<int64_t>(num_copies) * planes, [&](int64_t i) {
        const int32_t c = static_cast<int32_t>(i / planes);
        const int32_t plane = static_cast<int32_t>(i % planes);
        const int32_t layer = plane / 2, kv = plane % 2;
        const int64_t bs = s.block_size;
        memcpy(cache + s.offset(layer, kv, dst[c] * bs), cache + s.offset(layer, kv, src[c] * bs),
               sizeof(float) * s.row() * slots_to_copy[c]);
    });
    return SPO4J_OK;
}

}  // namespace spo4j
