// CUDA side of the paged KV cache (spo4j_kv_cache_write / spo4j_kv_cache_copy_blocks on SPO4J_DEVICE_CUDA), layout and
// contract in kv_cache.h. The index arrays arrive in host memory and were checked there (kv_check_write,
// kv_check_copies); they are copied into one stream-ordered workspace, then one kernel does all the stores:
//
//   kv_write_kernel        element i of the [num_tokens, Hkv·D] inputs: K and V of token i / row at its slot
//                          (consecutive threads store consecutive floats of a row: coalesced)
//   kv_copy_blocks_kernel  one thread block per (copy, layer, K/V) plane at a time, grid-stride over planes;
//                          the block's threads copy the plane's slots_to_copy · Hkv·D contiguous floats
//
// The checks guarantee that no two stores of one call hit the same float (distinct slots; distinct dst
// blocks, none of them a src), so the result does not depend on scheduling.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_common.cuh"
#include "kv_cache.h"

namespace spo4j {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGrid = int64_t{1} << 20;  // grid-stride beyond this many blocks

__global__ void kv_write_kernel(KvShape s, float* __restrict__ cache, int32_t layer, int64_t num_tokens,
                                const int32_t* __restrict__ slots, const float* __restrict__ k,
                                const float* __restrict__ v) {
    const int64_t row = s.row();
    const int64_t total = num_tokens * row;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
        const int64_t t = i / row, e = i - t * row;
        const int64_t slot = slots[t];
        cache[s.offset(layer, 0, slot) + e] = k[i];
        cache[s.offset(layer, 1, slot) + e] = v[i];
    }
}

// idx: [3, num_copies] int32 = src, dst, slots_to_copy.
__global__ void kv_copy_blocks_kernel(KvShape s, float* __restrict__ cache, int32_t num_copies,
                                      const int32_t* __restrict__ idx) {
    const int64_t planes = static_cast<int64_t>(s.num_layers) * 2;
    const int64_t items = static_cast<int64_t>(num_copies) * planes;
    const int64_t bs = s.block_size;
    for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
        const int32_t c = static_cast<int32_t>(item / planes);
        const int32_t plane = static_cast<int32_t>(item - c * planes);
        const int32_t layer = plane / 2, kv = plane % 2;
        const int64_t n = static_cast<int64_t>(idx[2 * static_cast<int64_t>(num_copies) + c]) * s.row();
        const float* from = cache + s.offset(layer, kv, idx[c] * bs);
        float* to = cache + s.offset(layer, kv, idx[static_cast<int64_t>(num_copies) + c] * bs);
        for (int64_t e = threadIdx.x; e < n; e += blockDim.x) to[e] = from[e];
    }
}

}  // namespace

int kv_write_cuda(const KvShape& s, float* cache, int32_t layer, int64_t num_tokens, const int32_t* slots,
                  const float* k, const float* v, void* stream_ptr) {
    if (num_tokens == 0) return SPO4J_OK;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    cu::DeviceBuffer ws;
    int st = ws.allocate(sizeof(int32_t) * static_cast<size_t>(num_tokens), stream);
    if (st != SPO4J_OK) return st;
    int32_t* d_slots = ws.at<int32_t>(0);
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(d_slots, slots, sizeof(int32_t) * static_cast<size_t>(num_tokens),
                                     cudaMemcpyHostToDevice, stream));
    const unsigned blocks = cu::grid_blocks(cu::ceil_div(num_tokens * s.row(), kThreads), kMaxGrid);
    kv_write_kernel<<<blocks, kThreads, 0, stream>>>(s, cache, layer, num_tokens, d_slots, k, v);
    SPO4J_CUDA_CHECK_LAUNCH("kv_write_kernel");
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

int kv_copy_blocks_cuda(const KvShape& s, float* cache, int32_t num_copies, const int32_t* src, const int32_t* dst,
                        const int32_t* slots_to_copy, void* stream_ptr) {
    if (num_copies == 0) return SPO4J_OK;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const size_t bytes = sizeof(int32_t) * static_cast<size_t>(num_copies);
    cu::DeviceBuffer ws;
    int st = ws.allocate(3 * bytes, stream);
    if (st != SPO4J_OK) return st;
    int32_t* idx = ws.at<int32_t>(0);
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(idx, src, bytes, cudaMemcpyHostToDevice, stream));
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(idx + num_copies, dst, bytes, cudaMemcpyHostToDevice, stream));
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(idx + 2 * static_cast<int64_t>(num_copies), slots_to_copy, bytes,
                                     cudaMemcpyHostToDevice, stream));
    const int64_t items = static_cast<int64_t>(num_copies) * s.num_layers * 2;
    kv_copy_blocks_kernel<<<cu::grid_blocks(items, kMaxGrid), kThreads, 0, stream>>>(s, cache, num_copies, idx);
    SPO4J_CUDA_CHECK_LAUNCH("kv_copy_blocks_kernel");
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

}  // namespace spo4j
