// CUDA plumbing shared by the kernels in src/main/cuda: CUDA status checks that become spo4j status codes,
// launch arithmetic, deterministic warp/block reductions and a stream-ordered device buffer.
//
// Determinism: every reduction here combines values in a fixed tree order (shuffle-down within a warp,
// then the warps' results in warp order), so for a fixed launch shape the result is bit-identical from
// run to run. Nothing here uses floating-point atomics.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "common.h"

namespace spo4j {
namespace cu {

// ---- status --------------------------------------------------------------------------------------

// Turns a CUDA error into the library's status and message. Allocation failures get their own code.
inline int cuda_fail(cudaError_t e, const char* what) {
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // not sticky: clear it so the next call starts clean
        return fail(SPO4J_ERR_OUT_OF_MEMORY, "%s: out of device memory", what);
    }
    return fail(SPO4J_ERR_CUDA, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

// `return`s the spo4j status from the enclosing function when `expr` is not cudaSuccess.
#define SPO4J_CUDA_CHECK(expr)                                                                     \
    do {                                                                                           \
        const cudaError_t spo4j_cuda_err_ = (expr);                                                \
        if (spo4j_cuda_err_ != cudaSuccess) return ::spo4j::cu::cuda_fail(spo4j_cuda_err_, #expr); \
    } while (0)

// The same for a kernel launch just made (reports launch-configuration errors).
#define SPO4J_CUDA_CHECK_LAUNCH(name) SPO4J_CUDA_CHECK_NAMED(cudaGetLastError(), name)
#define SPO4J_CUDA_CHECK_NAMED(expr, name)                                                        \
    do {                                                                                          \
        const cudaError_t spo4j_cuda_err_ = (expr);                                               \
        if (spo4j_cuda_err_ != cudaSuccess) return ::spo4j::cu::cuda_fail(spo4j_cuda_err_, name); \
    } while (0)

// ---- launch arithmetic ---------------------------------------------------------------------------

SPO4J_HD constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
SPO4J_HD constexpr size_t align_up(size_t x, size_t a) { return (x + a - 1) / a * a; }

// Multiprocessors of the current device (cached per device; the attribute lookup is cheap anyway).
inline int current_sm_count(int* sms) {
    static std::atomic<int> cache[64];
    int dev = 0;
    SPO4J_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev >= 0 && dev < 64) {
        const int c = cache[dev].load(std::memory_order_relaxed);
        if (c > 0) {
            *sms = c;
            return SPO4J_OK;
        }
    }
    int c = 0;
    SPO4J_CUDA_CHECK(cudaDeviceGetAttribute(&c, cudaDevAttrMultiProcessorCount, dev));
    if (c < 1) c = 1;
    if (dev >= 0 && dev < 64) cache[dev].store(c, std::memory_order_relaxed);
    *sms = c;
    return SPO4J_OK;
}

// Blocks for a grid-stride kernel: enough to cover `work_blocks`, at most `cap`, at least 1.
inline unsigned grid_blocks(int64_t work_blocks, int64_t cap) {
    int64_t g = work_blocks < cap ? work_blocks : cap;
    if (g < 1) g = 1;
    return static_cast<unsigned>(g);
}

// ---- device math ---------------------------------------------------------------------------------

constexpr float kLog2e = 1.4426950408889634f;

// 2^x by the MUFU unit (about 2 ulp; ftz: results below 2^-126 are 0, which does not change an fp32 sum of
// softmax terms that include the maximum's 1). ex2(-inf) = 0.
__device__ __forceinline__ float fast_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}

// ---- deterministic reductions --------------------------------------------------------------------

constexpr unsigned kFullMask = 0xffffffffu;

// __shfl_down_sync for any trivially copyable value whose size is a multiple of 4 bytes (structs of
// floats, doubles and 64-bit integers), one 32-bit word at a time.
template <class T>
__device__ __forceinline__ T shfl_down(const T& v, int offset) {
    static_assert(std::is_trivially_copyable<T>::value && sizeof(T) % 4 == 0, "shuffle needs 4-byte words");
    constexpr int kWords = static_cast<int>(sizeof(T) / 4);
    uint32_t w[kWords];
    memcpy(w, &v, sizeof(T));
#pragma unroll
    for (int i = 0; i < kWords; ++i) w[i] = __shfl_down_sync(kFullMask, w[i], offset);
    T r;
    memcpy(&r, w, sizeof(T));
    return r;
}

// Tree reduction over the 32 lanes of a full warp; the result is in lane 0 (other lanes hold partial
// trees). op(a, b) combines a lower lane's value a with a higher lane's value b.
template <class T, class Op>
__device__ __forceinline__ T warp_reduce(T v, Op op) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = op(v, shfl_down(v, offset));
    return v;
}

// Uninitialised shared storage for values with default member initialisers (which __shared__ variables
// may not have): declare `__shared__ SharedArray<T, N> s;` and use s.get().
template <class T, int N>
struct SharedArray {
    alignas(alignof(T) > 16 ? alignof(T) : 16) unsigned char raw[sizeof(T) * N];
    __device__ __forceinline__ T* get() { return reinterpret_cast<T*>(raw); }
};

// Block reduction for blocks of kThreads threads (a multiple of 32, at most 1024); every thread of the block
// must call it. The result is in thread 0. `smem` holds kThreads / 32 values; the call has one
// __syncthreads() inside, so before `smem` is written again the caller needs another barrier (or a second
// buffer: each use of a buffer is then separated by the barrier of the other's use).
template <int kThreads, class T, class Op>
__device__ __forceinline__ T block_reduce(T v, Op op, const T& identity, T* smem) {
    static_assert(kThreads % 32 == 0 && kThreads <= 1024, "block of whole warps");
    constexpr int kWarps = kThreads / 32;
    const int lane = static_cast<int>(threadIdx.x) & 31, warp = static_cast<int>(threadIdx.x) >> 5;
    v = warp_reduce(v, op);
    if (kWarps == 1) return v;
    if (lane == 0) smem[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < kWarps ? smem[lane] : identity;
        v = warp_reduce(v, op);
    }
    return v;
}

// ---- device memory -------------------------------------------------------------------------------

// One device allocation, stream-ordered where the device supports memory pools (cudaMallocAsync), else
// plain cudaMalloc. Freed in stream order by the destructor.
class DeviceBuffer {
  public:
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { release(); }

    int allocate(size_t bytes, cudaStream_t stream) {
        release();
        stream_ = stream;
        if (bytes == 0) return SPO4J_OK;
        cudaError_t e = cudaMallocAsync(&ptr_, bytes, stream);
        if (e == cudaSuccess) {
            async_ = true;
            return SPO4J_OK;
        }
        ptr_ = nullptr;
        if (e != cudaErrorNotSupported) return cuda_fail(e, "cudaMallocAsync(workspace)");
        cudaGetLastError();
        async_ = false;
        SPO4J_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
        return SPO4J_OK;
    }

    void* get() const { return ptr_; }
    template <class T>
    T* at(size_t offset) const {
        return reinterpret_cast<T*>(static_cast<unsigned char*>(ptr_) + offset);
    }

  private:
    void release() {
        if (ptr_ == nullptr) return;
        if (async_)
            cudaFreeAsync(ptr_, stream_);
        else
            cudaFree(ptr_);
        ptr_ = nullptr;
    }
    void* ptr_ = nullptr;
    cudaStream_t stream_ = nullptr;
    bool async_ = false;
};

// Offsets of the pieces of one workspace allocation (each aligned to 256 bytes).
class WorkspaceLayout {
  public:
    template <class T>
    size_t add(int64_t count) {
        const size_t offset = align_up(bytes_, 256);
        bytes_ = offset + static_cast<size_t>(count > 0 ? count : 0) * sizeof(T);
        return offset;
    }
    size_t bytes() const { return bytes_; }

  private:
    size_t bytes_ = 0;
};

// Copies the element of T at device address src + index to *dst (for error messages), in stream order.
template <class T>
int read_device(T* dst, const T* src, int64_t index, cudaStream_t stream) {
    SPO4J_CUDA_CHECK(cudaMemcpyAsync(dst, src + index, sizeof(T), cudaMemcpyDeviceToHost, stream));
    SPO4J_CUDA_CHECK(cudaStreamSynchronize(stream));
    return SPO4J_OK;
}

}  // namespace cu
}  // namespace spo4j
