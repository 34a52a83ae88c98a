// CUDA implementation of the fused policy loss: the per-token math of policy_loss.h under the contracts of
// spo4j_api.h, with the results of the CPU twin policy_loss.cpp (up to float rounding: exp and the order
// of the sums differ; the mask, the error checks and the skip decision are the same).
//
// All work of a call is queued on the caller's stream and the host waits once, at the end, when the
// statistics (or the first error) come back. Validation results stay in device memory (Ctrl); every kernel
// that writes an output buffer reads them first and writes nothing after an error, so a rejected call
// leaves all outputs untouched, an in-place gradient included.
//
// Per-token entry (N tokens, B sequences):
//   check_offsets_kernel    seqOffsets, checked as check_offsets() does           -> Ctrl::offs_bad
//   first_pass_kernel       read-only: finiteness, kept count, whitening moments   -> FirstPartial[block]
//                           (+ kept bitmask and kept count per 1024 tokens for SEQ_MEAN_TOKEN_MEAN)
//   finalize_first_kernel   block-order merge -> PolicyLossScale; prefix sum of the per-group counts
//   seq_bounds_kernel       kept tokens before each sequence boundary (SEQ_MEAN_TOKEN_MEAN only)
//   main_pass_kernel        token_terms, weights, gradient                         -> PolicyLossSums[block]
//   finalize_main_kernel    block-order merge of the sums, the max_mean_ratio skip decision
//   zero_if_skipped_kernel  gradient := 0 when the batch is skipped
// Logits entry: logprob_rows_kernel (online log-sum-exp per row into O(N) temporaries, entropy, target and
// logit checks), the per-token kernels on those logp, then grad_rows_kernel (d loss / d logits).
// token_logprobs: logprob_rows_kernel, then copy_out_kernel.
// token_logprobs_backward: backward_coef_kernel (coef = gradLogp / T, gradLogp checks, which rows to read),
// logprob_rows_kernel (lse, target and logit checks of those rows), then grad_rows_kernel.
//
// Determinism: each block writes its partial to its own slot and a single-block kernel merges the slots in
// block order through a fixed tree; the only atomics are on integers (error keys, kept counts), whose
// results do not depend on order. For one GPU model and one shape the results are bit-identical run to run
// (the grid, and so the partition of the sums, follows the multiprocessor count).
#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "cuda_common.cuh"
#include "policy_loss.h"

namespace spo4j {
namespace {

constexpr int kThreads = 256;                       // every grid-stride kernel
constexpr int kMinBlocksPerSm = 4;                  // first pass: <= 64 registers, 1024 threads per SM
constexpr int kTokenItems = 4;                      // tokens per thread per iteration of the first pass
constexpr int64_t kGroup = kThreads * kTokenItems;  // 1024 tokens: granularity of the kept-count prefix
constexpr int kMainItems = 2;                       // tokens per thread per iteration of the main pass
constexpr int64_t kMainGroup = kThreads * kMainItems;
constexpr int kMainBlocksPerSm = 3;  // main pass: <= 80 registers (no spills)
constexpr int kWordsPerGroup = static_cast<int>(kGroup / 32);
constexpr int kFinalThreads = 1024;     // the single-block merge kernels
constexpr int kRowUnroll = 4;           // 16-byte vectors in flight per thread in the row passes
constexpr int kRowBlocksPerSm = 3;      // row kernels: <= 80 registers, 768 threads per SM
constexpr int64_t kWarpRowMaxV = 4096;  // rows up to this V: one warp per row, else one block
constexpr unsigned long long kNoError = ~0ull;

// Validation results and the reduced scalars of one call (device memory, copied back once at the end).
struct Ctrl {
    unsigned long long offs_bad;  // check_offsets order: 0 = seqOffsets[0] != 0, 1 + i = offs[i+1] < offs[i],
                                  // B + 1 = offs[B] != N
    unsigned long long row_bad;   // 2 row + (0 = target outside [0, V), 1 = NaN or infinite logit)
    unsigned long long tok_bad;   // 4 token + argument (0 logp, 1 oldLogp, 2 advantages, 3 refLogp);
                                  // token_logprobs_backward: the token of the first non-finite gradLogp
    int32_t skipped;
    int32_t pad;
    PolicyLossScale scale;
    Moments moments;
    PolicyLossSums sums;
};
constexpr size_t kCtrlKeyBytes = offsetof(Ctrl, skipped);
const char* const kTokenArgNames[4] = {"logp", "oldLogp", "advantages", "refLogp"};

__device__ __forceinline__ bool failed(const Ctrl* c) {
    return c->offs_bad != kNoError || c->row_bad != kNoError || c->tok_bad != kNoError;
}

__device__ __forceinline__ unsigned long long min_key(unsigned long long a, unsigned long long b) {
    return b < a ? b : a;
}

__device__ __forceinline__ int64_t load_target(const void* targets, int dtype, int64_t i) {
    return dtype == SPO4J_DTYPE_I64 ? static_cast<const int64_t*>(targets)[i] : static_cast<const int32_t*>(targets)[i];
}

// ---- kernels: per-token passes -------------------------------------------------------------------

struct FirstPartial {
    int64_t kept;
    Moments adv;
};

struct FirstReduce {
    int64_t kept;
    unsigned long long bad;
    Moments adv;
};

struct MergeFirst {
    __device__ FirstReduce operator()(FirstReduce x, const FirstReduce& y) const {
        x.kept += y.kept;
        x.bad = min_key(x.bad, y.bad);
        x.adv.merge(y.adv);
        return x;
    }
};

struct MergeSums {
    __device__ PolicyLossSums operator()(PolicyLossSums x, const PolicyLossSums& y) const {
        x.merge(y);
        return x;
    }
};

// Everything the token kernels read and write. Pointers are device pointers; null where unused.
struct TokenArgs {
    int64_t n;
    int32_t b;
    const int32_t* offs;    // [B+1] or null (one sequence of N tokens)
    const float* logp;      // [N]: the caller's, or the logits row pass's
    const float* old_logp;  // [N]
    const float* ref_logp;  // [N] or null
    const float* adv;       // [N]
    const uint8_t* valid;   // [N] or null
    const float* entropy;   // [N] logits entry with entropy: summed over kept tokens into the stats
    PolicyLossParams p;
    bool per_seq;        // some weight is SEQ_MEAN_TOKEN_MEAN: kept tokens per sequence needed
    float inv_t;         // logits entry: 1 / temperature
    float* grad_logp;    // tokens entry: [N] or null
    float* coef;         // logits entry with a gradient: [N] (d loss / d logp) / T
    float* logp_out;     // logits entry: [N] copies of the row pass's logp / entropy, written only
    float* entropy_out;  //   once validation has passed
    Ctrl* ctrl;
    FirstPartial* first;    // [blocks]
    PolicyLossSums* sums;   // [blocks]
    uint32_t* kept_mask;    // per_seq: [ceil(N / 32)] bit t % 32 of word t / 32 = token t kept
    int32_t* group_kept;    // per_seq: [ceil(N / 1024)] kept tokens per group (zeroed, integer atomics)
    int32_t* group_prefix;  // per_seq: [groups + 1] exclusive prefix of group_kept
    int32_t* bound_kept;    // per_seq: [B + 1] kept tokens before seqOffsets[j]
};

__device__ __forceinline__ int64_t offs_at(const TokenArgs& a, int64_t j) {
    return a.offs != nullptr ? static_cast<int64_t>(a.offs[j]) : (j == 0 ? 0 : a.n);
}

// Sequence of token t: the last q with seqOffsets[q] <= t (empty sequences skipped), as seq_of() on the CPU.
__device__ __forceinline__ int32_t seq_of(const TokenArgs& a, int64_t t) {
    if (a.offs == nullptr) return 0;
    int64_t lo = 0, hi = static_cast<int64_t>(a.b) + 1;  // first j with offs[j] > t
    while (lo < hi) {
        const int64_t mid = (lo + hi) >> 1;
        if (static_cast<int64_t>(__ldg(a.offs + mid)) <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return static_cast<int32_t>(lo - 1);
}

// seqOffsets checks; the smallest failing key is the check the CPU reports first.
__global__ void __launch_bounds__(kThreads)
    check_offsets_kernel(const int32_t* offs, int32_t b, int64_t n, Ctrl* ctrl) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j <= b; j += stride) {
        const int32_t o = offs[j];
        unsigned long long key = kNoError;
        if (j == 0 && o != 0)
            key = 0;
        else if (j > 0 && o < offs[j - 1])
            key = static_cast<unsigned long long>(j);
        else if (j == b && static_cast<int64_t>(o) != n)
            key = static_cast<unsigned long long>(b) + 1;
        if (key != kNoError) atomicMin(&ctrl->offs_bad, key);
    }
}

// Read-only pass: the first non-finite value at a valid token, kept count, whitening moments (Welford per
// thread, Chan merges in a fixed tree). Block b handles the 1024-token groups b, b + grid, ...
__global__ void __launch_bounds__(kThreads, kMinBlocksPerSm) first_pass_kernel(TokenArgs a) {
    const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
    FirstReduce acc{0, kNoError, Moments{}};
    for (int64_t g = blockIdx.x; g * kGroup < a.n; g += gridDim.x) {  // block-uniform: ballots below
        const int64_t base = g * kGroup;
        bool vl[kTokenItems];
        float lp[kTokenItems], ol[kTokenItems], ad[kTokenItems], rf[kTokenItems];
#pragma unroll
        for (int i = 0; i < kTokenItems; ++i) {
            const int64_t t = base + i * kThreads + tid;
            vl[i] = t < a.n && (a.valid == nullptr || a.valid[t] != 0);
        }
#pragma unroll
        for (int i = 0; i < kTokenItems; ++i) {  // all loads of the group before any use
            const int64_t t = base + i * kThreads + tid;
            lp[i] = ol[i] = ad[i] = rf[i] = 0.0f;
            if (vl[i]) {
                lp[i] = a.logp[t];
                ol[i] = a.old_logp[t];
                ad[i] = a.adv[t];
                if (a.ref_logp != nullptr) rf[i] = a.ref_logp[t];
            }
        }
        int group_kept = 0;
#pragma unroll
        for (int i = 0; i < kTokenItems; ++i) {
            const int64_t t = base + i * kThreads + tid;
            bool kept = false;
            if (vl[i]) {
                int bad = -1;
                if (!is_finite_f(lp[i]))
                    bad = 0;
                else if (!is_finite_f(ol[i]))
                    bad = 1;
                else if (!is_finite_f(ad[i]))
                    bad = 2;
                else if (a.ref_logp != nullptr && !is_finite_f(rf[i]))
                    bad = 3;
                if (bad >= 0) {
                    // This thread's tokens increase, so its first bad one is its smallest.
                    if (acc.bad == kNoError) acc.bad = static_cast<unsigned long long>(t) * 4 + bad;
                } else if (token_kept(true, ol[i], a.p)) {
                    kept = true;
                    ++acc.kept;
                    acc.adv.add(ad[i]);  // reported as stats even without whitening
                }
            }
            if (a.kept_mask != nullptr) {
                const unsigned bits = __ballot_sync(cu::kFullMask, kept);
                const int64_t t0 = base + i * kThreads + warp * 32;
                if (lane == 0 && t0 < a.n) a.kept_mask[t0 >> 5] = bits;
                group_kept += __popc(bits);
            }
        }
        if (a.kept_mask != nullptr && lane == 0 && group_kept > 0) atomicAdd(&a.group_kept[g], group_kept);
    }
    __shared__ cu::SharedArray<FirstReduce, kThreads / 32> red;
    acc = cu::block_reduce<kThreads>(acc, MergeFirst{}, FirstReduce{0, kNoError, Moments{}}, red.get());
    if (tid == 0) {
        a.first[blockIdx.x] = FirstPartial{acc.kept, acc.adv};
        if (acc.bad != kNoError) atomicMin(&a.ctrl->tok_bad, acc.bad);
    }
}

// Exclusive prefix sum of in[0, count) into out[0, count], out[count] = total; one block of kFinalThreads.
__device__ void block_exclusive_scan(const int32_t* in, int32_t* out, int64_t count) {
    constexpr int kItems = 4, kWarps = kFinalThreads / 32;
    __shared__ int32_t warp_sums[kWarps];
    const int tid = static_cast<int>(threadIdx.x), lane = tid & 31, warp = tid >> 5;
    int32_t carry = 0;
    for (int64_t base = 0; base < count; base += static_cast<int64_t>(kFinalThreads) * kItems) {
        int32_t x[kItems];
        int32_t sum = 0;
#pragma unroll
        for (int k = 0; k < kItems; ++k) {
            const int64_t idx = base + static_cast<int64_t>(tid) * kItems + k;
            x[k] = idx < count ? in[idx] : 0;
            sum += x[k];
        }
        int32_t incl = sum;
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            const int32_t y = __shfl_up_sync(cu::kFullMask, incl, off);
            if (lane >= off) incl += y;
        }
        if (lane == 31) warp_sums[warp] = incl;
        __syncthreads();
        if (warp == 0) {
            int32_t w = warp_sums[lane];
#pragma unroll
            for (int off = 1; off < 32; off <<= 1) {
                const int32_t y = __shfl_up_sync(cu::kFullMask, w, off);
                if (lane >= off) w += y;
            }
            warp_sums[lane] = w;
        }
        __syncthreads();
        int32_t run = carry + (warp > 0 ? warp_sums[warp - 1] : 0) + incl - sum;
#pragma unroll
        for (int k = 0; k < kItems; ++k) {
            const int64_t idx = base + static_cast<int64_t>(tid) * kItems + k;
            if (idx < count) out[idx] = run;
            run += x[k];
        }
        carry += warp_sums[kWarps - 1];
        __syncthreads();  // warp_sums is rewritten by the next round
    }
    if (tid == 0) out[count] = carry;
}

// Merges the first pass's partials in block order; derives the whitening and the token-independent
// weights exactly as policy_loss_core_cpu does; prefix of the per-group kept counts.
__global__ void __launch_bounds__(kFinalThreads) finalize_first_kernel(TokenArgs a, int num_partials, int64_t groups) {
    const int tid = static_cast<int>(threadIdx.x);
    FirstReduce acc{0, kNoError, Moments{}};
    for (int i = tid; i < num_partials; i += kFinalThreads) {
        const FirstPartial f = a.first[i];
        acc.kept += f.kept;
        acc.adv.merge(f.adv);
    }
    __shared__ cu::SharedArray<FirstReduce, kFinalThreads / 32> red;
    acc = cu::block_reduce<kFinalThreads>(acc, MergeFirst{}, FirstReduce{0, kNoError, Moments{}}, red.get());
    if (tid == 0) {
        const PolicyLossParams& p = a.p;
        PolicyLossScale s{};
        s.kept = acc.kept;
        s.adv_mean = p.whiten ? acc.adv.mean : 0.0;
        s.adv_inv_std = p.whiten ? 1.0 / sqrt(acc.adv.variance() + p.whiten_eps) : 1.0;
        s.pg_weight = agg_weight(p.pg_agg, p.pg_norm, s.kept, a.b, 0);
        s.kl_weight = agg_weight(p.kl_agg, p.kl_norm, s.kept, a.b, 0);
        a.ctrl->scale = s;
        a.ctrl->moments = acc.adv;
    }
    if (a.group_kept != nullptr) block_exclusive_scan(a.group_kept, a.group_prefix, groups);
}

// bound_kept[j] = kept tokens in [0, seqOffsets[j]): the group prefix plus the bitmask words before it.
__global__ void __launch_bounds__(kThreads) seq_bounds_kernel(TokenArgs a) {
    if (failed(a.ctrl)) return;  // offsets may be out of range
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j <= a.b; j += stride) {
        const int64_t x = offs_at(a, j);
        const int64_t g = x / kGroup;
        int32_t k = a.group_prefix[g];
        const int64_t w_end = x >> 5;
        for (int64_t w = g * kWordsPerGroup; w < w_end; ++w) k += __popc(a.kept_mask[w]);
        if ((x & 31) != 0) k += __popc(a.kept_mask[w_end] & ((1u << (x & 31)) - 1u));
        a.bound_kept[j] = k;
    }
}

// Per-token terms and gradient (0 where not kept), partial sums per block. Logits entry: also the copies
// of logp / entropy into the caller's buffers and the per-row gradient coefficient.
__global__ void __launch_bounds__(kThreads, kMainBlocksPerSm) main_pass_kernel(TokenArgs a) {
    if (failed(a.ctrl)) return;  // block-uniform
    const PolicyLossScale s = a.ctrl->scale;
    const double beta = a.p.beta;
    const bool seq_pg = a.per_seq && agg_needs_seq_index(a.p.pg_agg);
    const bool seq_kl = a.per_seq && agg_needs_seq_index(a.p.kl_agg);
    const int tid = static_cast<int>(threadIdx.x);
    PolicyLossSums acc;
    for (int64_t g = blockIdx.x; g * kMainGroup < a.n; g += gridDim.x) {
        const int64_t base = g * kMainGroup;
        bool vl[kMainItems];
        float lp[kMainItems], ol[kMainItems], ad[kMainItems], rf[kMainItems], en[kMainItems];
#pragma unroll
        for (int i = 0; i < kMainItems; ++i) {
            const int64_t t = base + i * kThreads + tid;
            vl[i] = t < a.n && (a.valid == nullptr || a.valid[t] != 0);
        }
#pragma unroll
        for (int i = 0; i < kMainItems; ++i) {            // all loads before the stores below, which the compiler
            const int64_t t = base + i * kThreads + tid;  // could not hoist them above (possible aliasing)
            lp[i] = ol[i] = ad[i] = rf[i] = en[i] = 0.0f;
            if (vl[i]) {
                lp[i] = a.logp[t];
                ol[i] = a.old_logp[t];
                ad[i] = a.adv[t];
                if (a.ref_logp != nullptr) rf[i] = a.ref_logp[t];
                if (a.entropy != nullptr) en[i] = a.entropy[t];
            }
        }
#pragma unroll
        for (int i = 0; i < kMainItems; ++i) {
            const int64_t t = base + i * kThreads + tid;
            if (t >= a.n) continue;
            if (a.logp_out != nullptr) a.logp_out[t] = lp[i];  // 0 for rows that are not valid
            if (a.entropy_out != nullptr) a.entropy_out[t] = en[i];
            float grad = 0.0f;
            if (vl[i] && token_kept(true, ol[i], a.p)) {
                const float adv_hat = static_cast<float>((ad[i] - s.adv_mean) * s.adv_inv_std);
                const TokenTerms tt = token_terms(lp[i], ol[i], rf[i], adv_hat, a.p);
                double wpg = s.pg_weight, wkl = s.kl_weight;
                if (seq_pg || seq_kl) {
                    const int32_t q = seq_of(a, t);
                    const int64_t seq_kept = static_cast<int64_t>(a.bound_kept[q + 1]) - a.bound_kept[q];
                    if (seq_pg) wpg = agg_weight(a.p.pg_agg, a.p.pg_norm, s.kept, a.b, seq_kept);
                    if (seq_kl) wkl = agg_weight(a.p.kl_agg, a.p.kl_norm, s.kept, a.b, seq_kept);
                }
                acc.pg += wpg * tt.pg;
                acc.kl += wkl * tt.kl;
                acc.ratio += tt.ratio;
                acc.k3_old += tt.k3_old;
                acc.kl_ref += tt.kl;
                acc.entropy += en[i];
                acc.clip_low += tt.clip_low;
                acc.clip_high += tt.clip_high;
                acc.dual_clip += tt.dual_clip;
                grad = static_cast<float>(wpg * tt.dpg + beta * wkl * tt.dkl);
            }
            if (a.grad_logp != nullptr) a.grad_logp[t] = grad;
            if (a.coef != nullptr) a.coef[t] = grad * a.inv_t;
        }
    }
    __shared__ cu::SharedArray<PolicyLossSums, kThreads / 32> red;
    acc = cu::block_reduce<kThreads>(acc, MergeSums{}, PolicyLossSums{}, red.get());
    if (tid == 0) a.sums[blockIdx.x] = acc;
}

// Merges the main pass's partials in block order and takes the skip decision with finish_stats' formula.
__global__ void __launch_bounds__(kFinalThreads) finalize_main_kernel(TokenArgs a, int num_partials) {
    if (failed(a.ctrl)) return;
    const int tid = static_cast<int>(threadIdx.x);
    PolicyLossSums acc;
    for (int i = tid; i < num_partials; i += kFinalThreads) acc.merge(a.sums[i]);
    __shared__ cu::SharedArray<PolicyLossSums, kFinalThreads / 32> red;
    acc = cu::block_reduce<kFinalThreads>(acc, MergeSums{}, PolicyLossSums{}, red.get());
    if (tid == 0) {
        const int64_t kept = a.ctrl->scale.kept;
        const double mean_ratio = kept > 0 ? acc.ratio / static_cast<double>(kept) : 0.0;
        a.ctrl->sums = acc;
        a.ctrl->skipped = (a.p.max_mean_ratio > 0 && mean_ratio > a.p.max_mean_ratio) ? 1 : 0;
    }
}

__global__ void __launch_bounds__(kThreads) zero_if_skipped_kernel(float* grad, int64_t n, const Ctrl* ctrl) {
    if (failed(ctrl) || ctrl->skipped == 0) return;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) grad[t] = 0.0f;
}

// ---- kernels: logits rows ------------------------------------------------------------------------

// How a 16-byte vector holds elements of T (bf16 as uint16_t: element 2k in the low half of word k).
template <class T>
struct Lanes;
template <>
struct Lanes<float> {
    static constexpr int kPerVec = 4;
    __device__ static float get(const uint32_t* w, int k) { return __uint_as_float(w[k]); }
    __device__ static void put(uint32_t* w, int k, float x) { w[k] = __float_as_uint(x); }
    __device__ static void load_scalars(uint32_t* w, const float* p) {
#pragma unroll
        for (int k = 0; k < 4; ++k) w[k] = __float_as_uint(p[k]);
    }
};
template <>
struct Lanes<uint16_t> {
    static constexpr int kPerVec = 8;
    __device__ static float get(const uint32_t* w, int k) {
        const uint32_t x = w[k >> 1];
        return __uint_as_float((k & 1) != 0 ? (x & 0xffff0000u) : (x << 16));
    }
    __device__ static void put(uint32_t* w, int k, float x) {
        const uint32_t h = float_to_bf16(x);  // round to nearest even, as the CPU
        if ((k & 1) != 0)
            w[k >> 1] |= h << 16;
        else
            w[k >> 1] = h;
    }
    __device__ static void load_scalars(uint32_t* w, const uint16_t* p) {
#pragma unroll
        for (int k = 0; k < 4; ++k)
            w[k] = static_cast<uint32_t>(p[2 * k]) | (static_cast<uint32_t>(p[2 * k + 1]) << 16);
    }
};

// Elements before the first 16-byte boundary of p (at most v).
template <class T>
__device__ __forceinline__ int64_t head_elems(const T* p, int64_t v) {
    const int64_t h =
        static_cast<int64_t>(((16u - (static_cast<unsigned>(reinterpret_cast<uintptr_t>(p)) & 15u)) & 15u) / sizeof(T));
    return h < v ? h : v;
}

__device__ __forceinline__ void words_of(uint32_t* w, const uint4& q) {
    w[0] = q.x;
    w[1] = q.y;
    w[2] = q.z;
    w[3] = q.w;
}

// Online log-sum-exp state of part of a row, z = logit / T:
//   m = max z, s = Σ e^{z − m}, w = Σ e^{z − m}(z − m), nf = Σ (z − z) (NaN iff some z is NaN or ±inf).
// Then lse = m + log s and entropy = lse − Σ softmax·z = log s − w / s.
struct RowState {
    float m, s, w, nf;
};

template <bool kEntropy>
__device__ __forceinline__ void row_rescale(RowState& st, float new_m) {  // new_m > st.m
    const float delta = st.m - new_m;                                     // -inf while st is empty
    const float scale = cu::fast_exp2(delta * cu::kLog2e);
    if (kEntropy) st.w = st.s > 0.0f ? scale * fmaf(delta, st.s, st.w) : 0.0f;
    st.s *= scale;
    st.m = new_m;
}

template <bool kEntropy>
struct RowMerge {
    __device__ RowState operator()(const RowState& x, const RowState& y) const {
        RowState r;
        r.m = fmaxf(x.m, y.m);
        r.s = 0.0f;
        r.w = 0.0f;
        r.nf = x.nf + y.nf;
        if (x.s > 0.0f) {  // an empty state (m = -inf) adds nothing
            const float d = x.m - r.m, e = cu::fast_exp2(d * cu::kLog2e);
            r.s = e * x.s;
            if (kEntropy) r.w = e * fmaf(d, x.s, x.w);
        }
        if (y.s > 0.0f) {
            const float d = y.m - r.m, e = cu::fast_exp2(d * cu::kLog2e);
            r.s = fmaf(e, y.s, r.s);
            if (kEntropy) r.w = fmaf(e, fmaf(d, y.s, y.w), r.w);
        }
        return r;
    }
};

template <bool kEntropy>
__device__ __forceinline__ void row_update1(RowState& st, float x, float inv_t) {
    const float z = x * inv_t;
    st.nf += z - z;
    if (z > st.m) row_rescale<kEntropy>(st, z);
    const float d = fmaf(x, inv_t, -st.m);
    const float e = cu::fast_exp2(d * cu::kLog2e);
    st.s += e;
    if (kEntropy) st.w = fmaf(e, d, st.w);
}

// K elements held in registers: their max first (one rescale at most), then the exponentials.
template <class T, int K, bool kEntropy>
__device__ __forceinline__ void row_update_chunk(RowState& st, const uint32_t* w, float inv_t) {
    float cm = -INFINITY, nf0 = 0.0f, nf1 = 0.0f;
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const float z = Lanes<T>::get(w, k) * inv_t;
        if ((k & 1) != 0)
            nf1 += z - z;
        else
            nf0 += z - z;
        cm = fmaxf(cm, z);
    }
    st.nf += nf0 + nf1;
    if (cm > st.m) row_rescale<kEntropy>(st, cm);
    const float neg_m = -st.m;
    float s0 = 0.0f, s1 = 0.0f, w0 = 0.0f, w1 = 0.0f;
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const float d = fmaf(Lanes<T>::get(w, k), inv_t, neg_m);
        const float e = cu::fast_exp2(d * cu::kLog2e);
        if ((k & 1) != 0) {
            s1 += e;
            if (kEntropy) w1 = fmaf(e, d, w1);
        } else {
            s0 += e;
            if (kEntropy) w0 = fmaf(e, d, w0);
        }
    }
    st.s += s0 + s1;
    if (kEntropy) st.w += w0 + w1;
}

// This thread's share of a row for a group of G threads (lane in [0, G)): scalar head up to the first
// 16-byte boundary, 16-byte vectors (kRowUnroll in flight), scalar tail. Any V and any row alignment.
template <class T, int G, bool kEntropy>
__device__ __forceinline__ RowState row_scan(const T* row, int64_t v, int lane, float inv_t) {
    constexpr int kPer = Lanes<T>::kPerVec;
    RowState st{-INFINITY, 0.0f, 0.0f, 0.0f};
    const int64_t head = head_elems(row, v);
    if (lane < head) row_update1<kEntropy>(st, load_as_float(row, lane), inv_t);
    const int64_t nvec = (v - head) / kPer;
    const uint4* vec = reinterpret_cast<const uint4*>(row + head);
    int64_t i = lane;
    for (; i + (kRowUnroll - 1) * G < nvec; i += kRowUnroll * G) {
        uint32_t w[kRowUnroll * 4];
#pragma unroll
        for (int u = 0; u < kRowUnroll; ++u) words_of(w + 4 * u, __ldg(vec + i + u * G));
        row_update_chunk<T, kRowUnroll * kPer, kEntropy>(st, w, inv_t);
    }
    for (; i < nvec; i += G) {
        uint32_t w[4];
        words_of(w, __ldg(vec + i));
        row_update_chunk<T, kPer, kEntropy>(st, w, inv_t);
    }
    const int64_t tail = head + nvec * kPer;
    if (lane < v - tail) row_update1<kEntropy>(st, load_as_float(row, tail + lane), inv_t);
    return st;
}

// Everything the row kernels read and write (device pointers; null where unused).
struct RowArgs {
    int64_t n, v;
    const void* logits;   // [N, V] T
    void* grad;           // [N, V] T (may equal logits)
    const void* targets;  // [N] int32 or int64
    int targets_dtype;
    float inv_t;
    const uint8_t* valid;  // [N] or null
    float* logp;           // [N] temporaries of the row pass
    float* entropy;        // [N] or null
    float* lse;            // [N] or null (kept for the gradient pass)
    const float* coef;     // [N] gradient pass: (d loss / d logp) / T
    Ctrl* ctrl;
};

__device__ __forceinline__ void put_row(const RowArgs& a, int64_t r, float logp, float entropy, float lse) {
    a.logp[r] = logp;
    if (a.entropy != nullptr) a.entropy[r] = entropy;
    if (a.lse != nullptr) a.lse[r] = lse;
}

// logp = z[target] − lse, entropy, lse of each row (0 for rows that are not valid), with the target-range
// and finiteness checks. G threads per row: a warp (small V) or the whole block; grid-stride over rows.
template <class T, int G, bool kEntropy>
__global__ void __launch_bounds__(kThreads, kRowBlocksPerSm) logprob_rows_kernel(RowArgs a) {
    static_assert(G == 32 || G == kThreads, "a warp or the block per row");
    constexpr int kRowsPerBlock = kThreads / G;
    __shared__ RowState red[2][kThreads / 32];
    const int lane = static_cast<int>(threadIdx.x) % G;
    const T* logits = static_cast<const T*>(a.logits);
    int buf = 0;
    // The row index is uniform over the G threads of a row, so are the `continue`s and the reduction.
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / G; r < a.n;
         r += static_cast<int64_t>(gridDim.x) * kRowsPerBlock) {
        if (a.valid != nullptr && a.valid[r] == 0) {
            if (lane == 0) put_row(a, r, 0.0f, 0.0f, 0.0f);
            continue;
        }
        const int64_t tgt = load_target(a.targets, a.targets_dtype, r);
        if (tgt < 0 || tgt >= a.v) {
            if (lane == 0) {
                atomicMin(&a.ctrl->row_bad, 2ull * static_cast<unsigned long long>(r));
                put_row(a, r, 0.0f, 0.0f, 0.0f);
            }
            continue;
        }
        const T* row = logits + r * a.v;
        RowState st = row_scan<T, G, kEntropy>(row, a.v, lane, a.inv_t);
        if constexpr (G == 32) {
            st = cu::warp_reduce(st, RowMerge<kEntropy>{});
        } else {
            st = cu::block_reduce<kThreads>(st, RowMerge<kEntropy>{}, RowState{-INFINITY, 0.0f, 0.0f, 0.0f}, red[buf]);
            buf ^= 1;  // the other buffer's last use is behind this call's barrier
        }
        if (lane == 0) {
            if (!(st.nf == 0.0f)) {
                atomicMin(&a.ctrl->row_bad, 2ull * static_cast<unsigned long long>(r) + 1);
                put_row(a, r, 0.0f, 0.0f, 0.0f);
            } else {
                const float log_s = logf(st.s);
                const float lse = st.m + log_s;
                put_row(a, r, load_as_float(row, tgt) * a.inv_t - lse, log_s - st.w / st.s, lse);
            }
        }
    }
}

__device__ __forceinline__ float grad_value(float x, float inv_t, float lse, float c, bool is_target) {
    const float p = cu::fast_exp2(fmaf(x, inv_t, -lse) * cu::kLog2e);
    return is_target ? c * (1.0f - p) : -c * p;
}

// grad = c (onehot(target) − exp(z − lse)) over one row; vectors aligned on the gradient row. Every element
// is read and written by the same thread, so grad == logits (in place) is safe.
template <class T, int G>
__device__ __forceinline__ void grad_row(const T* x, T* g, int64_t v, int lane, float inv_t, float lse, float c,
                                         int64_t tgt, bool same_align) {
    constexpr int kPer = Lanes<T>::kPerVec;
    const int64_t head = head_elems(g, v);
    if (lane < head) store_from_float(g, lane, grad_value(load_as_float(x, lane), inv_t, lse, c, lane == tgt));
    const int64_t nvec = (v - head) / kPer;
    const T* xb = x + head;
    uint4* gv = reinterpret_cast<uint4*>(g + head);
    auto load = [&](uint32_t* w, int64_t vi) {
        if (same_align)
            words_of(w, reinterpret_cast<const uint4*>(xb)[vi]);  // plain load: may alias g
        else
            Lanes<T>::load_scalars(w, xb + vi * kPer);
    };
    auto emit = [&](const uint32_t* w, int64_t vi) {
        const int64_t rel = tgt - (head + vi * kPer);
        const int kt = (rel >= 0 && rel < kPer) ? static_cast<int>(rel) : -1;
        uint32_t o[4];
#pragma unroll
        for (int k = 0; k < kPer; ++k) Lanes<T>::put(o, k, grad_value(Lanes<T>::get(w, k), inv_t, lse, c, k == kt));
        gv[vi] = make_uint4(o[0], o[1], o[2], o[3]);
    };
    int64_t i = lane;
    for (; i + (kRowUnroll - 1) * G < nvec; i += kRowUnroll * G) {
        uint32_t w[kRowUnroll * 4];
#pragma unroll
        for (int u = 0; u < kRowUnroll; ++u) load(w + 4 * u, i + u * G);
#pragma unroll
        for (int u = 0; u < kRowUnroll; ++u) emit(w + 4 * u, i + u * G);
    }
    for (; i < nvec; i += G) {
        uint32_t w[4];
        load(w, i);
        emit(w, i);
    }
    const int64_t tail = head + nvec * kPer;
    if (lane < v - tail) {
        const int64_t j = tail + lane;
        store_from_float(g, j, grad_value(load_as_float(x, j), inv_t, lse, c, j == tgt));
    }
}

template <class T, int G>
__device__ __forceinline__ void zero_row(T* g, int64_t v, int lane) {
    constexpr int kPer = Lanes<T>::kPerVec;
    const int64_t head = head_elems(g, v);
    if (lane < head) store_from_float(g, lane, 0.0f);
    const int64_t nvec = (v - head) / kPer;
    uint4* gv = reinterpret_cast<uint4*>(g + head);
    for (int64_t i = lane; i < nvec; i += G) gv[i] = make_uint4(0u, 0u, 0u, 0u);
    const int64_t tail = head + nvec * kPer;
    if (lane < v - tail) store_from_float(g, tail + lane, 0.0f);
}

// d loss / d logits row by row; rows with a zero coefficient (not kept, or the batch skipped) get zeros
// without reading the logits.
template <class T, int G>
__global__ void __launch_bounds__(kThreads, kRowBlocksPerSm) grad_rows_kernel(RowArgs a) {
    if (failed(a.ctrl)) return;
    const bool skipped = a.ctrl->skipped != 0;
    constexpr int kRowsPerBlock = kThreads / G;
    const int lane = static_cast<int>(threadIdx.x) % G;
    const T* logits = static_cast<const T*>(a.logits);
    T* grad = static_cast<T*>(a.grad);
    // Rows of both arrays share one offset modulo 16 iff the bases do (same row stride).
    const bool same_align = ((reinterpret_cast<uintptr_t>(logits) ^ reinterpret_cast<uintptr_t>(grad)) & 15u) == 0;
    for (int64_t r = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / G; r < a.n;
         r += static_cast<int64_t>(gridDim.x) * kRowsPerBlock) {
        const float c = skipped ? 0.0f : a.coef[r];
        T* g = grad + r * a.v;
        if (c == 0.0f) {
            zero_row<T, G>(g, a.v, lane);
            continue;
        }
        const int64_t tgt = load_target(a.targets, a.targets_dtype, r);
        grad_row<T, G>(logits + r * a.v, g, a.v, lane, a.inv_t, a.lse[r], c, tgt, same_align);
    }
}

// token_logprobs: the row pass's temporaries into the caller's buffers once no row failed.
__global__ void __launch_bounds__(kThreads) copy_out_kernel(int64_t n, const float* logp, const float* entropy,
                                                            float* logp_out, float* entropy_out, const Ctrl* ctrl) {
    if (failed(ctrl)) return;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) {
        logp_out[t] = logp[t];
        if (entropy_out != nullptr) entropy_out[t] = entropy[t];
    }
}

// token_logprobs_backward: coef = gradLogp / T (as the logits loss entry's (d loss / d logp) · (1 / T)), and
// read[t] = gradLogp[t] != 0: the row pass skips the other rows (no logits or target read; lse 0) and the
// gradient pass zeroes them. A non-finite gradLogp is recorded (smallest token) and its row skipped.
__global__ void __launch_bounds__(kThreads)
    backward_coef_kernel(int64_t n, const float* grad_logp, float inv_t, float* coef, uint8_t* read, Ctrl* ctrl) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) {
        const float g = grad_logp[t];
        const bool finite = is_finite_f(g);
        if (!finite) atomicMin(&ctrl->tok_bad, static_cast<unsigned long long>(t));
        coef[t] = finite ? g * inv_t : 0.0f;
        read[t] = (finite && g != 0.0f) ? 1 : 0;
    }
}

// ---- launchers -----------------------------------------------------------------------------------

int launch_logprob_rows(const RowArgs& a, int logits_dtype, bool entropy, int sms, cudaStream_t stream) {
    const int64_t cap = static_cast<int64_t>(sms) * kRowBlocksPerSm;
    const bool bf16 = logits_dtype == SPO4J_DTYPE_BF16;
    if (a.v <= kWarpRowMaxV) {
        const unsigned blocks = cu::grid_blocks(cu::ceil_div(a.n, kThreads / 32), cap);
        if (bf16) {
            if (entropy)
                logprob_rows_kernel<uint16_t, 32, true><<<blocks, kThreads, 0, stream>>>(a);
            else
                logprob_rows_kernel<uint16_t, 32, false><<<blocks, kThreads, 0, stream>>>(a);
        } else {
            if (entropy)
                logprob_rows_kernel<float, 32, true><<<blocks, kThreads, 0, stream>>>(a);
            else
                logprob_rows_kernel<float, 32, false><<<blocks, kThreads, 0, stream>>>(a);
        }
    } else {
        const unsigned blocks = cu::grid_blocks(a.n, cap);
        if (bf16) {
            if (entropy)
                logprob_rows_kernel<uint16_t, kThreads, true><<<blocks, kThreads, 0, stream>>>(a);
            else
                logprob_rows_kernel<uint16_t, kThreads, false><<<blocks, kThreads, 0, stream>>>(a);
        } else {
            if (entropy)
                logprob_rows_kernel<float, kThreads, true><<<blocks, kThreads, 0, stream>>>(a);
            else
                logprob_rows_kernel<float, kThreads, false><<<blocks, kThreads, 0, stream>>>(a);
        }
    }
    SPO4J_CUDA_CHECK_LAUNCH("logprob_rows_kernel");
    return SPO4J_OK;
}

int launch_grad_rows(const RowArgs& a, int logits_dtype, int sms, cudaStream_t stream) {
    const int64_t cap = static_cast<int64_t>(sms) * kRowBlocksPerSm;
    const bool bf16 = logits_dtype == SPO4J_DTYPE_BF16;
    if (a.v <= kWarpRowMaxV) {
        const unsigned blocks = cu::grid_blocks(cu::ceil_div(a.n, kThreads / 32), cap);
        if (bf16)
            grad_rows_kernel<uint16_t, 32><<<blocks, kThreads, 0, stream>>>(a);
        else
            grad_rows_kernel<float, 32><<<blocks, kThreads, 0, stream>>>(a);
    } else {
        const unsigned blocks = cu::grid_blocks(a.n, cap);
        if (bf16)
            grad_rows_kernel<uint16_t, kThreads><<<blocks, kThreads, 0, stream>>>(a);
        else
            grad_rows_kernel<float, kThreads><<<blocks, kThreads, 0, stream>>>(a);
    }
    SPO4J_CUDA_CHECK_LAUNCH("grad_rows_kernel");
    return SPO4J_OK;
}

// The message of the first offsets check that failed (key as in Ctrl::offs_bad), as check_offsets() words it.
int offsets_error(unsigned long long key, int64_t n, int32_t b, const int32_t* offs, cudaStream_t stream) {
    int32_t x = 0, y = 0;
    int st = SPO4J_OK;
    if (key == 0) {
        if ((st = cu::read_device(&x, offs, 0, stream)) != SPO4J_OK) return st;
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets[0] must be 0, got %d", x);
    }
    if (key <= static_cast<unsigned long long>(b)) {
        const int32_t i = static_cast<int32_t>(key - 1);
        if ((st = cu::read_device(&x, offs, i + 1, stream)) != SPO4J_OK) return st;
        if ((st = cu::read_device(&y, offs, i, stream)) != SPO4J_OK) return st;
        return fail(SPO4J_ERR_INVALID_ARGUMENT,
                    "seqOffsets must be non-decreasing: seqOffsets[%d] = %d < seqOffsets[%d] = %d", i + 1, x, i, y);
    }
    if ((st = cu::read_device(&x, offs, b, stream)) != SPO4J_OK) return st;
    return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets[B] must equal N = %lld, got %d", static_cast<long long>(n), x);
}

int row_error(unsigned long long key, int64_t v, const void* targets, int targets_dtype, cudaStream_t stream) {
    const long long row = static_cast<long long>(key >> 1);
    if ((key & 1) == 0) {
        int64_t t = 0;
        int st = SPO4J_OK;
        if (targets_dtype == SPO4J_DTYPE_I64) {
            st = cu::read_device(&t, static_cast<const int64_t*>(targets), row, stream);
        } else {
            int32_t t32 = 0;
            st = cu::read_device(&t32, static_cast<const int32_t*>(targets), row, stream);
            t = t32;
        }
        if (st != SPO4J_OK) return st;
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "targets[%lld] = %lld is outside [0, V = %lld)", row,
                    static_cast<long long>(t), static_cast<long long>(v));
    }
    return fail(SPO4J_ERR_INVALID_ARGUMENT, "logits row %lld has a NaN or infinite value", row);
}

// One call of either loss entry. Logits entry when `logits_entry`; else `logp` is the caller's.
struct LossCall {
    int64_t n;
    int32_t b;
    const int32_t* offs;
    const float* logp;
    const float* old_logp;
    const float* ref_logp;
    const float* adv;
    const uint8_t* valid;
    const PolicyLossParams* p;
    float* grad_logp;
    bool logits_entry;
    int64_t v;
    const void* logits;
    int logits_dtype;
    const void* targets;
    int targets_dtype;
    float temperature;
    void* grad_logits;
    float* logp_out;
    float* entropy_out;
    double* stats;
    cudaStream_t stream;
};

int run_policy_loss(const LossCall& c) {
    const PolicyLossParams& p = *c.p;
    const int64_t n = c.n;
    cudaStream_t stream = c.stream;
    int sms = 0;
    int st = cu::current_sm_count(&sms);
    if (st != SPO4J_OK) return st;
    const int64_t cap = static_cast<int64_t>(sms) * kMinBlocksPerSm;

    const bool per_seq = agg_needs_seq_counts(p.pg_agg) || (p.has_ref && agg_needs_seq_counts(p.kl_agg));
    const bool want_grad = c.logits_entry ? c.grad_logits != nullptr : c.grad_logp != nullptr;
    const bool want_entropy = c.logits_entry && c.entropy_out != nullptr;
    const int64_t groups = cu::ceil_div(n, kGroup);
    const int first_blocks = static_cast<int>(cu::grid_blocks(groups, cap));
    const int main_blocks =
        static_cast<int>(cu::grid_blocks(cu::ceil_div(n, kMainGroup), static_cast<int64_t>(sms) * kMainBlocksPerSm));

    // One workspace: Ctrl and the per-group counts first (zeroed together), then the rest.
    cu::WorkspaceLayout layout;
    const size_t off_ctrl = layout.add<Ctrl>(1);
    const size_t off_group_kept = layout.add<int32_t>(per_seq ? groups : 0);
    const size_t zero_end = layout.bytes();
    const size_t off_first = layout.add<FirstPartial>(first_blocks);
    const size_t off_sums = layout.add<PolicyLossSums>(main_blocks);
    const size_t off_mask = layout.add<uint32_t>(per_seq ? cu::ceil_div(n, 32) : 0);
    const size_t off_prefix = layout.add<int32_t>(per_seq ? groups + 1 : 0);
    const size_t off_bounds = layout.add<int32_t>(per_seq ? static_cast<int64_t>(c.b) + 1 : 0);
    const size_t off_logp = layout.add<float>(c.logits_entry ? n : 0);
    const size_t off_entropy = layout.add<float>(want_entropy ? n : 0);
    const size_t off_lse = layout.add<float>(c.logits_entry && want_grad ? n : 0);
    const size_t off_coef = layout.add<float>(c.logits_entry && want_grad ? n : 0);
    cu::DeviceBuffer ws;
    if ((st = ws.allocate(layout.bytes(), stream)) != SPO4J_OK) return st;
    Ctrl* ctrl = ws.at<Ctrl>(off_ctrl);
    SPO4J_CUDA_CHECK(cudaMemsetAsync(ctrl, 0xFF, kCtrlKeyBytes, stream));
    SPO4J_CUDA_CHECK(cudaMemsetAsync(ws.at<unsigned char>(off_ctrl + kCtrlKeyBytes), 0,
                                     zero_end - off_ctrl - kCtrlKeyBytes, stream));

    if (c.offs != nullptr) {
        const unsigned blocks = cu::grid_blocks(cu::ceil_div(static_cast<int64_t>(c.b) + 1, kThreads), cap * 2);
        check_offsets_kernel<<<blocks, kThreads, 0, stream>>>(c.offs, c.b, n, ctrl);
        SPO4J_CUDA_CHECK_LAUNCH("check_offsets_kernel");
    }

    RowArgs ra{};
    if (n > 0) {
        TokenArgs ta{};
        ta.n = n;
        ta.b = c.b;
        ta.offs = c.offs;
        ta.logp = c.logp;
        ta.old_logp = c.old_logp;
        ta.ref_logp = c.ref_logp;
        ta.adv = c.adv;
        ta.valid = c.valid;
        ta.p = p;
        ta.per_seq = per_seq;
        ta.ctrl = ctrl;
        ta.first = ws.at<FirstPartial>(off_first);
        ta.sums = ws.at<PolicyLossSums>(off_sums);
        if (per_seq) {
            ta.kept_mask = ws.at<uint32_t>(off_mask);
            ta.group_kept = ws.at<int32_t>(off_group_kept);
            ta.group_prefix = ws.at<int32_t>(off_prefix);
            ta.bound_kept = ws.at<int32_t>(off_bounds);
        }
        if (c.logits_entry) {
            ra.n = n;
            ra.v = c.v;
            ra.logits = c.logits;
            ra.grad = c.grad_logits;
            ra.targets = c.targets;
            ra.targets_dtype = c.targets_dtype;
            ra.inv_t = 1.0f / c.temperature;
            ra.valid = c.valid;
            ra.logp = ws.at<float>(off_logp);
            ra.entropy = want_entropy ? ws.at<float>(off_entropy) : nullptr;
            ra.lse = want_grad ? ws.at<float>(off_lse) : nullptr;
            ra.coef = want_grad ? ws.at<float>(off_coef) : nullptr;
            ra.ctrl = ctrl;
            if ((st = launch_logprob_rows(ra, c.logits_dtype, want_entropy, sms, stream)) != SPO4J_OK) return st;
            ta.logp = ra.logp;
            ta.entropy = ra.entropy;
            ta.inv_t = ra.inv_t;
            ta.coef = want_grad ? ws.at<float>(off_coef) : nullptr;
            ta.logp_out = c.logp_out;
            ta.entropy_out = c.entropy_out;
        } else {
            ta.grad_logp = c.grad_logp;
        }

        first_pass_kernel<<<first_blocks, kThreads, 0, stream>>>(ta);
        SPO4J_CUDA_CHECK_LAUNCH("first_pass_kernel");
        finalize_first_kernel<<<1, kFinalThreads, 0, stream>>>(ta, first_blocks, groups);
        SPO4J_CUDA_CHECK_LAUNCH("finalize_first_kernel");
        if (per_seq) {
            const unsigned blocks = cu::grid_blocks(cu::ceil_div(static_cast<int64_t>(c.b) + 1, kThreads), cap * 2);
            seq_bounds_kernel<<<blocks, kThreads, 0, stream>>>(ta);
            SPO4J_CUDA_CHECK_LAUNCH("seq_bounds_kernel");
        }
        main_pass_kernel<<<main_blocks, kThreads, 0, stream>>>(ta);
        SPO4J_CUDA_CHECK_LAUNCH("main_pass_kernel");
        finalize_main_kernel<<<1, kFinalThreads, 0, stream>>>(ta, main_blocks);
        SPO4J_CUDA_CHECK_LAUNCH("finalize_main_kernel");
        if (!c.logits_entry && c.grad_logp != nullptr && p.max_mean_ratio > 0) {
            const unsigned blocks = cu::grid_blocks(cu::ceil_div(n, kThreads), cap * 2);
            zero_if_skipped_kernel<<<blocks, kThreads, 0, stream>>>(c.grad_logp, n, ctrl);
            SPO4J_CUDA_CHECK_LAUNCH("zero_if_skipped_kernel");
        }
        if (c.logits_entry && want_grad) {
            if ((st = launch_grad_rows(ra, c.logits_dtype, sms, stream)) != SPO4J_OK) return st;
        }
    }

    Ctrl h;
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(&h, ctrl, sizeof(Ctrl), cudaMemcpyDeviceToHost, stream));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (h.offs_bad != kNoError) return offsets_error(h.offs_bad, n, c.b, c.offs, stream);
    if (h.row_bad != kNoError) return row_error(h.row_bad, c.v, c.targets, c.targets_dtype, stream);
    if (h.tok_bad != kNoError)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "%s[%lld] is not finite", kTokenArgNames[h.tok_bad & 3],
                    static_cast<long long>(h.tok_bad >> 2));
    if (n == 0) {
        finish_stats(p, PolicyLossScale{}, Moments{}, PolicyLossSums{}, want_entropy, c.stats);
        return SPO4J_OK;
    }
    const bool skipped = finish_stats(p, h.scale, h.moments, h.sums, want_entropy, c.stats);
    if (skipped != (h.skipped != 0))
        return fail(SPO4J_ERR_INTERNAL, "internal error: the device and the host disagree on the skip decision");
    return SPO4J_OK;
}

}  // namespace

int policy_loss_tokens_cuda(int64_t n, int32_t b, const int32_t* seq_offsets, const float* logp, const float* old_logp,
                            const float* ref_logp, const float* advantages, const uint8_t* valid,
                            const PolicyLossParams& p, float* grad_logp, double* stats, void* stream) {
    LossCall c{};
    c.n = n;
    c.b = b;
    c.offs = seq_offsets;
    c.logp = logp;
    c.old_logp = old_logp;
    c.ref_logp = ref_logp;
    c.adv = advantages;
    c.valid = valid;
    c.p = &p;
    c.grad_logp = grad_logp;
    c.logits_entry = false;
    c.stats = stats;
    c.stream = static_cast<cudaStream_t>(stream);
    return run_policy_loss(c);
}

int policy_loss_logits_cuda(int64_t n, int64_t v, int32_t b, const int32_t* seq_offsets, const void* logits,
                            int logits_dtype, const void* targets, int targets_dtype, float temperature,
                            const float* old_logp, const float* ref_logp, const float* advantages, const uint8_t* valid,
                            const PolicyLossParams& p, void* grad_logits, float* logp_out, float* entropy_out,
                            double* stats, void* stream) {
    LossCall c{};
    c.n = n;
    c.b = b;
    c.offs = seq_offsets;
    c.old_logp = old_logp;
    c.ref_logp = ref_logp;
    c.adv = advantages;
    c.valid = valid;
    c.p = &p;
    c.logits_entry = true;
    c.v = v;
    c.logits = logits;
    c.logits_dtype = logits_dtype;
    c.targets = targets;
    c.targets_dtype = targets_dtype;
    c.temperature = temperature;
    c.grad_logits = grad_logits;
    c.logp_out = logp_out;
    c.entropy_out = entropy_out;
    c.stats = stats;
    c.stream = static_cast<cudaStream_t>(stream);
    return run_policy_loss(c);
}

int token_logprobs_cuda(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                        int targets_dtype, float temperature, float* logp_out, float* entropy_out, void* stream) {
    if (n == 0) return SPO4J_OK;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    int sms = 0;
    int st = cu::current_sm_count(&sms);
    if (st != SPO4J_OK) return st;
    const bool want_entropy = entropy_out != nullptr;
    cu::WorkspaceLayout layout;
    const size_t off_ctrl = layout.add<Ctrl>(1);
    const size_t off_logp = layout.add<float>(n);
    const size_t off_entropy = layout.add<float>(want_entropy ? n : 0);
    cu::DeviceBuffer ws;
    if ((st = ws.allocate(layout.bytes(), s)) != SPO4J_OK) return st;
    Ctrl* ctrl = ws.at<Ctrl>(off_ctrl);
    SPO4J_CUDA_CHECK(cudaMemsetAsync(ctrl, 0xFF, kCtrlKeyBytes, s));

    RowArgs ra{};
    ra.n = n;
    ra.v = v;
    ra.logits = logits;
    ra.targets = targets;
    ra.targets_dtype = targets_dtype;
    ra.inv_t = 1.0f / temperature;
    ra.logp = ws.at<float>(off_logp);
    ra.entropy = want_entropy ? ws.at<float>(off_entropy) : nullptr;
    ra.ctrl = ctrl;
    if ((st = launch_logprob_rows(ra, logits_dtype, want_entropy, sms, s)) != SPO4J_OK) return st;
    const unsigned blocks = cu::grid_blocks(cu::ceil_div(n, kThreads), static_cast<int64_t>(sms) * kMinBlocksPerSm * 2);
    copy_out_kernel<<<blocks, kThreads, 0, s>>>(n, ra.logp, ra.entropy, logp_out, entropy_out, ctrl);
    SPO4J_CUDA_CHECK_LAUNCH("copy_out_kernel");

    unsigned long long keys[3];
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(keys, ctrl, sizeof keys, cudaMemcpyDeviceToHost, s));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(s));
    if (keys[1] != kNoError) return row_error(keys[1], v, targets, targets_dtype, s);
    return SPO4J_OK;
}

int token_logprobs_backward_cuda(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                                 int targets_dtype, float temperature, const float* grad_logp, void* grad_logits,
                                 void* stream) {
    if (n == 0) return SPO4J_OK;
    cudaStream_t s = static_cast<cudaStream_t>(stream);
    int sms = 0;
    int st = cu::current_sm_count(&sms);
    if (st != SPO4J_OK) return st;
    cu::WorkspaceLayout layout;
    const size_t off_ctrl = layout.add<Ctrl>(1);
    const size_t off_logp = layout.add<float>(n);
    const size_t off_lse = layout.add<float>(n);
    const size_t off_coef = layout.add<float>(n);
    const size_t off_read = layout.add<uint8_t>(n);
    cu::DeviceBuffer ws;
    if ((st = ws.allocate(layout.bytes(), s)) != SPO4J_OK) return st;
    // Error keys to "none", the rest (skipped = 0: grad_rows_kernel reads it) to zero.
    Ctrl* ctrl = ws.at<Ctrl>(off_ctrl);
    SPO4J_CUDA_CHECK(cudaMemsetAsync(ctrl, 0xFF, kCtrlKeyBytes, s));
    SPO4J_CUDA_CHECK(
        cudaMemsetAsync(ws.at<unsigned char>(off_ctrl + kCtrlKeyBytes), 0, sizeof(Ctrl) - kCtrlKeyBytes, s));

    RowArgs ra{};
    ra.n = n;
    ra.v = v;
    ra.logits = logits;
    ra.grad = grad_logits;
    ra.targets = targets;
    ra.targets_dtype = targets_dtype;
    ra.inv_t = 1.0f / temperature;
    ra.valid = ws.at<uint8_t>(off_read);
    ra.logp = ws.at<float>(off_logp);
    ra.lse = ws.at<float>(off_lse);
    ra.coef = ws.at<float>(off_coef);
    ra.ctrl = ctrl;
    const unsigned blocks = cu::grid_blocks(cu::ceil_div(n, kThreads), static_cast<int64_t>(sms) * kMinBlocksPerSm * 2);
    backward_coef_kernel<<<blocks, kThreads, 0, s>>>(n, grad_logp, ra.inv_t, ws.at<float>(off_coef),
                                                     ws.at<uint8_t>(off_read), ctrl);
    SPO4J_CUDA_CHECK_LAUNCH("backward_coef_kernel");
    if ((st = launch_logprob_rows(ra, logits_dtype, false, sms, s)) != SPO4J_OK) return st;
    // Writes nothing when any check above failed (it reads Ctrl first): an in-place call keeps its logits.
    if ((st = launch_grad_rows(ra, logits_dtype, sms, s)) != SPO4J_OK) return st;

    unsigned long long keys[3];
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(keys, ctrl, sizeof keys, cudaMemcpyDeviceToHost, s));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(s));
    // The CPU's order: gradLogp first, then the rows (the smallest failing row, target before logits).
    if (keys[2] != kNoError)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "gradLogp[%lld] is not finite", static_cast<long long>(keys[2]));
    if (keys[1] != kNoError) return row_error(keys[1], v, targets, targets_dtype, s);
    return SPO4J_OK;
}

}  // namespace spo4j
