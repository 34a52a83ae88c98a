// The harness shared by the native CUDA checks, one file per op in this folder (llm.c's dev/cuda/common.h):
// status and CUDA checks, device buffers, seeded input generators, validation (tolerance and bit-exact),
// CUDA-event timing with an L2 flush, the device-to-device copy bandwidth as the memory ceiling, CSV rows
// and a main() that every check shares.
//
// Each check runs an op through the public C API (spo4j_api.h) twice on the same inputs: on SPO4J_DEVICE_CPU
// (the reference side: the library's CPU kernels, themselves tested against the Java reference) and on
// SPO4J_DEVICE_CUDA (the checked side, device buffers). With --cpu-only the CPU plays the checked side too
// (buffers in host memory, no CUDA call at all), so the generators, pointer plumbing, validation and error
// paths run on a machine without a GPU; the timings then use small shapes and the host clock.
//
// Exit status of every check: 0 all matched, 1 a mismatch, 2 a setup failure (bad arguments, a CUDA runtime
// error), 77 no usable CUDA device (nothing checked; 77 is the "skipped" code of automake and CTest).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "spo4j_api.h"

namespace check {

// ---- run mode and bookkeeping --------------------------------------------------------------------

enum ExitCode { kExitOk = 0, kExitMismatch = 1, kExitSetup = 2, kExitNoDevice = 77 };

struct Mode {
    bool cpu_only = false;  // the CPU plays the checked side (no CUDA call)
    bool timing = true;
    const char* csv = nullptr;
};

inline Mode g_mode;
inline int g_checks = 0;
inline int g_failures = 0;

// The device of the checked side, as the C API names it.
inline int device() { return g_mode.cpu_only ? SPO4J_DEVICE_CPU : SPO4J_DEVICE_CUDA; }
// Its name in messages and CSV rows.
inline const char* device_name() { return g_mode.cpu_only ? "cpu-as-device" : "cuda"; }

inline void fail_check(const std::string& what) {
    ++g_failures;
    std::printf("  FAIL %s\n", what.c_str());
}

// Prints "ok <label>" when no check failed since `failures_before` (a case's checks print only failures).
inline void report_case(const std::string& label, int failures_before) {
    if (g_failures == failures_before) std::printf("  ok  %s\n", label.c_str());
}

#define CUDA_CHECK(expr)                                                                                \
    do {                                                                                                \
        const cudaError_t e_ = (expr);                                                                  \
        if (e_ != cudaSuccess) {                                                                        \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_)); \
            std::exit(::check::kExitSetup);                                                             \
        }                                                                                               \
    } while (0)

// A library call that must succeed (input preparation): any other status is a setup failure.
#define SPO4J_CHECK(expr)                                                                                          \
    do {                                                                                                           \
        const int s_ = (expr);                                                                                     \
        if (s_ != SPO4J_OK) {                                                                                      \
            std::fprintf(stderr, "%s:%d: %s: status %d: %s\n", __FILE__, __LINE__, #expr, s_, spo4j_last_error()); \
            std::exit(::check::kExitSetup);                                                                        \
        }                                                                                                          \
    } while (0)

// A call's status and, when it failed, the library's message (read at once: it is per thread and per call).
struct Status {
    int code = SPO4J_OK;
    std::string message;
};

inline Status capture(int code) {
    Status s;
    s.code = code;
    if (code != SPO4J_OK) s.message = spo4j_last_error();
    return s;
}

// Both sides accepted the call; otherwise one failure naming both statuses.
inline bool expect_ok(const std::string& label, const Status& cpu, const Status& dev) {
    ++g_checks;
    if (cpu.code == SPO4J_OK && dev.code == SPO4J_OK) return true;
    fail_check(label + ": status cpu " + std::to_string(cpu.code) + " (" + cpu.message + ") " + device_name() + " " +
               std::to_string(dev.code) + " (" + dev.message + ")");
    return false;
}

// Both sides rejected the call with the same status and the same message.
inline void expect_same_error(const std::string& label, const Status& cpu, const Status& dev) {
    ++g_checks;
    if (cpu.code == SPO4J_OK || cpu.code != dev.code || cpu.message != dev.message)
        fail_check(label + ": cpu " + std::to_string(cpu.code) + " '" + cpu.message + "' vs " + device_name() + " " +
                   std::to_string(dev.code) + " '" + dev.message + "'");
    else
        std::printf("  ok  %s: '%s'\n", label.c_str(), dev.message.c_str());
}

// ---- device memory -------------------------------------------------------------------------------

// Raw memory of the checked side: cudaMalloc'd, or host memory in --cpu-only mode.
inline void* raw_alloc(size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = nullptr;
    if (g_mode.cpu_only) {
        p = std::malloc(bytes);
        if (p == nullptr) {
            std::fprintf(stderr, "out of host memory (%zu bytes)\n", bytes);
            std::exit(kExitSetup);
        }
    } else {
        CUDA_CHECK(cudaMalloc(&p, bytes));
    }
    return p;
}

inline void raw_free(void* p) {
    if (p == nullptr) return;
    if (g_mode.cpu_only)
        std::free(p);
    else
        cudaFree(p);
}

enum CopyKind { kToDevice, kToHost };

// Copies and fills end with a device synchronisation: a cudaMemcpy from pageable memory may return before
// its DMA lands, and cudaMemset is asynchronous, and the call that reads the data may run on a non-blocking
// stream, which does not wait for the legacy stream they ran on.
inline void raw_copy(void* dst, const void* src, size_t bytes, CopyKind kind) {
    if (bytes == 0) return;
    if (g_mode.cpu_only) {
        std::memcpy(dst, src, bytes);
        return;
    }
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind == kToDevice ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaDeviceSynchronize());
}

inline void raw_set(void* dst, unsigned char byte, size_t bytes) {
    if (bytes == 0) return;
    if (g_mode.cpu_only) {
        std::memset(dst, byte, bytes);
        return;
    }
    CUDA_CHECK(cudaMemset(dst, byte, bytes));
    CUDA_CHECK(cudaDeviceSynchronize());
}

// An owned array of n T on the checked side. Its pointer is never null, even for n = 0: an input that is
// present but empty is not the API's "absent" (a null ref_logp with beta > 0 is an error even for N = 0);
// get_if(false) passes the null of an absent input.
template <class T>
class DeviceBuffer {
  public:
    DeviceBuffer() { resize(0); }
    explicit DeviceBuffer(size_t n) { resize(n); }
    explicit DeviceBuffer(const std::vector<T>& h) { upload(h); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { raw_free(ptr_); }

    // n elements, contents undefined.
    void resize(size_t n) {
        raw_free(ptr_);
        ptr_ = static_cast<T*>(raw_alloc(std::max<size_t>(n, 1) * sizeof(T)));
        n_ = n;
    }
    void upload(const std::vector<T>& h) {
        if (h.size() != n_ || ptr_ == nullptr) resize(h.size());
        raw_copy(ptr_, h.data(), n_ * sizeof(T), kToDevice);
    }
    // The first `bytes` bytes from host memory (for type-erased data such as bf16 or int64 targets).
    void upload_bytes(const void* h, size_t bytes) { raw_copy(ptr_, h, bytes, kToDevice); }
    std::vector<T> download() const {
        std::vector<T> h(n_);
        raw_copy(h.data(), ptr_, n_ * sizeof(T), kToHost);
        return h;
    }
    void fill_bytes(unsigned char byte) { raw_set(ptr_, byte, n_ * sizeof(T)); }
    T* get() const { return ptr_; }
    // The pointer, or null when the input is absent in this case.
    T* get_if(bool present) const { return present ? ptr_ : nullptr; }
    size_t size() const { return n_; }

  private:
    T* ptr_ = nullptr;
    size_t n_ = 0;
};

// A non-blocking stream of the checked side (null in --cpu-only mode), so repeat runs also cover a stream
// other than the legacy default one.
class Stream {
  public:
    Stream() {
        if (!g_mode.cpu_only) CUDA_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() {
        if (s_ != nullptr) cudaStreamDestroy(s_);
    }
    void* get() const { return s_; }

  private:
    cudaStream_t s_ = nullptr;
};

// Null for an empty host vector (the API's "absent").
template <class T>
T* host_or_null(std::vector<T>& v) {
    return v.empty() ? nullptr : v.data();
}

// A pointer to the host vector's data that is not null even when it is empty (a present, empty input).
template <class T>
T* host_ptr(std::vector<T>& v) {
    static T empty{};
    return v.empty() ? &empty : v.data();
}

// ---- inputs --------------------------------------------------------------------------------------

using Rng = std::mt19937_64;
// Every check draws its inputs from this seed, in a fixed order: a rerun sees the same inputs.
constexpr uint64_t kSeed = 20240607;

// splitmix64 -> [0, 1): fast enough for gigabytes of logits.
class FastUniform {
  public:
    explicit FastUniform(uint64_t seed) : state_(seed) {}
    float next() {
        uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return static_cast<float>((z ^ (z >> 31)) >> 40) * (1.0f / 16777216.0f);
    }
    // About N(0, 1): a sum of three uniforms, rescaled.
    float about_normal() { return 2.0f * (next() + next() + next() - 1.5f); }

  private:
    uint64_t state_;
};

inline std::vector<float> gaussian(size_t n, float mean, float stddev, Rng& rng) {
    std::normal_distribution<float> g(mean, stddev);
    std::vector<float> v(n);
    for (float& x : v) x = g(rng);
    return v;
}

inline uint16_t to_bf16(float f) {  // round to nearest even, as the library
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

inline float from_bf16(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Raw F32 or BF16 bytes as floats.
inline std::vector<float> widen(const std::vector<unsigned char>& raw, int dtype) {
    if (dtype == SPO4J_DTYPE_BF16) {
        std::vector<float> f(raw.size() / 2);
        for (size_t i = 0; i < f.size(); ++i) {
            uint16_t h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            f[i] = from_bf16(h);
        }
        return f;
    }
    std::vector<float> f(raw.size() / 4);
    if (!f.empty()) std::memcpy(f.data(), raw.data(), raw.size());
    return f;
}

inline const char* dtype_name(int dtype) { return dtype == SPO4J_DTYPE_BF16 ? "bf16" : "f32"; }

// ---- validation ----------------------------------------------------------------------------------

inline constexpr size_t kPrintedMismatches = 10;

inline double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
    return m;
}

// |got − ref| <= atol + rtol·|ref| (llm.c's validate_result). Entries with mask[i] == 0 are skipped (masked
// out). A non-finite reference entry is not a tolerance question: it must come back as the same non-finite
// value (NaN for NaN, the same infinity), e.g. the −inf lse of a query that sees no position. Prints the
// first 10 mismatches and fails when more than `allowed` entries differ (a few tokens can legitimately flip
// a clip decision: CUDA's expf and glibc's differ by an ulp or two, which moves a ratio sitting on a clip
// boundary across it). Returns whether it passed.
template <class T>
bool validate_result(const std::string& what, const std::vector<T>& ref, const std::vector<T>& got, double atol,
                     double rtol, size_t allowed = 0, const std::vector<uint8_t>* mask = nullptr) {
    ++g_checks;
    if (ref.size() != got.size()) {
        fail_check(what + ": size " + std::to_string(got.size()) + ", expected " + std::to_string(ref.size()));
        return false;
    }
    size_t bad = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (mask != nullptr && (*mask)[i] == 0) continue;
        const double r = static_cast<double>(ref[i]), g = static_cast<double>(got[i]);
        const bool ok = std::isfinite(r) ? std::fabs(g - r) <= atol + rtol * std::fabs(r)
                                         : (std::isnan(r) ? std::isnan(g) : g == r);
        if (ok) continue;
        if (bad < kPrintedMismatches)
            std::printf("    %s[%zu]: cpu %.9g %s %.9g (diff %.3g)\n", what.c_str(), i, r, device_name(), g, g - r);
        ++bad;
    }
    if (bad > kPrintedMismatches) std::printf("    %s: ... %zu mismatches in all\n", what.c_str(), bad);
    if (bad > allowed) {
        fail_check(what + ": " + std::to_string(bad) + " of " + std::to_string(ref.size()) + " elements differ");
        return false;
    }
    if (bad > 0)
        std::printf("    %s: %zu elements outside tolerance (allowed %zu: clip-boundary flips)\n", what.c_str(), bad,
                    allowed);
    return true;
}

// Bit-for-bit equality (memcmp per element: −0 and +0 differ, NaN payloads count), where the README promises
// the same bits. `left`/`right` name the two sides in the printout.
template <class T>
bool expect_bits(const std::string& what, const std::vector<T>& a, const std::vector<T>& b, const char* left = "cpu",
                 const char* right = nullptr) {
    ++g_checks;
    if (right == nullptr) right = device_name();
    if (a.size() != b.size()) {
        fail_check(what + ": size " + std::to_string(b.size()) + ", expected " + std::to_string(a.size()));
        return false;
    }
    size_t bad = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::memcmp(&a[i], &b[i], sizeof(T)) == 0) continue;
        if (bad < kPrintedMismatches)
            std::printf("    %s[%zu]: %s %.9g %s %.9g\n", what.c_str(), i, left, static_cast<double>(a[i]), right,
                        static_cast<double>(b[i]));
        ++bad;
    }
    if (bad > kPrintedMismatches) std::printf("    %s: ... %zu differences in all\n", what.c_str(), bad);
    if (bad > 0) {
        fail_check(what + ": " + std::to_string(bad) + " of " + std::to_string(a.size()) + " differ in bits (" + left +
                   " vs " + right + ")");
        return false;
    }
    return true;
}

// Two runs of the checked side gave the same bits (determinism).
template <class T>
bool expect_repeatable(const std::string& what, const std::vector<T>& first, const std::vector<T>& second) {
    return expect_bits(what + " (repeat run)", first, second, "run 1", "run 2");
}

// A rejected call left a buffer as it was.
template <class T>
bool expect_untouched(const std::string& what, const std::vector<T>& before, const std::vector<T>& after) {
    return expect_bits(what + " (written on a rejected call)", before, after, "before", "after");
}

// ---- timing --------------------------------------------------------------------------------------

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Median host time of f, after one warm-up call (pool threads, page faults).
inline double time_host_ms(const std::function<void()>& f, int reps) {
    std::vector<double> t;
    f();
    for (int r = 0; r < reps; ++r) {
        const auto a = std::chrono::steady_clock::now();
        f();
        const auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    }
    return median(t);
}

// Writing a buffer the size of the L2 cache before each timed call evicts the previous call's data, so a
// call cannot find its inputs in L2 (llm.c's benchmark_kernel does the same).
inline void flush_l2() {
    static void* buffer = nullptr;
    static size_t bytes = 0;
    if (buffer == nullptr) {
        int dev = 0, l2 = 0;
        CUDA_CHECK(cudaGetDevice(&dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
        bytes = static_cast<size_t>(std::max(l2, 1 << 20));
        CUDA_CHECK(cudaMalloc(&buffer, bytes));
    }
    CUDA_CHECK(cudaMemset(buffer, 0, bytes));
}

// Median time of f on the checked side: CUDA events on the legacy stream around each call, after an L2
// flush, and after two warm-up calls; in --cpu-only mode the host clock. Every API call returns after its
// results are written, so the events bracket the whole call (checks, kernels, synchronisation).
inline double time_device_ms(const std::function<void()>& f, int reps) {
    if (g_mode.cpu_only) return time_host_ms(f, reps);
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    std::vector<double> t;
    f();
    f();
    for (int r = 0; r < reps; ++r) {
        flush_l2();
        CUDA_CHECK(cudaEventRecord(a, nullptr));
        f();
        CUDA_CHECK(cudaEventRecord(b, nullptr));
        CUDA_CHECK(cudaEventSynchronize(b));
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms);
    }
    CUDA_CHECK(cudaEventDestroy(a));
    CUDA_CHECK(cudaEventDestroy(b));
    return median(t);
}

// ---- results -------------------------------------------------------------------------------------

struct Row {
    std::string kernel, impl, shape, metric;
    double value;
    std::string unit;
};

inline std::vector<Row> g_rows;
inline std::string g_gpu_name = "none", g_cpu_name = "cpu", g_date;
inline double g_copy_gbs = 0;  // the device-to-device copy bandwidth, once measured

inline void record(const std::string& kernel, const std::string& impl, const std::string& shape,
                   const std::string& metric, double value, const std::string& unit) {
    g_rows.push_back(Row{kernel, impl, shape, metric, value, unit});
}

// One CSV field, quoted when it holds a comma or a quote.
inline std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

// Appends the rows `kernel,impl,shape,metric,median,unit,machine,date` (header when the file is new); the
// machine is the GPU's name for device rows, the CPU's for host rows.
inline void write_csv(const char* path) {
    FILE* f = std::fopen(path, "a+");
    if (f == nullptr) {
        std::fprintf(stderr, "cannot open %s\n", path);
        std::exit(kExitSetup);
    }
    std::fseek(f, 0, SEEK_END);
    if (std::ftell(f) == 0) std::fprintf(f, "kernel,impl,shape,metric,median,unit,machine,date\n");
    for (const Row& r : g_rows) {
        const std::string& machine = r.impl == "cuda" ? g_gpu_name : g_cpu_name;
        std::fprintf(f, "%s,%s,%s,%s,%.6g,%s,%s,%s\n", csv_field(r.kernel).c_str(), csv_field(r.impl).c_str(),
                     csv_field(r.shape).c_str(), csv_field(r.metric).c_str(), r.value, csv_field(r.unit).c_str(),
                     csv_field(machine).c_str(), g_date.c_str());
    }
    std::fclose(f);
    std::printf("appended %zu rows to %s\n", g_rows.size(), path);
}

// Device-to-device copy bandwidth (read + write bytes per second): the memory ceiling the kernels' GB/s are
// read against. In --cpu-only mode a host memcpy of the same size stands in.
inline double copy_bandwidth_gbs(size_t bytes) {
    DeviceBuffer<unsigned char> a(bytes), b(bytes);
    a.fill_bytes(1);
    const double ms = time_device_ms(
        [&] {
            if (g_mode.cpu_only)
                std::memcpy(b.get(), a.get(), bytes);
            else
                CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, nullptr));
        },
        10);
    const double gbs = 2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9;
    record("memcpy_d2d", device_name(), "bytes=" + std::to_string(bytes), "bandwidth", gbs, "GB/s");
    std::printf("  device-to-device copy of %zu bytes: %.1f GB/s (read + write), the ceiling below\n", bytes, gbs);
    g_copy_gbs = gbs;
    return gbs;
}

// One timing line and its CSV rows: CPU and checked-side medians, the checked side's time per item, its
// bandwidth from the compulsory bytes (and its share of the copy ceiling), the speed-up.
inline void print_timing(const std::string& kernel, const std::string& shape, double cpu_ms, double dev_ms,
                         double bytes, int64_t items, const char* item) {
    const double gbs = bytes / (dev_ms * 1e-3) / 1e9;
    const double per_item_ns = dev_ms * 1e6 / static_cast<double>(std::max<int64_t>(items, 1));
    std::printf("  %-26s %-40s cpu %9.3f ms | %s %8.3f ms (%7.1f ns/%s, %7.1f GB/s", kernel.c_str(), shape.c_str(),
                cpu_ms, device_name(), dev_ms, per_item_ns, item, gbs);
    if (g_copy_gbs > 0) std::printf(", %3.0f%% of copy", 100.0 * gbs / g_copy_gbs);
    std::printf(") | x%.1f\n", cpu_ms / dev_ms);
    record(kernel, "cpu", shape, "time", cpu_ms, "ms");
    record(kernel, device_name(), shape, "time", dev_ms, "ms");
    record(kernel, device_name(), shape, "bandwidth", gbs, "GB/s");
    record(kernel, "cpu", shape, "throughput", static_cast<double>(items) / (cpu_ms * 1e-3), std::string(item) + "/s");
    record(kernel, device_name(), shape, "throughput", static_cast<double>(items) / (dev_ms * 1e-3),
           std::string(item) + "/s");
}

// ---- main ----------------------------------------------------------------------------------------

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const size_t colon = line.find(':');
            if (colon != std::string::npos) return line.substr(colon + 2);
        }
    }
    return "cpu";
}

// Parses the arguments, makes sure a CUDA device is there (unless --cpu-only), runs `checks` then, unless
// --no-timing, `timings`, writes the CSV rows and returns the exit status.
inline int run_main(int argc, char** argv, const char* name, const std::function<void(Rng&)>& checks,
                    const std::function<void(Rng&)>& timings) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a log cut short by a crash still shows the last case
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--cpu-only") {
            g_mode.cpu_only = true;
        } else if (a == "--no-timing") {
            g_mode.timing = false;
        } else if (a == "-h" || a == "--help") {
            std::printf(
                "usage: %s [--cpu-only] [--no-timing] [results.csv]\n"
                "  CUDA against the CPU through the C API; --cpu-only runs the harness with the CPU on both\n"
                "  sides (small timing shapes); results.csv gets the timing rows appended.\n"
                "  exit: 0 ok, 1 mismatch, 2 setup failure, 77 no usable CUDA device\n",
                name);
            return kExitOk;
        } else if (!a.empty() && a[0] != '-' && g_mode.csv == nullptr) {
            g_mode.csv = argv[i];
        } else {
            std::fprintf(stderr, "%s: unknown argument '%s' (--help)\n", name, a.c_str());
            return kExitSetup;
        }
    }
    g_cpu_name = cpu_model() + " (" + std::to_string(spo4j_get_num_threads()) + " threads)";
    {
        char buf[32];
        const std::time_t now = std::time(nullptr);
        std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
        g_date = buf;
    }
    if (g_mode.cpu_only) {
        std::printf("%s --cpu-only: the CPU on both sides (a harness self-test; no CUDA kernel runs); CPU: %s\n", name,
                    g_cpu_name.c_str());
    } else {
        if (!spo4j_built_with_cuda()) {
            std::printf("%s: libspo4j was built without CUDA: no usable CUDA device; nothing checked\n", name);
            return kExitNoDevice;
        }
        int count = 0;
        const cudaError_t e = cudaGetDeviceCount(&count);
        int lib_count = 0;
        spo4j_cuda_device_count(&lib_count);
        if (e != cudaSuccess || count == 0 || lib_count == 0) {
            cudaGetLastError();
            std::printf(
                "%s: no usable CUDA device (%s); nothing checked. --cpu-only runs the harness with the CPU "
                "on both sides.\n",
                name, e != cudaSuccess ? cudaGetErrorString(e) : "no device found");
            return kExitNoDevice;
        }
        cudaDeviceProp prop;
        CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
        g_gpu_name = prop.name;
        std::printf("%s: %s (sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB); CPU: %s\n", name, prop.name, prop.major, prop.minor,
                    prop.multiProcessorCount, static_cast<double>(prop.totalGlobalMem) / (1 << 30),
                    prop.l2CacheSize >> 20, g_cpu_name.c_str());
    }
    Rng rng(kSeed);
    checks(rng);
    if (g_mode.timing) timings(rng);
    std::printf("\n%s: %d checks, %d failures%s\n", name, g_checks, g_failures,
                g_mode.cpu_only ? " (--cpu-only: CPU against CPU)" : "");
    if (g_mode.csv != nullptr && !g_rows.empty()) write_csv(g_mode.csv);
    return g_failures == 0 ? kExitOk : kExitMismatch;
}

}  // namespace check
