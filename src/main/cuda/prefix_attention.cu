// CUDA prefix attention (math in prefix_attention.h).
//
// attention_kernel: one thread block per (part, KV head, 16 rows), where a row is one query head of one of
// the part's queries. The block streams the part's positions in tiles of 32: the tile's K and V rows go to
// shared memory once and serve all 16 rows, so a part that serves many queries reads its keys once per
// 16 rows instead of once per query. Each warp owns 4 rows; in the score phase lane t scores position t
// of the tile, in the value phase lane i accumulates dims i, i + 32, ... with the probabilities broadcast
// by shuffles. Rows keep an online softmax (m, l, o) in registers.
// merge_kernel: one warp per (query, head) of the queries listed by zero or several parts; it merges the
// parts' states in the plan's order. A query listed by exactly one part is written by attention_kernel.
// Every output has one writer and every sum a fixed order: results are the same from run to run.
#include <cuda_runtime.h>

#include <vector>

#include "cuda_common.cuh"
#include "prefix_attention.h"

namespace spo4j {

namespace {

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kRowsPerWarp = 4;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;
constexpr int kTile = 32;
constexpr int kDimsPerLane = kMaxAttentionHeadDim / 32;

// The call's arguments with the plan arrays moved to the device, plus the merge workspace.
struct DeviceArgs : AttentionArgs {
    const int64_t* entry_slot;  // workspace slot of each entry, −1 where the query has exactly one entry
    float* ws_o;                // [slots, Hq, D]
    float* ws_lse;              // [slots, Hq]
};

// Shared-memory row pitch of the K tile: odd, so the 32 lanes reading one column hit 32 different banks.
__host__ __device__ inline int key_pitch(int d) { return d % 2 == 0 ? d + 1 : d; }

inline size_t attention_smem_bytes(int d) {
    return sizeof(float) * (static_cast<size_t>(kTile) * key_pitch(d) + static_cast<size_t>(kTile) * d +
                            static_cast<size_t>(kRowsPerBlock) * d);
}

__global__ void __launch_bounds__(kThreads) attention_kernel(DeviceArgs a) {
    extern __shared__ float smem[];
    const int part = static_cast<int>(blockIdx.x), kv_head = static_cast<int>(blockIdx.y);
    const int e0 = a.part_query_offsets[part];
    const int64_t rows = static_cast<int64_t>(a.part_query_offsets[part + 1] - e0) * a.group();
    const int64_t row0 = static_cast<int64_t>(blockIdx.z) * kRowsPerBlock;
    if (row0 >= rows) return;  // the whole block leaves together

    const int d = a.head_dim, kp = key_pitch(d);
    float* ks = smem;
    float* vs = ks + kTile * kp;
    float* qs = vs + kTile * d;
    const int warp = static_cast<int>(threadIdx.x) >> 5, lane = static_cast<int>(threadIdx.x) & 31;
    const int64_t hq = a.q_heads;
    const int32_t begin = a.part_begin[part], part_end = a.part_end[part];

    for (int idx = static_cast<int>(threadIdx.x); idx < kRowsPerBlock * d; idx += kThreads) {
        const int r = idx / d, i = idx - r * d;
        const int64_t row = row0 + r;
        float v = 0.0f;
        if (row < rows) {
            const int64_t qi = a.part_queries[e0 + row / a.group()];
            const int64_t head = static_cast<int64_t>(kv_head) * a.group() + row % a.group();
            v = a.q[(qi * hq + head) * d + i] * a.scale;
        }
        qs[idx] = v;
    }
    // Every thread computes all 16 rows' ends, so the tile loop's bound is block-uniform.
    int32_t max_end = begin;
    int32_t my_end[kRowsPerWarp];
    for (int r = 0; r < kRowsPerBlock; ++r) {
        const int64_t row = row0 + r;
        int32_t end = begin;
        if (row < rows) {
            const int32_t limit = a.query_limit[a.part_queries[e0 + row / a.group()]];
            end = limit < part_end ? limit : part_end;
        }
        if (end > max_end) max_end = end;
        if (r / kRowsPerWarp == warp) my_end[r % kRowsPerWarp] = end;
    }

    float o[kRowsPerWarp][kDimsPerLane];
    float m[kRowsPerWarp], l[kRowsPerWarp];
#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) o[i][j] = 0.0f;
    }

    const int32_t* blocks = a.table_blocks + a.table_offsets[a.part_table[part]];
    for (int32_t t0 = begin; t0 < max_end; t0 += kTile) {
        const int len = max_end - t0 < kTile ? max_end - t0 : kTile;
        __syncthreads();  // the previous tile is consumed (and, the first time, q is in shared memory)
        for (int idx = static_cast<int>(threadIdx.x); idx < len * d; idx += kThreads) {
            const int t = idx / d, i = idx - t * d;
            const int32_t pos = t0 + t;
            const int32_t block = blocks[pos / a.block_size], slot = pos % a.block_size;
            ks[t * kp + i] = a.cache[a.row_offset(0, block, slot, kv_head) + i];
            vs[t * d + i] = a.cache[a.row_offset(1, block, slot, kv_head) + i];
        }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < kRowsPerWarp; ++i) {
            const int valid = my_end[i] - t0 < len ? my_end[i] - t0 : len;
            if (valid <= 0) continue;  // warp-uniform: the row and the tile are the warp's
            const float* qrow = qs + (warp * kRowsPerWarp + i) * d;
            float s = -INFINITY;
            if (lane < valid) {
                float acc = 0.0f;
                const float* krow = ks + lane * kp;
                for (int k = 0; k < d; ++k) acc = fmaf(qrow[k], krow[k], acc);
                s = acc;
            }
            float tile_max = s;
#pragma unroll
            for (int off = 16; off > 0; off >>= 1)
                tile_max = fmaxf(tile_max, __shfl_xor_sync(cu::kFullMask, tile_max, off));
            const float new_max = fmaxf(m[i], tile_max);
            const float c = m[i] == -INFINITY ? 0.0f : expf(m[i] - new_max);
            const float p = lane < valid ? expf(s - new_max) : 0.0f;
            float sum = cu::warp_reduce(p, [](float x, float y) { return x + y; });
            sum = __shfl_sync(cu::kFullMask, sum, 0);
            l[i] = l[i] * c + sum;
            m[i] = new_max;
#pragma unroll
            for (int j = 0; j < kDimsPerLane; ++j) o[i][j] *= c;
            for (int t = 0; t < valid; ++t) {
                const float pt = __shfl_sync(cu::kFullMask, p, t);
                const float* vrow = vs + t * d;
#pragma unroll
                for (int j = 0; j < kDimsPerLane; ++j) {
                    const int k = lane + 32 * j;
                    if (k < d) o[i][j] = fmaf(pt, vrow[k], o[i][j]);
                }
            }
        }
    }

#pragma unroll
    for (int i = 0; i < kRowsPerWarp; ++i) {
        const int64_t row = row0 + warp * kRowsPerWarp + i;
        if (row >= rows) continue;
        const int entry = e0 + static_cast<int>(row / a.group());
        const int64_t qi = a.part_queries[entry];
        const int64_t head = static_cast<int64_t>(kv_head) * a.group() + row % a.group();
        const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
        const float lse = l[i] > 0.0f ? m[i] + logf(l[i]) : -INFINITY;
        const int64_t slot = a.entry_slot[entry];
        float* dst = slot < 0 ? a.out + (qi * hq + head) * d : a.ws_o + (slot * hq + head) * d;
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) {
            const int k = lane + 32 * j;
            if (k < d) dst[k] = o[i][j] * inv;
        }
        if (lane == 0) {
            if (slot >= 0)
                a.ws_lse[slot * hq + head] = lse;
            else if (a.lse != nullptr)
                a.lse[qi * hq + head] = lse;
        }
    }
}

__global__ void __launch_bounds__(kThreads) merge_kernel(DeviceArgs a, const int32_t* merge_queries, int64_t count) {
    const int64_t hq = a.q_heads;
    const int64_t task = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5);
    if (task >= count * hq) return;
    const int lane = static_cast<int>(threadIdx.x) & 31, d = a.head_dim;
    const int64_t qi = merge_queries[task / hq], head = task % hq;
    float o[kDimsPerLane];
#pragma unroll
    for (int j = 0; j < kDimsPerLane; ++j) o[j] = 0.0f;
    LseMerge merge;
    for (int k = a.query_entry_offsets[qi]; k < a.query_entry_offsets[qi + 1]; ++k) {
        const int64_t slot = a.entry_slot[a.query_entries[k]];
        float c, w;
        merge.add(a.ws_lse[slot * hq + head], &c, &w);
        if (w == 0.0f) continue;
        const float* src = a.ws_o + (slot * hq + head) * d;
#pragma unroll
        for (int j = 0; j < kDimsPerLane; ++j) {
            const int i = lane + 32 * j;
            if (i < d) o[j] = o[j] * c + w * src[i];
        }
    }
    const float inv = merge.inverse_weight();
    float* dst = a.out + (qi * hq + head) * d;
#pragma unroll
    for (int j = 0; j < kDimsPerLane; ++j) {
        const int i = lane + 32 * j;
        if (i < d) dst[i] = o[j] * inv;
    }
    if (lane == 0 && a.lse != nullptr) a.lse[qi * hq + head] = merge.lse();
}

// Index of the first non-finite value of q, by atomicMin (the minimum does not depend on the order).
__global__ void first_non_finite_kernel(const float* x, int64_t n, unsigned long long* first) {
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        if (!is_finite_f(x[i])) atomicMin(first, static_cast<unsigned long long>(i));
    }
}

}  // namespace

int prefix_attention_cuda(const AttentionArgs& a, void* stream_ptr) {
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int64_t nq = a.num_queries, hq = a.q_heads, d = a.head_dim;
    const int64_t q_count = nq * hq * d;
    int st;
    if (q_count > 0) {
        cu::DeviceBuffer flag;
        if ((st = flag.allocate(sizeof(unsigned long long), stream)) != SPO4J_OK) return st;
        unsigned long long* first = flag.at<unsigned long long>(0);
        SPO4J_CUDA_CHECK(cudaMemsetAsync(first, 0xFF, sizeof(unsigned long long), stream));
        int sms = 0;
        if ((st = cu::current_sm_count(&sms)) != SPO4J_OK) return st;
        first_non_finite_kernel<<<cu::grid_blocks(cu::ceil_div(q_count, 256), int64_t{sms} * 8), 256, 0, stream>>>(
            a.q, q_count, first);
        SPO4J_CUDA_CHECK_LAUNCH("attention first_non_finite_kernel");
        unsigned long long h = 0;
        SPO4J_CUDA_CHECK(cudaMemcpyAsync(&h, first, sizeof h, cudaMemcpyDeviceToHost, stream));
        SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
        if (h != ~0ull) {
            const long long i = static_cast<long long>(h);
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "q[%lld] is not finite (query %lld, head %lld)", i,
                        static_cast<long long>(i / (hq * d)), static_cast<long long>(i / d % hq));
        }
    }
    if (nq == 0) return SPO4J_OK;

    // Host planning: the workspace slots of entries whose query merges, the queries to merge, the grid.
    const int64_t e_count = a.num_entries();
    std::vector<int64_t> entry_slot(static_cast<size_t>(e_count), -1);
    std::vector<int32_t> merge_queries;
    int64_t slots = 0;
    for (int32_t qi = 0; qi < nq; ++qi) {
        const int32_t begin = a.query_entry_offsets[qi], end = a.query_entry_offsets[qi + 1];
        if (end - begin == 1) continue;
        merge_queries.push_back(qi);
        for (int32_t k = begin; k < end; ++k) entry_slot[static_cast<size_t>(a.query_entries[k])] = slots++;
    }
    int64_t max_rows = 0;
    for (int32_t p = 0; p < a.num_parts; ++p) {
        const int64_t rows = static_cast<int64_t>(a.part_query_offsets[p + 1] - a.part_query_offsets[p]) * a.group();
        if (rows > max_rows) max_rows = rows;
    }
    const int64_t row_blocks = cu::ceil_div(max_rows, kRowsPerBlock);
    if (row_blocks > 65535)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "a part serves %lld query heads; at most %d fit one CUDA launch",
                    static_cast<long long>(max_rows), 65535 * kRowsPerBlock);

    // One upload of every index array the kernels read.
    const int64_t num_table_blocks = a.table_offsets[a.num_tables];
    cu::WorkspaceLayout lay;
    const size_t off_limit = lay.add<int32_t>(nq);
    const size_t off_toff = lay.add<int32_t>(a.num_tables + 1);
    const size_t off_tblk = lay.add<int32_t>(num_table_blocks);
    const size_t off_ptab = lay.add<int32_t>(a.num_parts);
    const size_t off_pbeg = lay.add<int32_t>(a.num_parts);
    const size_t off_pend = lay.add<int32_t>(a.num_parts);
    const size_t off_pqo = lay.add<int32_t>(a.num_parts + 1);
    const size_t off_pq = lay.add<int32_t>(e_count);
    const size_t off_qeo = lay.add<int32_t>(nq + 1);
    const size_t off_qe = lay.add<int32_t>(e_count);
    const size_t off_slot = lay.add<int64_t>(e_count);
    const size_t off_mq = lay.add<int32_t>(static_cast<int64_t>(merge_queries.size()));
    const size_t index_bytes = lay.bytes();
    const size_t off_wso = lay.add<float>(slots * hq * d);
    const size_t off_wsl = lay.add<float>(slots * hq);
    std::vector<unsigned char> host(index_bytes);
    auto put = [&](size_t off, const void* src, int64_t bytes) {
        if (bytes > 0) memcpy(host.data() + off, src, static_cast<size_t>(bytes));
    };
    put(off_limit, a.query_limit, nq * 4);
    put(off_toff, a.table_offsets, (a.num_tables + 1) * 4LL);
    put(off_tblk, a.table_blocks, num_table_blocks * 4);
    put(off_ptab, a.part_table, a.num_parts * 4LL);
    put(off_pbeg, a.part_begin, a.num_parts * 4LL);
    put(off_pend, a.part_end, a.num_parts * 4LL);
    put(off_pqo, a.part_query_offsets, (a.num_parts + 1) * 4LL);
    put(off_pq, a.part_queries, e_count * 4);
    put(off_qeo, a.query_entry_offsets, (nq + 1) * 4);
    put(off_qe, a.query_entries, e_count * 4);
    put(off_slot, entry_slot.data(), e_count * 8);
    put(off_mq, merge_queries.data(), static_cast<int64_t>(merge_queries.size()) * 4);

    cu::DeviceBuffer ws;
    if ((st = ws.allocate(lay.bytes(), stream)) != SPO4J_OK) return st;
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(ws.get(), host.data(), index_bytes, cudaMemcpyHostToDevice, stream));
    DeviceArgs da{a, ws.at<int64_t>(off_slot), ws.at<float>(off_wso), ws.at<float>(off_wsl)};
    da.query_limit = ws.at<int32_t>(off_limit);
    da.table_offsets = ws.at<int32_t>(off_toff);
    da.table_blocks = ws.at<int32_t>(off_tblk);
    da.part_table = ws.at<int32_t>(off_ptab);
    da.part_begin = ws.at<int32_t>(off_pbeg);
    da.part_end = ws.at<int32_t>(off_pend);
    da.part_query_offsets = ws.at<int32_t>(off_pqo);
    da.part_queries = ws.at<int32_t>(off_pq);
    da.query_entry_offsets = ws.at<int32_t>(off_qeo);
    da.query_entries = ws.at<int32_t>(off_qe);

    if (a.num_parts > 0 && max_rows > 0) {
        const size_t smem = attention_smem_bytes(a.head_dim);
        if (smem > 48 * 1024)
            SPO4J_CUDA_CHECK(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                  static_cast<int>(smem)));
        const dim3 grid(static_cast<unsigned>(a.num_parts), static_cast<unsigned>(a.kv_heads),
                        static_cast<unsigned>(row_blocks));
        attention_kernel<<<grid, kThreads, smem, stream>>>(da);
        SPO4J_CUDA_CHECK_LAUNCH("attention_kernel");
    }
    const int64_t merge_tasks = static_cast<int64_t>(merge_queries.size()) * hq;
    if (merge_tasks > 0) {
        merge_kernel<<<cu::grid_blocks(cu::ceil_div(merge_tasks, kWarps), INT32_MAX), kThreads, 0, stream>>>(
            da, ws.at<int32_t>(off_mq), static_cast<int64_t>(merge_queries.size()));
        SPO4J_CUDA_CHECK_LAUNCH("attention merge_kernel");
    }
    // The pageable upload buffer and the workspace must outlive the kernels.
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

}  // namespace spo4j
