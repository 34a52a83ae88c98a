// CUDA implementation of the batched tree backup (spo4j_tree_backup on SPO4J_DEVICE_CUDA): the per-tree
// code of tree_backup.h (check_tree's rules, count_children, backup_tree) under the contract of spo4j_api.h,
// with the same bits as the CPU twin tree_backup.cpp.
//
// A tree's backup is one sequential pass (sums over children in decreasing index), so the parallelism is
// across trees: one thread runs backup_tree on one tree held in shared memory, and a block holds as many
// whole trees as fit. Blocks own tiles of the node range: the tile j of width C is the trees whose root lies
// in [j·C, (j+1)·C), so a block finds its trees by a search in treeOffsets, with no host round trip.
//
//   check_kernel       treeOffsets checks (grid-stride, keys of tree_offsets_fault)      -> Ctrl::offs_bad
//                      the largest tree of at most S nodes                               -> Ctrl::max_small
//                      per tile of kCheckTileNodes: every node's structural and weight fault, a has-child bit
//                      per node (shared memory, or a global bitmask for tiles that span more than
//                      kCheckWords·32 nodes), then the rewards of the leaves
//                                                                -> Ctrl::tree_bad = min (tree, phase, node)
//   backup_kernel      only if nothing failed; tiles of C = S + 1 − max_small nodes, so that a tile's trees
//                      (at most C − 1 + max_small nodes) fit in one batch of S: they are copied into shared
//                      memory with batch-local indices; child counts by integer shared atomics; one thread per
//                      tree runs backup_tree; coalesced stores. A tree over S nodes is listed. Persistent
//                      blocks (kBackupBlocksPerSm per SM) take tiles from an atomic counter.
//   (the host waits for Ctrl: the error message, or the listed trees:)
//   big_tree_kernel    one listed tree per block: in shared memory up to the opt-in maximum per block, beyond
//                      that one thread on a global scratch (count_children + backup_tree, as the CPU does).
//
// Outputs are written only by backup_kernel and big_tree_kernel, which run only when every check passed, so
// a rejected call writes nothing. The only atomics are on integers (error keys, child counts and bits, list
// slots, tile counter); which block takes a tile or lists a big tree first, or where its scratch lies, does
// not change any result, so the results are the same bits every run and equal to the CPU's.
#include <cuda_runtime.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "cuda_common.cuh"
#include "tree_backup.h"

namespace spo4j {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kBackupBlocksPerSm = 2;      // backup_kernel: shared memory sized for two blocks per SM
constexpr int kCheckWords = 4096;          // check_kernel: has-child bits of 131072 nodes in shared memory
constexpr int32_t kCheckTileNodes = 2048;  // check_kernel's tile width
constexpr unsigned long long kNoError = ~0ull;

// Validation results and the kernels' counters (device memory, copied back once).
struct Ctrl {
    unsigned long long offs_bad;       // smallest failing treeOffsets key (tree_offsets_fault)
    unsigned long long tree_bad;       // smallest fault_key(tree, phase, node) over all trees
    unsigned long long scratch_nodes;  // nodes of the listed trees too big for any shared memory
    unsigned int big_count;            // entries of the big-tree list
    unsigned int max_small;            // nodes of the largest tree of at most S nodes (0 if none)
    unsigned int next_tile;            // backup_kernel's work counter
    unsigned int pad;
};
constexpr size_t kCtrlKeyBytes = offsetof(Ctrl, scratch_nodes);

// A tree over S nodes, for big_tree_kernel; scratch: its first node in the global scratch, or -1 when it
// fits the opt-in shared memory.
struct BigTree {
    int32_t tree;
    int32_t pad;
    int64_t scratch;
};

// Fault phases in check_tree's order: structure, weights, leaf rewards.
enum : unsigned long long { kPhaseStructure = 0, kPhaseWeight = 1, kPhaseReward = 2 };

// Lower keys are reported first: the lowest tree, then its first phase, then its lowest node. 31 + 2 + 31 bits.
__device__ __forceinline__ unsigned long long fault_key(int64_t tree, unsigned long long phase, int64_t node) {
    return (static_cast<unsigned long long>(tree) << 33) | (phase << 31) | static_cast<unsigned long long>(node);
}

struct MinKey {
    __device__ unsigned long long operator()(unsigned long long a, unsigned long long b) const { return b < a ? b : a; }
};
struct MaxU32 {
    __device__ unsigned int operator()(unsigned int a, unsigned int b) const { return b > a ? b : a; }
};

// Byte offsets of the per-node arrays of one batch of `cap` nodes in dynamic shared memory (-1: absent),
// then `offs_entries` int32 treeOffsets. Doubles first, so every array is aligned.
struct SmemLayout {
    int32_t cap;
    int32_t offs_entries;
    int32_t sum, wsum, extra, extra_w;                         // double [cap]
    int32_t parent, reward, weight, value, adv, depth, count;  // 4 bytes [cap]
    int32_t offs;                                              // int32 [offs_entries]
    int32_t bytes;
};

// Which optional arrays a call needs: the same choice as tree_backup_cpu's scratch.
struct Needs {
    bool weight, adv, depth, extra, extra_w;
};

int bytes_per_node(const Needs& n) {
    const int doubles = 2 + (n.extra ? 1 : 0) + (n.extra_w ? 1 : 0);
    const int words = 4 + (n.weight ? 1 : 0) + (n.adv ? 1 : 0) + (n.depth ? 1 : 0);
    return 8 * doubles + 4 * words;
}

SmemLayout make_layout(int32_t cap, int32_t offs_entries, const Needs& n) {
    SmemLayout l{};
    l.cap = cap;
    l.offs_entries = offs_entries;
    int64_t at = 0;
    auto take = [&](int elem, bool present) -> int32_t {
        if (!present) return -1;
        const int64_t o = at;
        at += static_cast<int64_t>(elem) * cap;
        return static_cast<int32_t>(o);
    };
    l.sum = take(8, true);
    l.wsum = take(8, true);
    l.extra = take(8, n.extra);
    l.extra_w = take(8, n.extra_w);
    l.parent = take(4, true);
    l.reward = take(4, true);
    l.weight = take(4, n.weight);
    l.value = take(4, true);
    l.adv = take(4, n.adv);
    l.depth = take(4, n.depth);
    l.count = take(4, true);
    l.offs = static_cast<int32_t>(at);
    at += 4 * static_cast<int64_t>(offs_entries);
    l.bytes = static_cast<int32_t>(cu::align_up(static_cast<size_t>(at), 16));
    return l;
}

// Everything the kernels read and write (device pointers; null where absent).
struct Args {
    int64_t n;
    int32_t t;
    const int32_t* offs;    // [T+1]
    const int32_t* parent;  // [N]
    const float* reward;    // [N]
    const float* weight;    // [N] or null
    TreeBackupParams p;
    float* value;          // [N]
    float* adv;            // [N] or null
    int32_t* child_count;  // [N] or null
    int32_t* depth;        // [N] or null
    float* root_value;     // [T] or null
    int32_t* nonzero;      // [T] or null
    int32_t min_tile;      // backup_kernel's narrowest tile width
    uint32_t* bits;        // global has-child bitmask [ceil(N / 32) + 1], zeroed; null if never needed
    Ctrl* ctrl;
    BigTree* big;  // [big_cap]
    uint32_t big_cap;
    int32_t smem_max_nodes;  // the largest tree big_tree_kernel holds in shared memory
    SmemLayout tile_lay;     // backup_kernel's batches of S = tile_lay.cap nodes
    SmemLayout big_lay;      // big_tree_kernel's single trees
    int32_t* scratch_count;  // big_tree_kernel's global scratch, [Ctrl::scratch_nodes] each
    double* scratch_sum;
    double* scratch_wsum;
    double* scratch_extra;
    double* scratch_extra_w;
};

__device__ __forceinline__ bool failed(const Ctrl* c) { return c->offs_bad != kNoError || c->tree_bad != kNoError; }

template <class T>
__device__ __forceinline__ T* smem_at(unsigned char* smem, int32_t offset) {
    return offset < 0 ? nullptr : reinterpret_cast<T*>(smem + offset);
}

// First k in [0, count) with offs[k] >= target, or count. One warp, 32 probes per step: about log32(count)
// dependent global loads. On offsets that are not increasing (rejected anyway) it still ends, at some k.
__device__ int64_t warp_lower_bound(const int32_t* offs, int64_t count, int64_t target, int lane) {
    int64_t lo = 0, hi = count;  // the answer lies in [lo, hi]
    while (lo < hi) {
        const int64_t step = (hi - lo + 31) >> 5;
        const int64_t pos = lo + lane * step;
        const bool below = pos < hi && static_cast<int64_t>(offs[pos]) < target;
        const int c = __popc(__ballot_sync(cu::kFullMask, below));
        if (c == 0) return lo;
        // Probe c - 1 is below the target and probe c (or hi) is not.
        const int64_t next_hi = lo + c * step;
        lo += (c - 1) * step + 1;
        if (next_hi < hi) hi = next_hi;
    }
    return lo;
}

// The tile-local tree t of node i: offs_s[t] <= i < offs_s[t + 1], t in [0, nt).
__device__ __forceinline__ int32_t tree_of(const int32_t* offs_s, int32_t nt, int64_t i) {
    int32_t lo = 0, hi = nt - 1;
    while (lo < hi) {
        const int32_t mid = (lo + hi + 1) >> 1;
        if (offs_s[mid] <= i)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

// The trees [range[0], range[1]) of tile j of `width` nodes: roots in [j·width, (j+1)·width). Warps 0 and 1
// search; all threads of the block call it (it ends with a barrier).
__device__ __forceinline__ void find_tile(const Args& a, int64_t j, int64_t width, int32_t* range) {
    const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
    if (warp < 2) {
        int64_t f = warp_lower_bound(a.offs, static_cast<int64_t>(a.t) + 1, (j + warp) * width, lane);
        if (f > a.t) f = a.t;
        if (lane == 0) range[warp] = static_cast<int32_t>(f);
    }
    __syncthreads();
}

// ---- kernels: checks ----------------------------------------------------------------------------------

// Dynamic shared memory: the tile's treeOffsets [kCheckTileNodes + 1], then kCheckWords has-child words.
__global__ void __launch_bounds__(kThreads) check_kernel(Args a) {
    extern __shared__ __align__(16) unsigned char smem[];
    __shared__ int32_t range[2];
    const int tid = static_cast<int>(threadIdx.x), lane = tid & 31;

    // treeOffsets: a thread's entries increase, so its first failing one has its smallest key. Tree sizes:
    // the largest one that backup_kernel batches (meaningless if an entry fails, and then unused).
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
    unsigned int max_small = 0;
    for (int64_t k = static_cast<int64_t>(blockIdx.x) * kThreads + tid; k <= a.t; k += stride) {
        const int32_t before = k > 0 ? a.offs[k - 1] : 0;
        const int64_t key = tree_offsets_fault(static_cast<int32_t>(k), a.t, a.n, a.offs[k], before);
        if (key >= 0) {
            atomicMin(&a.ctrl->offs_bad, static_cast<unsigned long long>(key));
            break;
        }
        if (k < a.t) {
            const int64_t size = static_cast<int64_t>(a.offs[k + 1]) - a.offs[k];
            if (size > max_small && size <= a.tile_lay.cap) max_small = static_cast<unsigned int>(size);
        }
    }
    max_small = cu::warp_reduce(max_small, MaxU32{});
    if (lane == 0 && max_small > 0) atomicMax(&a.ctrl->max_small, max_small);

    find_tile(a, blockIdx.x, kCheckTileNodes, range);
    const int32_t f0 = range[0], f1 = range[1];
    const int32_t nt = f1 - f0;
    // Valid offsets give at most kCheckTileNodes roots per tile; this guard only keeps bad offsets (reported
    // from the loop above) from overrunning shared memory or the node arrays.
    if (nt <= 0 || nt > kCheckTileNodes) return;  // block-uniform
    int32_t* offs_s = reinterpret_cast<int32_t*>(smem);
    uint32_t* bits_s = reinterpret_cast<uint32_t*>(smem + cu::align_up(4 * (size_t{kCheckTileNodes} + 1), 16));
    for (int32_t t = tid; t <= nt; t += kThreads) offs_s[t] = a.offs[f0 + t];
    __syncthreads();
    bool bad_local = tid == 0 && (offs_s[0] < 0 || offs_s[nt] > a.n);
    for (int32_t t = tid; t < nt; t += kThreads) bad_local |= offs_s[t + 1] <= offs_s[t];
    if (__syncthreads_or(bad_local)) return;

    const int64_t base = offs_s[0], end = offs_s[nt];
    const int64_t base32 = base & ~int64_t{31};
    const int64_t words = (end - base32 + 31) >> 5;
    const bool in_smem = words <= kCheckWords;  // block-uniform; a.bits is allocated whenever this can fail
    uint32_t* bits = in_smem ? bits_s : a.bits + (base32 >> 5);
    if (in_smem) {
        for (int64_t w = tid; w < words; w += kThreads) bits_s[w] = 0u;
    }
    __syncthreads();

    // Structure and weights: each node's fault depends on its own values only.
    unsigned long long key = kNoError;
    for (int64_t i = base + tid; i < end; i += kThreads) {
        const int32_t t = tree_of(offs_s, nt, i);
        const int32_t b = offs_s[t], e = offs_s[t + 1];
        const int32_t p = a.parent[i];
        const int32_t fault = tree_node_fault(static_cast<int32_t>(i), p, b, e);
        if (fault != TREE_FAULT_NONE) {
            key = MinKey{}(key, fault_key(f0 + t, kPhaseStructure, i));
        } else if (i != b) {
            const int64_t r = p - base32;
            atomicOr(bits + (r >> 5), 1u << (r & 31));
        }
        if (a.weight != nullptr && !tree_weight_ok(a.weight[i]))
            key = MinKey{}(key, fault_key(f0 + t, kPhaseWeight, i));
    }
    __syncthreads();
    // Leaf rewards. A tree with a structural fault may have wrong bits, but that fault outranks these.
    for (int64_t i = base + tid; i < end; i += kThreads) {
        const int64_t r = i - base32;
        // The global words are also set by other blocks' atomics at the tile edges: read them from L2.
        const uint32_t w = in_smem ? bits_s[r >> 5] : __ldcg(bits + (r >> 5));
        if (((w >> (r & 31)) & 1u) == 0 && !tree_reward_ok(a.reward[i]))
            key = MinKey{}(key, fault_key(f0 + tree_of(offs_s, nt, i), kPhaseReward, i));
    }
    key = cu::warp_reduce(key, MinKey{});
    if (lane == 0 && key != kNoError) atomicMin(&a.ctrl->tree_bad, key);
}

// ---- kernels: backup ----------------------------------------------------------------------------------

// Tree t of a batch goes to lane t / kWarps of warp t % kWarps: a batch's few trees run on different warps,
// which the scheduler overlaps, rather than in lock step within one warp.
__device__ __forceinline__ int32_t first_tree_of_thread(int tid) { return (tid & 31) * kWarps + (tid >> 5); }

// Trees [lo, hi) of offs_s (offs_s[t] = treeOffsets[tree_base + t]), whose nodes [offs_s[lo], offs_s[hi])
// number at most l.cap: loaded into shared memory with batch-local indices (a root keeps parent -1),
// backed up one tree per thread, stored. All threads of the block call it.
__device__ __forceinline__ void run_batch(const Args& a, const SmemLayout& l, unsigned char* smem,
                                          const int32_t* offs_s, int32_t lo, int32_t hi, int64_t tree_base) {
    const int tid = static_cast<int>(threadIdx.x);
    double* sum_s = smem_at<double>(smem, l.sum);
    double* wsum_s = smem_at<double>(smem, l.wsum);
    double* extra_s = smem_at<double>(smem, l.extra);
    double* extra_w_s = smem_at<double>(smem, l.extra_w);
    int32_t* parent_s = smem_at<int32_t>(smem, l.parent);
    float* reward_s = smem_at<float>(smem, l.reward);
    float* weight_s = smem_at<float>(smem, l.weight);
    float* value_s = smem_at<float>(smem, l.value);
    float* adv_s = smem_at<float>(smem, l.adv);
    int32_t* depth_s = smem_at<int32_t>(smem, l.depth);
    int32_t* count_s = smem_at<int32_t>(smem, l.count);

    const int32_t b0 = offs_s[lo];
    const int32_t len = offs_s[hi] - b0;
    for (int32_t i = tid; i < len; i += kThreads) {
        const int64_t g = static_cast<int64_t>(b0) + i;
        const int32_t p = a.parent[g];
        parent_s[i] = p < 0 ? -1 : p - b0;
        reward_s[i] = a.reward[g];
        if (weight_s != nullptr) weight_s[i] = a.weight[g];
        count_s[i] = 0;
    }
    __syncthreads();
    // Child counts: integer sums, so the order of the atomics does not matter (count_children's result).
    for (int32_t i = tid; i < len; i += kThreads) {
        const int32_t p = parent_s[i];
        if (p >= 0) atomicAdd(count_s + p, 1);
    }
    __syncthreads();
    const int32_t nt = hi - lo;
    for (int32_t t = first_tree_of_thread(tid); t < nt; t += kThreads) {
        const int32_t tb = offs_s[lo + t] - b0, te = offs_s[lo + t + 1] - b0;
        const TreeScratch s{count_s + tb, sum_s + tb, wsum_s + tb, extra_s != nullptr ? extra_s + tb : nullptr,
                            extra_w_s != nullptr ? extra_w_s + tb : nullptr};
        const int32_t nonzero =
            backup_tree(tb, te, parent_s, reward_s, weight_s, a.p, s, value_s, adv_s, nullptr, depth_s);
        const int64_t k = tree_base + lo + t;
        if (a.root_value != nullptr) a.root_value[k] = value_s[tb];
        if (a.nonzero != nullptr) a.nonzero[k] = nonzero;
    }
    __syncthreads();
    for (int32_t i = tid; i < len; i += kThreads) {
        const int64_t g = static_cast<int64_t>(b0) + i;
        a.value[g] = value_s[i];
        if (a.adv != nullptr) a.adv[g] = adv_s[i];
        if (a.child_count != nullptr) a.child_count[g] = count_s[i];
        if (a.depth != nullptr) a.depth[g] = depth_s[i];
    }
    __syncthreads();  // the next batch overwrites shared memory
}

// The largest h in [lo, nt] with offs_s[h] <= limit (offs_s increasing, offs_s[lo] <= limit).
__device__ __forceinline__ int32_t last_within(const int32_t* offs_s, int32_t lo, int32_t nt, int64_t limit) {
    int32_t hi = nt;
    while (lo < hi) {
        const int32_t mid = (lo + hi + 1) >> 1;
        if (offs_s[mid] <= limit)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

__device__ void list_big_tree(const Args& a, int32_t tree, int32_t size) {
    int64_t scratch = -1;
    if (size > a.smem_max_nodes)
        scratch = static_cast<int64_t>(atomicAdd(&a.ctrl->scratch_nodes, static_cast<unsigned long long>(size)));
    const unsigned int slot = atomicAdd(&a.ctrl->big_count, 1u);
    if (slot < a.big_cap) a.big[slot] = BigTree{tree, 0, scratch};  // the host checks big_count <= big_cap
}

// Persistent blocks taking tiles from Ctrl::next_tile; dynamic shared memory per a.tile_lay (S = l.cap nodes,
// S + 1 treeOffsets).
__global__ void __launch_bounds__(kThreads, kBackupBlocksPerSm) backup_kernel(Args a) {
    extern __shared__ __align__(16) unsigned char smem[];
    __shared__ int32_t range[2];
    __shared__ unsigned int tile_s;
    if (failed(a.ctrl)) return;  // block-uniform
    const int tid = static_cast<int>(threadIdx.x);
    const SmemLayout& l = a.tile_lay;
    // Tile width: at most S (so at most S roots), at least a.min_tile (so that big trees do not make tiles
    // of one node each).
    int64_t width = static_cast<int64_t>(l.cap) + 1 - a.ctrl->max_small;
    if (width > l.cap) width = l.cap;
    if (width < a.min_tile) width = a.min_tile;
    const int64_t tiles = (a.n + width - 1) / width;
    int32_t* offs_s = smem_at<int32_t>(smem, l.offs);
    for (;;) {
        if (tid == 0) tile_s = atomicAdd(&a.ctrl->next_tile, 1u);
        __syncthreads();
        const int64_t j = tile_s;  // read before find_tile's barrier, rewritten only after it
        if (j >= tiles) return;    // block-uniform
        find_tile(a, j, width, range);
        const int32_t f0 = range[0], f1 = range[1];
        const int32_t nt = f1 - f0;
        if (nt <= 0) continue;
        for (int32_t t = tid; t <= nt; t += kThreads) offs_s[t] = a.offs[f0 + t];
        __syncthreads();
        // Greedy runs of whole trees within l.cap nodes; every thread computes the same run.
        int32_t lo = 0;
        while (lo < nt) {
            const int32_t hi = last_within(offs_s, lo, nt, static_cast<int64_t>(offs_s[lo]) + l.cap);
            if (hi == lo) {  // tree lo alone has more than l.cap nodes
                if (tid == 0) list_big_tree(a, f0 + lo, offs_s[lo + 1] - offs_s[lo]);
                ++lo;
                continue;
            }
            run_batch(a, l, smem, offs_s, lo, hi, f0);
            lo = hi;
        }
    }
}

// The listed trees, one per block (grid-stride); dynamic shared memory per a.big_lay.
__global__ void __launch_bounds__(kThreads) big_tree_kernel(Args a, unsigned int count) {
    extern __shared__ __align__(16) unsigned char smem[];
    const int tid = static_cast<int>(threadIdx.x);
    const SmemLayout& l = a.big_lay;
    int32_t* offs_s = smem_at<int32_t>(smem, l.offs);
    for (unsigned int idx = blockIdx.x; idx < count; idx += gridDim.x) {
        const BigTree bt = a.big[idx];
        const int32_t b = a.offs[bt.tree], e = a.offs[bt.tree + 1];
        if (bt.scratch < 0) {  // block-uniform
            if (tid == 0) {
                offs_s[0] = b;
                offs_s[1] = e;
            }
            __syncthreads();
            run_batch(a, l, smem, offs_s, 0, 1, bt.tree);
        } else if (tid == 0) {
            // Too big for shared memory: the CPU's code on global scratch, one thread. Every step of the pass
            // waits on global memory, so this is far slower per node than the shared-memory path.
            const int64_t o = bt.scratch;
            const TreeScratch s{a.scratch_count + o, a.scratch_sum + o, a.scratch_wsum + o,
                                a.scratch_extra != nullptr ? a.scratch_extra + o : nullptr,
                                a.scratch_extra_w != nullptr ? a.scratch_extra_w + o : nullptr};
            count_children(b, e, a.parent, s.count);
            const int32_t nonzero =
                backup_tree(b, e, a.parent, a.reward, a.weight, a.p, s, a.value, a.adv, a.child_count, a.depth);
            if (a.root_value != nullptr) a.root_value[bt.tree] = a.value[b];
            if (a.nonzero != nullptr) a.nonzero[bt.tree] = nonzero;
        }
    }
}

// ---- host ---------------------------------------------------------------------------------------------

struct SmemLimits {
    int per_sm;         // shared memory of a multiprocessor
    int optin;          // the most shared memory one block may use (static and dynamic)
    int reserved;       // taken by the system from every resident block
    int backup_static;  // static shared memory of backup_kernel
    int big_static;     // static shared memory of big_tree_kernel
};

int query_limits(int dev, SmemLimits* lim) {
    SmemLimits l{};
    SPO4J_CUDA_CHECK(cudaDeviceGetAttribute(&l.per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev));
    SPO4J_CUDA_CHECK(cudaDeviceGetAttribute(&l.optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    SPO4J_CUDA_CHECK(cudaDeviceGetAttribute(&l.reserved, cudaDevAttrReservedSharedMemoryPerBlock, dev));
    cudaFuncAttributes fa{}, fb{};
    SPO4J_CUDA_CHECK(cudaFuncGetAttributes(&fa, backup_kernel));
    SPO4J_CUDA_CHECK(cudaFuncGetAttributes(&fb, big_tree_kernel));
    l.backup_static = static_cast<int>(fa.sharedSizeBytes);
    l.big_static = static_cast<int>(fb.sharedSizeBytes);
    *lim = l;
    return SPO4J_OK;
}

// Shared memory limits of the current device (queried once per device), and the kernels' attributes set to
// use them (every call: cheap, and a device reset would drop them).
int prepare_device(SmemLimits* lim) {
    static std::atomic<bool> cached[64];
    static SmemLimits cache[64];  // written once per device, under the mutex, before cached[dev] is set
    static std::mutex mutex;
    int dev = 0;
    SPO4J_CUDA_CHECK(cudaGetDevice(&dev));
    int st = SPO4J_OK;
    if (dev < 0 || dev >= 64) {
        st = query_limits(dev, lim);
    } else if (cached[dev].load(std::memory_order_acquire)) {
        *lim = cache[dev];
    } else {
        std::lock_guard<std::mutex> lock(mutex);
        if (!cached[dev].load(std::memory_order_acquire)) {
            if ((st = query_limits(dev, &cache[dev])) == SPO4J_OK) cached[dev].store(true, std::memory_order_release);
        }
        if (st == SPO4J_OK) *lim = cache[dev];
    }
    if (st != SPO4J_OK) return st;
    SPO4J_CUDA_CHECK(cudaFuncSetAttribute(backup_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          lim->optin - lim->backup_static));
    SPO4J_CUDA_CHECK(cudaFuncSetAttribute(big_tree_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          lim->optin - lim->big_static));
    // The carveout is a hint that the driver may lower to what one block needs; ask for all of it so that
    // kBackupBlocksPerSm backup blocks fit on a multiprocessor.
    SPO4J_CUDA_CHECK(cudaFuncSetAttribute(backup_kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                          cudaSharedmemCarveoutMaxShared));
    return SPO4J_OK;
}

// The message of treeOffsets fault `key`, with the values tree_offsets_status prints.
int offsets_error(unsigned long long key, const Args& a, cudaStream_t stream) {
    int32_t at = 0, before = 0;
    const int64_t k = static_cast<int64_t>(key);
    int st = cu::read_device(&at, a.offs, k < a.t ? k : a.t, stream);
    if (st == SPO4J_OK && k >= 1 && k <= a.t) st = cu::read_device(&before, a.offs, k - 1, stream);
    if (st != SPO4J_OK) return st;
    return tree_offsets_status(k, a.n, a.t, at, before);
}

// The message of fault_key `key`, with the values tree_fault_status prints.
int tree_error(unsigned long long key, const Args& a, cudaStream_t stream) {
    const int64_t tree = static_cast<int64_t>(key >> 33);
    const unsigned long long phase = (key >> 31) & 3u;
    const int64_t node = static_cast<int64_t>(key & 0x7fffffffull);
    int32_t p = 0;
    float reward = 0.0f, weight = 0.0f;
    int st = cu::read_device(&p, a.parent, node, stream);
    if (st != SPO4J_OK) return st;
    int32_t fault = TREE_FAULT_NONE;
    if (phase == kPhaseStructure) {
        int32_t b = 0, e = 0;
        if ((st = cu::read_device(&b, a.offs, tree, stream)) != SPO4J_OK) return st;
        if ((st = cu::read_device(&e, a.offs, tree + 1, stream)) != SPO4J_OK) return st;
        fault = tree_node_fault(static_cast<int32_t>(node), p, b, e);
    } else if (phase == kPhaseWeight) {
        if ((st = cu::read_device(&weight, a.weight, node, stream)) != SPO4J_OK) return st;
        fault = TREE_FAULT_BAD_WEIGHT;
    } else {
        if ((st = cu::read_device(&reward, a.reward, node, stream)) != SPO4J_OK) return st;
        fault = TREE_FAULT_BAD_REWARD;
    }
    if (fault == TREE_FAULT_NONE)
        return fail(SPO4J_ERR_INTERNAL, "internal error: tree %lld node %lld was flagged but passes the check",
                    static_cast<long long>(tree), static_cast<long long>(node));
    return tree_fault_status(fault, tree, node, p, reward, weight);
}

}  // namespace

int tree_backup_cuda(int64_t num_nodes, int32_t num_trees, const int32_t* tree_offsets, const int32_t* parent,
                     const float* leaf_reward, const float* weight, const TreeBackupParams& p, float* value,
                     float* advantage, int32_t* child_count, int32_t* depth, float* root_value,
                     int32_t* nonzero_advantages, void* stream_ptr) {
    if (num_trees == 0) return SPO4J_OK;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    SmemLimits lim{};
    int st = prepare_device(&lim);
    if (st != SPO4J_OK) return st;

    const bool leaf_mean = p.value_mode == SPO4J_TREE_VALUE_LEAF_MEAN;
    Needs needs{};
    needs.weight = weight != nullptr;
    needs.adv = advantage != nullptr;
    needs.depth = depth != nullptr;
    needs.extra = leaf_mean || (advantage != nullptr && p.advantage_mode == SPO4J_TREE_ADV_DIFF_OVER_STD);
    needs.extra_w = leaf_mean;
    const int bpn = bytes_per_node(needs);

    // Batches: shared memory for kBackupBlocksPerSm blocks per multiprocessor (less 128 bytes for the
    // allocation granularity), for S nodes and S + 1 treeOffsets.
    int64_t budget = lim.per_sm / kBackupBlocksPerSm - lim.reserved - lim.backup_static - 128;
    if (budget > lim.optin - lim.backup_static) budget = lim.optin - lim.backup_static;
    const int64_t cap = (budget - 4 - 16) / (bpn + 4);
    const int64_t big_cap_nodes = (lim.optin - lim.big_static - 2 * 4 - 16) / bpn;
    if (cap < 4 || big_cap_nodes < cap)
        return fail(SPO4J_ERR_INTERNAL, "internal error: %d bytes of shared memory per block are too few", lim.optin);
    Args a{};
    a.n = num_nodes;
    a.t = num_trees;
    a.offs = tree_offsets;
    a.parent = parent;
    a.reward = leaf_reward;
    a.weight = weight;
    a.p = p;
    a.value = value;
    a.adv = advantage;
    a.child_count = child_count;
    a.depth = depth;
    a.root_value = root_value;
    a.nonzero = nonzero_advantages;
    a.tile_lay = make_layout(static_cast<int32_t>(cap), static_cast<int32_t>(cap) + 1, needs);
    a.min_tile = static_cast<int32_t>(cap / 4);
    a.big_lay = make_layout(static_cast<int32_t>(big_cap_nodes), 2, needs);
    a.smem_max_nodes = static_cast<int32_t>(big_cap_nodes);
    // Trees over `cap` nodes are at most N / (cap + 1).
    a.big_cap = static_cast<uint32_t>(num_nodes / (cap + 1) + 1);
    const int64_t check_tiles = cu::ceil_div(num_nodes, kCheckTileNodes);
    int sms = 0;
    if ((st = cu::current_sm_count(&sms)) != SPO4J_OK) return st;
    const unsigned backup_blocks =
        cu::grid_blocks(cu::ceil_div(num_nodes, a.min_tile), int64_t{sms} * kBackupBlocksPerSm);
    const size_t check_smem = cu::align_up(4 * (size_t{kCheckTileNodes} + 1), 16) + 4 * size_t{kCheckWords};
    const bool global_bits = num_nodes + 62 > int64_t{32} * kCheckWords;  // some tile may span more words

    cu::WorkspaceLayout layout;
    const size_t off_ctrl = layout.add<Ctrl>(1);
    const size_t off_bits = layout.add<uint32_t>(global_bits ? num_nodes / 32 + 2 : 0);
    const size_t zero_end = layout.bytes();
    const size_t off_big = layout.add<BigTree>(a.big_cap);
    cu::DeviceBuffer ws;
    if ((st = ws.allocate(layout.bytes(), stream)) != SPO4J_OK) return st;
    a.ctrl = ws.at<Ctrl>(off_ctrl);
    a.bits = global_bits ? ws.at<uint32_t>(off_bits) : nullptr;
    a.big = ws.at<BigTree>(off_big);
    SPO4J_CUDA_CHECK(cudaMemsetAsync(a.ctrl, 0xFF, kCtrlKeyBytes, stream));
    SPO4J_CUDA_CHECK(cudaMemsetAsync(ws.at<unsigned char>(off_ctrl + kCtrlKeyBytes), 0,
                                     zero_end - off_ctrl - kCtrlKeyBytes, stream));

    check_kernel<<<static_cast<unsigned>(check_tiles), kThreads, check_smem, stream>>>(a);
    SPO4J_CUDA_CHECK_LAUNCH("tree check_kernel");
    backup_kernel<<<backup_blocks, kThreads, a.tile_lay.bytes, stream>>>(a);
    SPO4J_CUDA_CHECK_LAUNCH("tree backup_kernel");

    Ctrl h;
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(&h, a.ctrl, sizeof(Ctrl), cudaMemcpyDeviceToHost, stream));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (h.offs_bad != kNoError) return offsets_error(h.offs_bad, a, stream);
    if (h.tree_bad != kNoError) return tree_error(h.tree_bad, a, stream);
    if (h.big_count == 0) return SPO4J_OK;
    if (h.big_count > a.big_cap)
        return fail(SPO4J_ERR_INTERNAL, "internal error: %u trees over %lld nodes in %lld nodes", h.big_count,
                    static_cast<long long>(cap), static_cast<long long>(num_nodes));

    const int64_t scratch = static_cast<int64_t>(h.scratch_nodes);
    cu::WorkspaceLayout sl;
    const size_t off_count = sl.add<int32_t>(scratch);
    const size_t off_sum = sl.add<double>(scratch);
    const size_t off_wsum = sl.add<double>(scratch);
    const size_t off_extra = sl.add<double>(needs.extra ? scratch : 0);
    const size_t off_extra_w = sl.add<double>(needs.extra_w ? scratch : 0);
    cu::DeviceBuffer sb;
    if (scratch > 0) {
        if ((st = sb.allocate(sl.bytes(), stream)) != SPO4J_OK) return st;
        a.scratch_count = sb.at<int32_t>(off_count);
        a.scratch_sum = sb.at<double>(off_sum);
        a.scratch_wsum = sb.at<double>(off_wsum);
        a.scratch_extra = needs.extra ? sb.at<double>(off_extra) : nullptr;
        a.scratch_extra_w = needs.extra_w ? sb.at<double>(off_extra_w) : nullptr;
    }
    const unsigned blocks = cu::grid_blocks(h.big_count, 65535);
    big_tree_kernel<<<blocks, kThreads, a.big_lay.bytes, stream>>>(a, h.big_count);
    SPO4J_CUDA_CHECK_LAUNCH("tree big_tree_kernel");
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

}  // namespace spo4j
