// CUDA implementation of the sampler (spo4j_sampler_sample on SPO4J_DEVICE_CUDA): the per-token math of sampler.h
// (x, integer masses, keys, Philox, the draw) under the contract of spo4j_api.h, drawing the same tokens as
// the CPU twin sampler.cpp.
//
//   check_kernel    grid-stride over B·V: the lowest flat index whose x = logit / T is not finite (atomicMin)
//   (the host waits: the error message, or)
//   sample_kernel   one block per row (grid-stride over rows):
//     1. max and argmax of x (ties to the lowest index), block reduction
//     2. Z = Σ q and the count of q > 0, block reductions (integers: exact in any order)
//     3. top-k: the k-th largest key by radix select (8 passes of 8-bit digits over the 64-bit key, a
//        256-bin shared histogram per pass, integer atomics); top-p: the same select weighted by q for the
//        smallest prefix of mass >= P. Keys are distinct, so the select finds exactly the CPU's threshold.
//        Masses are recomputed from the logits on every pass (no [B, V] scratch).
//     4. Zkept = Σ q over the kept keys; r = floor(rand64 · Zkept / 2^64); each thread owns a contiguous
//        range of indices, a block scan of the ranges' kept masses finds the range where the running mass
//        passes r, and its thread walks it to the token.
//
// Nothing is written before the check passed, and every sum is over integers, so the tokens are the same
// every run and equal to the CPU's; the log-prob is the same expression (sample_logprob) from the same Z.
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda_common.cuh"
#include "sampler.h"

namespace spo4j {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kCheckThreads = 256;
constexpr int kBins = 256;
constexpr unsigned long long kNoError = ~0ull;

template <class T>
__global__ void check_kernel(const T* logits, int64_t n, float temperature, unsigned long long* bad) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
        if (!is_finite_f(sample_x(load_as_float(logits, i), temperature)))
            atomicMin(bad, static_cast<unsigned long long>(i));
    }
}

struct MaxArg {
    float x;
    int32_t i;
};
struct MaxArgOp {
    __device__ MaxArg operator()(const MaxArg& a, const MaxArg& b) const {
        return (b.x > a.x || (b.x == a.x && b.i < a.i)) ? b : a;
    }
};
struct SumU64 {
    __device__ unsigned long long operator()(unsigned long long a, unsigned long long b) const { return a + b; }
};

// Shared state of one row's block.
struct RowShared {
    MaxArg max_parts[kWarps];
    unsigned long long sum_parts[kWarps];
    unsigned long long cnt_parts[kWarps];
    unsigned long long scan_parts[kWarps];
    unsigned long long hist[kBins];
    unsigned long long bcast[2];
    float m;
    int32_t arg;
    int32_t token;
};

template <class T>
__device__ __forceinline__ uint64_t mass_at(const T* row, int64_t i, float temperature, double md) {
    return sample_mass(static_cast<double>(sample_x(load_as_float(row, i), temperature)) - md);
}

// Broadcasts thread 0's value to the block (the barrier after it lets `slot` be reused).
__device__ __forceinline__ unsigned long long broadcast(unsigned long long v, unsigned long long* slot) {
    if (threadIdx.x == 0) *slot = v;
    __syncthreads();
    const unsigned long long out = *slot;
    __syncthreads();
    return out;
}

// The largest key τ with W(τ) = Σ w(key) over keys >= τ at least `target` (1 <= target <= total weight), where
// w = q (by_mass) or 1, over the tokens with q > 0: the last key of the shortest prefix of the order whose
// weight reaches the target. MSB-first, 8 bits per pass: the histogram of the weights of the keys that share
// the digits chosen so far, scanned from the top digit for the bin where the running weight reaches what is
// still needed.
template <class T>
__device__ uint64_t select_threshold(const T* row, int64_t v, float temperature, double md, bool by_mass,
                                     uint64_t target, RowShared& s) {
    uint64_t prefix = 0, need = target;
    for (int shift = 56; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < kBins; b += kThreads) s.hist[b] = 0;
        __syncthreads();
        const uint64_t high = shift == 56 ? 0 : (~uint64_t{0} << (shift + 8));
        for (int64_t i = threadIdx.x; i < v; i += kThreads) {
            const uint64_t q = mass_at(row, i, temperature, md);
            if (q == 0) continue;
            const uint64_t key = sample_key(q, i);
            if ((key & high) != prefix) continue;
            atomicAdd(&s.hist[(key >> shift) & (kBins - 1)], static_cast<unsigned long long>(by_mass ? q : 1));
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            uint64_t acc = 0;
            int b = kBins - 1;
            for (; b > 0; --b) {
                if (acc + s.hist[b] >= need) break;
                acc += s.hist[b];
            }
            s.bcast[0] = prefix | (static_cast<uint64_t>(b) << shift);
            s.bcast[1] = need - acc;
        }
        __syncthreads();
        prefix = s.bcast[0];
        need = s.bcast[1];
        __syncthreads();
    }
    return prefix;
}

// Σ q over the kept tokens (q > 0, key >= threshold); the result in every thread.
template <class T>
__device__ uint64_t kept_mass(const T* row, int64_t v, float temperature, double md, uint64_t threshold, RowShared& s) {
    unsigned long long sum = 0;
    for (int64_t i = threadIdx.x; i < v; i += kThreads) {
        const uint64_t q = mass_at(row, i, temperature, md);
        if (q != 0 && sample_key(q, i) >= threshold) sum += q;
    }
    sum = cu::block_reduce<kThreads>(sum, SumU64(), 0ull, s.sum_parts);
    return broadcast(sum, &s.bcast[0]);
}

// Inclusive prefix sum over the block's threads, in thread order.
__device__ unsigned long long block_inclusive_scan(unsigned long long v, unsigned long long* parts) {
    const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const unsigned long long n = __shfl_up_sync(cu::kFullMask, v, o);
        if (lane >= o) v += n;
    }
    if (lane == 31) parts[warp] = v;
    __syncthreads();
    unsigned long long offset = 0;
    for (int w = 0; w < warp; ++w) offset += parts[w];
    __syncthreads();
    return v + offset;
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    sample_kernel(const T* logits, int64_t b, int64_t v, const int64_t* seq_ids, const int32_t* positions,
                  SampleParams p, int32_t* tokens, float* logprobs) {
    __shared__ RowShared s;
    const float temp = p.temperature;
    for (int64_t r = blockIdx.x; r < b; r += gridDim.x) {
        const T* row = logits + r * v;

        MaxArg best{-INFINITY, INT32_MAX};
        for (int64_t i = threadIdx.x; i < v; i += kThreads) {
            const float x = sample_x(load_as_float(row, i), temp);
            if (x > best.x) best = MaxArg{x, static_cast<int32_t>(i)};  // i increases: ties keep the first
        }
        best = cu::block_reduce<kThreads>(best, MaxArgOp(), MaxArg{-INFINITY, INT32_MAX}, s.max_parts);
        if (threadIdx.x == 0) {
            s.m = best.x;
            s.arg = best.i;
        }
        __syncthreads();
        const float m = s.m;
        const double md = static_cast<double>(m);

        unsigned long long z = 0, nonzero = 0;
        for (int64_t i = threadIdx.x; i < v; i += kThreads) {
            const uint64_t q = mass_at(row, i, temp, md);
            z += q;
            nonzero += q != 0 ? 1 : 0;
        }
        z = cu::block_reduce<kThreads>(z, SumU64(), 0ull, s.sum_parts);
        nonzero = cu::block_reduce<kThreads>(nonzero, SumU64(), 0ull, s.cnt_parts);
        if (threadIdx.x == 0) {
            s.bcast[0] = z;
            s.bcast[1] = nonzero;
        }
        __syncthreads();
        z = s.bcast[0];
        nonzero = s.bcast[1];
        __syncthreads();

        if (p.greedy) {
            if (threadIdx.x == 0) s.token = s.arg;
        } else {
            uint64_t threshold = 0, zkept = z;
            // Zero-mass tokens come last in the order, so top-k cuts only when k < the count of q > 0.
            if (p.top_k > 0 && static_cast<unsigned long long>(p.top_k) < nonzero) {
                threshold = select_threshold(row, v, temp, md, false, static_cast<uint64_t>(p.top_k), s);
                zkept = kept_mass(row, v, temp, md, threshold, s);
            }
            if (p.top_p < 1.0f) {
                threshold = select_threshold(row, v, temp, md, true, sample_top_p_target(p.top_p, zkept), s);
                zkept = kept_mass(row, v, temp, md, threshold, s);
            }
            const uint64_t rnd = sample_mulhi(sample_rand64(p.seed, seq_ids[r], positions[r]), zkept);

            const int64_t chunk = cu::ceil_div(v, kThreads);
            const int64_t first = static_cast<int64_t>(threadIdx.x) * chunk;
            const int64_t begin = first < v ? first : v;
            const int64_t end = begin + chunk < v ? begin + chunk : v;
            unsigned long long local = 0;
            for (int64_t i = begin; i < end; ++i) {
                const uint64_t q = mass_at(row, i, temp, md);
                if (q != 0 && sample_key(q, i) >= threshold) local += q;
            }
            const unsigned long long incl = block_inclusive_scan(local, s.scan_parts);
            const unsigned long long base = incl - local;
            if (local != 0 && base <= rnd && rnd < incl) {  // exactly one thread: the ranges tile [0, Zkept)
                unsigned long long cum = base;
                for (int64_t i = begin; i < end; ++i) {
                    const uint64_t q = mass_at(row, i, temp, md);
                    if (q == 0 || sample_key(q, i) < threshold) continue;
                    cum += q;
                    if (cum > rnd) {
                        s.token = static_cast<int32_t>(i);
                        break;
                    }
                }
            }
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            const int32_t tok = s.token;
            tokens[r] = tok;
            if (logprobs != nullptr) logprobs[r] = sample_logprob(sample_x(load_as_float(row, tok), temp), m, z);
        }
        __syncthreads();
    }
}

template <class T>
int sample_typed(int64_t b, int64_t v, const T* logits, const int64_t* seq_ids, const int32_t* positions,
                 const SampleParams& p, int32_t* tokens, float* logprobs, cudaStream_t stream) {
    int sms = 0;
    int st = cu::current_sm_count(&sms);
    if (st != SPO4J_OK) return st;
    cu::DeviceBuffer ws;
    if ((st = ws.allocate(sizeof(unsigned long long), stream)) != SPO4J_OK) return st;
    unsigned long long* bad = ws.at<unsigned long long>(0);
    SPO4J_CUDA_CHECK(cudaMemsetAsync(bad, 0xFF, sizeof(unsigned long long), stream));
    const int64_t n = b * v;
    check_kernel<<<cu::grid_blocks(cu::ceil_div(n, kCheckThreads), int64_t{sms} * 8), kCheckThreads, 0, stream>>>(
        logits, n, p.temperature, bad);
    SPO4J_CUDA_CHECK_LAUNCH("sampling check_kernel");
    unsigned long long h_bad = 0;
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(&h_bad, bad, sizeof h_bad, cudaMemcpyDeviceToHost, stream));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (h_bad != kNoError) {
        const int64_t at = static_cast<int64_t>(h_bad);
        T raw;
        if ((st = cu::read_device(&raw, logits, at, stream)) != SPO4J_OK) return st;
        return sample_bad_logit_status(at / v, at % v, load_as_float(&raw, 0), p.temperature);
    }
    sample_kernel<T><<<cu::grid_blocks(b, int64_t{1} << 20), kThreads, 0, stream>>>(logits, b, v, seq_ids, positions, p,
                                                                                    tokens, logprobs);
    SPO4J_CUDA_CHECK_LAUNCH("sampling sample_kernel");
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

}  // namespace

int sample_cuda(int64_t b, int64_t v, const void* logits, int logits_dtype, const int64_t* seq_ids,
                const int32_t* positions, const SampleParams& p, int32_t* tokens, float* logprobs, void* stream_ptr) {
    if (b == 0) return SPO4J_OK;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    if (logits_dtype == SPO4J_DTYPE_BF16)
        return sample_typed(b, v, static_cast<const uint16_t*>(logits), seq_ids, positions, p, tokens, logprobs,
                            stream);
    return sample_typed(b, v, static_cast<const float*>(logits), seq_ids, positions, p, tokens, logprobs, stream);
}

}  // namespace spo4j
