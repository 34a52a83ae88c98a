// Paged KV-cache storage (the data side of KvCachePool; the block tables, ref-counts and free list live in
// Java, like vLLM's block manager). One fp32 allocation laid out [L][2][numBlocks][blockSize][Hkv][D]:
//   K row of (layer l, block b, slot s) = cache + ((((l * 2 + 0) * numBlocks + b) * blockSize + s) * Hkv * D
//   V row                               = the same with + 1 instead of + 0
// A row is the Hkv * D floats of one token at one layer; head h starts h * D floats into it. Two operations:
//   write:        for token t, K/V rows of `layer` at flat slot slots[t] (= block * blockSize + slot) <- k[t], v[t]
//   copy_blocks:  for copy c, slots [0, slots_to_copy[c]) of block dst[c] <- the same slots of src[c],
//                 at every layer, K and V (the copy-on-write of a shared tail block; one call for all copies)
// The index arrays are host memory for both devices (the CUDA entry stages them itself), so the read-only
// checks below run on the host, the same code for both.
#pragma once

#include <cstdint>

#include "common.h"

namespace spo4j {

struct KvShape {
    int32_t num_layers;
    int32_t num_blocks;
    int32_t block_size;
    int32_t kv_heads;
    int32_t head_dim;

    SPO4J_HD int64_t row() const { return static_cast<int64_t>(kv_heads) * head_dim; }
    SPO4J_HD int64_t slots() const { return static_cast<int64_t>(num_blocks) * block_size; }
    // Float offset of the K (kv = 0) or V (kv = 1) row of `layer` at flat slot `slot`.
    SPO4J_HD int64_t offset(int32_t layer, int32_t kv, int64_t slot) const {
        return ((static_cast<int64_t>(layer) * 2 + kv) * slots() + slot) * row();
    }
};

// Checks the sizes: each >= 1, numBlocks * blockSize fits int32 (flat slots are int32), the allocation's byte
// count fits int64. SPO4J_OK or the status with the message.
int kv_check_shape(const KvShape& s);
// Read-only checks of a write's inputs: layer in [0, L), num_tokens >= 0, slots, k, v non-null when num_tokens > 0,
// every slot in [0, slots()), no slot twice (so the result does not depend on the order of the stores).
int kv_check_write(const KvShape& s, int32_t layer, int64_t num_tokens, const int32_t* slots, const float* k,
                   const float* v);
// Read-only checks of a copy batch: src, dst in [0, num_blocks), src != dst, counts in [0, block_size], every dst
// used once and never also as a src (so the copies do not depend on their order).
int kv_check_copies(const KvShape& s, int32_t num_copies, const int32_t* src, const int32_t* dst,
                    const int32_t* slots_to_copy);

// ---- CPU (kv_cache.cpp) ----------------------------------------------------------------------------
// Arguments checked by the checks above. Host pointers.
int kv_write_cpu(const KvShape& s, float* cache, int32_t layer, int64_t num_tokens, const int32_t* slots,
                 const float* k, const float* v);
int kv_copy_blocks_cpu(const KvShape& s, float* cache, int32_t num_copies, const int32_t* src, const int32_t* dst,
                       const int32_t* slots_to_copy);

// ---- CUDA (src/main/cuda/kv_cache.cu; only when built with CUDA) ------------------------------------
// cache, k, v: device pointers; slots, src, dst, slots_to_copy: host arrays (copied to the device here).
// Queued on `stream` (cudaStream_t); returns once the cache is written.
int kv_write_cuda(const KvShape& s, float* cache, int32_t layer, int64_t num_tokens, const int32_t* slots,
                  const float* k, const float* v, void* stream);
int kv_copy_blocks_cuda(const KvShape& s, float* cache, int32_t num_copies, const int32_t* src, const int32_t* dst,
                        const int32_t* slots_to_copy, void* stream);

}  // namespace spo4j
