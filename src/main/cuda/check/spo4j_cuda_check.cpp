// spo4j_cuda_check: the CUDA kernels against the CPU kernels on the same random inputs (fixed seed), through
// the public C API only, plus timings and the device-to-device copy bandwidth as the memory ceiling.
//
//   spo4j_cuda_check [results.csv]
//
// For each shape and config it runs the CPU path (device 0, host buffers) and the CUDA path (device 1,
// device buffers), compares loss / stats / gradients / logp / entropy within tolerances (printing the first
// mismatches), checks that two CUDA runs are bit-identical, and checks the error paths (same message, outputs
// untouched). The tree backup must match the CPU bit for bit, on random forests in every mode, and reject bad
// forests with the CPU's message. Timings: std::chrono for the CPU, CUDA events for the GPU, medians. With a
// CSV path, rows `kernel,impl,shape,metric,median,unit,machine,date` are appended. Exit status: 0 when
// everything matched (or when there is no CUDA device, which it says), 1 on any mismatch, 2 on a setup failure.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "spo4j_api.h"

namespace {

// ---- plumbing ------------------------------------------------------------------------------------

int g_failures = 0;
int g_checks = 0;

#define CUDA_OK(expr)                                                                                \
    do {                                                                                             \
        const cudaError_t e_ = (expr);                                                               \
        if (e_ != cudaSuccess) {                                                                     \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, cudaGetErrorString(e_)); \
            std::exit(2);                                                                            \
        }                                                                                            \
    } while (0)

void fail_check(const std::string& what) {
    ++g_failures;
    std::printf("  FAIL %s\n", what.c_str());
}

template <class T>
class DeviceArray {
  public:
    DeviceArray() = default;
    explicit DeviceArray(size_t n) { resize(n); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() {
        if (ptr_ != nullptr) cudaFree(ptr_);
    }
    void resize(size_t n) {
        if (ptr_ != nullptr) CUDA_OK(cudaFree(ptr_));
        ptr_ = nullptr;
        n_ = n;
        if (n > 0) CUDA_OK(cudaMalloc(&ptr_, n * sizeof(T)));
    }
    void upload(const std::vector<T>& h) {
        if (h.size() != n_) resize(h.size());
        if (n_ > 0) CUDA_OK(cudaMemcpy(ptr_, h.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
    }
    std::vector<T> download() const {
        std::vector<T> h(n_);
        if (n_ > 0) CUDA_OK(cudaMemcpy(h.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
    T* get() const { return ptr_; }
    size_t size() const { return n_; }

  private:
    T* ptr_ = nullptr;
    size_t n_ = 0;
};

// Null for an empty vector (the API's "absent").
template <class T>
T* host_or_null(std::vector<T>& v) { return v.empty() ? nullptr : v.data(); }
template <class T>
T* dev_or_null(DeviceArray<T>& d, bool present) { return present ? d.get() : nullptr; }

uint16_t to_bf16(float f) {  // round to nearest even, as the library
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}
float from_bf16(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// ---- comparison ----------------------------------------------------------------------------------

const char* const kStatNames[SPO4J_PL_NUM_STATS] = {
    "loss", "pg_loss", "kl_loss", "kept", "clip_frac_low", "clip_frac_high", "dual_clip_frac",
    "mean_ratio", "approx_kl_old", "kl_ref", "adv_mean", "adv_std", "skipped", "entropy_mean"};

bool close(double a, double b, double atol, double rtol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

// Counts elements outside atol + rtol·|cpu| and prints the first few; fails when more than `allowed`
// (a few tokens can legitimately flip a clip or dual-clip decision: CUDA's expf and glibc's differ by an
// ulp or two, which moves a ratio sitting exactly on a clip boundary across it).
void compare_floats(const std::string& what, const std::vector<float>& cpu, const std::vector<float>& gpu,
                    double atol, double rtol, size_t allowed = 0) {
    ++g_checks;
    if (cpu.size() != gpu.size()) {
        fail_check(what + ": size differs");
        return;
    }
    size_t bad = 0;
    for (size_t i = 0; i < cpu.size(); ++i) {
        if (close(gpu[i], cpu[i], atol, rtol)) continue;
        if (bad < 5)
            std::printf("    %s[%zu]: cpu %.9g cuda %.9g (diff %.3g)\n", what.c_str(), i, cpu[i], gpu[i],
                        static_cast<double>(gpu[i]) - cpu[i]);
        ++bad;
    }
    if (bad > allowed) {
        fail_check(what + ": " + std::to_string(bad) + " of " + std::to_string(cpu.size()) + " elements differ");
    } else if (bad > 0) {
        std::printf("    %s: %zu elements outside tolerance (allowed %zu: clip-boundary flips)\n", what.c_str(), bad,
                    allowed);
    }
}

double max_abs(const std::vector<float>& v) {
    double m = 0;
    for (float x : v) m = std::max(m, static_cast<double>(std::fabs(x)));
    return m;
}

void compare_stats(const std::string& what, const double* cpu, const double* gpu, int64_t kept) {
    ++g_checks;
    int bad = 0;
    // fractions may move by a few tokens' clip flips
    const double frac_atol = kept > 0 ? 4.0 / static_cast<double>(kept) + 1e-6 : 1e-6;
    for (int i = 0; i < SPO4J_PL_NUM_STATS; ++i) {
        bool ok;
        if (i == SPO4J_PL_KEPT || i == SPO4J_PL_SKIPPED) ok = cpu[i] == gpu[i];
        else if (i >= SPO4J_PL_CLIP_FRAC_LOW && i <= SPO4J_PL_DUAL_CLIP_FRAC) ok = close(gpu[i], cpu[i], frac_atol, 0);
        else ok = close(gpu[i], cpu[i], 1e-5, 1e-4);
        if (!ok) {
            std::printf("    stats[%s]: cpu %.12g cuda %.12g\n", kStatNames[i], cpu[i], gpu[i]);
            ++bad;
        }
    }
    if (bad > 0) fail_check(what + ": stats differ");
}

template <class T>
void expect_identical(const std::string& what, const std::vector<T>& a, const std::vector<T>& b) {
    ++g_checks;
    if (a.size() != b.size() || (!a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) != 0))
        fail_check(what + ": two CUDA runs differ (not deterministic)");
}

// ---- timing and results --------------------------------------------------------------------------

struct Row {
    std::string kernel, impl, shape, metric;
    double median;
    std::string unit;
};
std::vector<Row> g_rows;
std::string g_gpu_name, g_cpu_name, g_date;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double time_cpu_ms(const std::function<void()>& f, int reps) {
    std::vector<double> t;
    f();  // warm-up (pool threads, page faults)
    for (int r = 0; r < reps; ++r) {
        const auto a = std::chrono::steady_clock::now();
        f();
        const auto b = std::chrono::steady_clock::now();
        t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    }
    return median(t);
}

// Each call of f synchronises (the API returns after the stats are on the host); events bracket it.
double time_cuda_ms(const std::function<void()>& f, int reps) {
    cudaEvent_t a, b;
    CUDA_OK(cudaEventCreate(&a));
    CUDA_OK(cudaEventCreate(&b));
    std::vector<double> t;
    f();
    f();
    for (int r = 0; r < reps; ++r) {
        CUDA_OK(cudaEventRecord(a, nullptr));
        f();
        CUDA_OK(cudaEventRecord(b, nullptr));
        CUDA_OK(cudaEventSynchronize(b));
        float ms = 0;
        CUDA_OK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(ms);
    }
    CUDA_OK(cudaEventDestroy(a));
    CUDA_OK(cudaEventDestroy(b));
    return median(t);
}

void record(const std::string& kernel, const std::string& impl, const std::string& shape, const std::string& metric,
            double value, const std::string& unit) {
    g_rows.push_back(Row{kernel, impl, shape, metric, value, unit});
}

void write_csv(const char* path) {
    FILE* f = std::fopen(path, "a+");
    if (f == nullptr) {
        std::fprintf(stderr, "cannot open %s\n", path);
        return;
    }
    std::fseek(f, 0, SEEK_END);
    if (std::ftell(f) == 0) std::fprintf(f, "kernel,impl,shape,metric,median,unit,machine,date\n");
    for (const Row& r : g_rows) {
        const std::string& machine = r.impl == "cpu" ? g_cpu_name : g_gpu_name;
        std::fprintf(f, "%s,%s,%s,%s,%.6g,%s,%s,%s\n", r.kernel.c_str(), r.impl.c_str(), r.shape.c_str(),
                     r.metric.c_str(), r.median, r.unit.c_str(), machine.c_str(), g_date.c_str());
    }
    std::fclose(f);
    std::printf("appended %zu rows to %s\n", g_rows.size(), path);
}

// ---- inputs --------------------------------------------------------------------------------------

enum OffsetsMode { OFFS_NULL = 0, OFFS_RAGGED = 1, OFFS_SHORT = 2 };
const char* const kOffsNames[] = {"offs=null", "offs=ragged", "offs=short"};

// seqOffsets for n tokens: ragged lengths with empty and length-1 sequences, or mostly 1-token sequences.
std::vector<int32_t> make_offsets(int64_t n, int mode, std::mt19937_64& rng) {
    if (mode == OFFS_NULL) return {};
    std::vector<int32_t> offs{0};
    if (n == 0) return {0, 0, 0};
    const int64_t avg = mode == OFFS_SHORT ? 2 : std::max<int64_t>(2, std::min<int64_t>(n / 8, 700));
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<int64_t> len(1, 2 * avg);
    int64_t at = 0;
    while (at < n) {
        const double x = u(rng);
        int64_t l = x < 0.1 ? 0 : x < 0.2 ? 1 : len(rng);
        l = std::min(l, n - at);
        at += l;
        offs.push_back(static_cast<int32_t>(at));
    }
    if (u(rng) < 0.5) offs.push_back(static_cast<int32_t>(n));  // a trailing empty sequence
    return offs;
}

struct TokenData {
    int64_t n = 0;
    int32_t b = 1;
    std::vector<int32_t> offs;  // empty: null
    std::vector<float> logp, old_logp, ref_logp, adv;
    std::vector<uint8_t> valid;  // empty: null
};

// valid_mode: 0 = null, 1 = random 90 %, 2 = none valid (fully masked)
TokenData make_tokens(int64_t n, int offs_mode, int valid_mode, std::mt19937_64& rng) {
    TokenData d;
    d.n = n;
    d.offs = make_offsets(n, offs_mode, rng);
    d.b = d.offs.empty() ? 1 : static_cast<int32_t>(d.offs.size() - 1);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    d.logp.resize(n);
    d.old_logp.resize(n);
    d.ref_logp.resize(n);
    d.adv.resize(n);
    for (int64_t t = 0; t < n; ++t) {
        d.logp[t] = -5.0f * u(rng) * u(rng);
        d.old_logp[t] = std::min(0.0f, d.logp[t] + 0.15f * g(rng));
        d.ref_logp[t] = d.logp[t] + 0.3f * g(rng);
        d.adv[t] = 0.5f + g(rng);
    }
    if (valid_mode == 1) {
        d.valid.resize(n);
        for (int64_t t = 0; t < n; ++t) d.valid[t] = u(rng) < 0.9f ? 1 : 0;
    } else if (valid_mode == 2) {
        d.valid.assign(n, 0);
    }
    return d;
}

struct NamedConfig {
    const char* name;
    spo4j_policy_loss_config c;
    bool use_ref;
};

spo4j_policy_loss_config spo_config() {
    spo4j_policy_loss_config c{};
    c.eps_low = 0.2f;
    c.eps_high = 0.2f;
    c.dual_clip_c = 0.0f;
    c.rho = 0.9f;
    c.log_ratio_clamp = 10.0f;
    c.whiten = 1;
    c.whiten_eps = 1e-8f;
    c.beta = 1e-4f;
    c.kl_estimator = SPO4J_KL_K3;
    c.kl_clamp = 10.0f;
    c.pg_agg = SPO4J_AGG_TOKEN_MEAN;
    c.kl_agg = SPO4J_AGG_SEQ_MEAN_TOKEN_SUM;
    c.pg_norm = 1.0f;
    c.kl_norm = 1.0f;
    c.max_mean_ratio = 10.0f;
    return c;
}

std::vector<NamedConfig> configs() {
    std::vector<NamedConfig> v;
    v.push_back({"spo(k3,tok-mean/seq-sum,rho.9,whiten)", spo_config(), true});
    spo4j_policy_loss_config c = spo_config();
    c.whiten = 0;
    c.dual_clip_c = 3.0f;
    c.kl_estimator = SPO4J_KL_K1;
    c.pg_agg = SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.kl_agg = SPO4J_AGG_TOKEN_MEAN;
    c.rho = 1.0f;
    c.beta = 0.05f;
    v.push_back({"k1,dual3,seq-mean-tok-mean/tok-mean,rho1,nowhiten", c, true});
    c = spo_config();
    c.eps_high = 0.28f;
    c.kl_estimator = SPO4J_KL_K2;
    c.pg_agg = SPO4J_AGG_CONSTANT_NORM;
    c.pg_norm = 512.0f;
    c.kl_agg = SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.beta = 0.1f;
    c.kl_clamp = 0.5f;
    c.log_ratio_clamp = 0.3f;
    v.push_back({"k2,clip-higher,const-norm/seq-mean-tok-mean,clamps", c, true});
    c = spo_config();
    c.max_mean_ratio = 0.5f;  // mean ratio ~1: skipped
    c.kl_agg = SPO4J_AGG_CONSTANT_NORM;
    c.kl_norm = 100.0f;
    v.push_back({"skip(max_mean_ratio=.5)", c, true});
    c = spo_config();
    c.beta = 0.0f;
    c.pg_agg = SPO4J_AGG_SEQ_MEAN_TOKEN_SUM;
    c.kl_agg = SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN;
    c.dual_clip_c = 2.0f;
    v.push_back({"noref,seq-sum,dual2", c, false});
    return v;
}

// ---- per-token entry -----------------------------------------------------------------------------

struct TokenRun {
    int status = 0;
    std::string error;
    double stats[SPO4J_PL_NUM_STATS] = {};
    std::vector<float> grad;
};

TokenRun run_tokens_cpu(TokenData& d, const NamedConfig& cfg, bool with_grad) {
    TokenRun r;
    if (with_grad) r.grad.assign(d.n, -7.0f);
    r.status = spo4j_policy_loss_tokens(SPO4J_DEVICE_CPU, d.n, d.b, host_or_null(d.offs), d.logp.data(),
                                        d.old_logp.data(), cfg.use_ref ? d.ref_logp.data() : nullptr, d.adv.data(),
                                        host_or_null(d.valid), &cfg.c, with_grad ? host_or_null(r.grad) : nullptr,
                                        r.stats, nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    return r;
}

struct TokenDevice {
    DeviceArray<int32_t> offs;
    DeviceArray<float> logp, old_logp, ref_logp, adv, grad;
    DeviceArray<uint8_t> valid;
    explicit TokenDevice(const TokenData& d) {
        offs.upload(d.offs);
        logp.upload(d.logp);
        old_logp.upload(d.old_logp);
        ref_logp.upload(d.ref_logp);
        adv.upload(d.adv);
        valid.upload(d.valid);
        grad.resize(d.n);
    }
};

TokenRun run_tokens_cuda(const TokenData& d, TokenDevice& dev, const NamedConfig& cfg, bool with_grad,
                         cudaStream_t stream = nullptr) {
    TokenRun r;
    if (with_grad && d.n > 0) dev.grad.upload(std::vector<float>(d.n, -7.0f));
    r.status = spo4j_policy_loss_tokens(SPO4J_DEVICE_CUDA, d.n, d.b, dev_or_null(dev.offs, !d.offs.empty()),
                                        dev.logp.get(), dev.old_logp.get(), cfg.use_ref ? dev.ref_logp.get() : nullptr,
                                        dev.adv.get(), dev_or_null(dev.valid, !d.valid.empty()), &cfg.c,
                                        with_grad ? dev.grad.get() : nullptr, r.stats, stream);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    if (with_grad) r.grad = dev.grad.download();
    return r;
}

void check_tokens_case(TokenData& d, const NamedConfig& cfg, const std::string& label) {
    const TokenRun cpu = run_tokens_cpu(d, cfg, true);
    TokenDevice dev(d);
    const TokenRun gpu = run_tokens_cuda(d, dev, cfg, true);
    ++g_checks;
    if (cpu.status != SPO4J_OK || gpu.status != SPO4J_OK) {
        fail_check(label + ": status cpu " + std::to_string(cpu.status) + " (" + cpu.error + ") cuda " +
                   std::to_string(gpu.status) + " (" + gpu.error + ")");
        return;
    }
    compare_stats(label, cpu.stats, gpu.stats, static_cast<int64_t>(cpu.stats[SPO4J_PL_KEPT]));
    const size_t allowed = static_cast<size_t>(d.n / 100000);
    compare_floats(label + " grad_logp", cpu.grad, gpu.grad, 1e-5 * max_abs(cpu.grad) + 1e-30, 1e-4, allowed);
    // Determinism: a second run, on a non-default stream, and without the gradient, gives the same bits.
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    const TokenRun again = run_tokens_cuda(d, dev, cfg, true, s);
    const TokenRun no_grad = run_tokens_cuda(d, dev, cfg, false, s);
    CUDA_OK(cudaStreamDestroy(s));
    expect_identical(label + " grad_logp", gpu.grad, again.grad);
    expect_identical(label + " stats", std::vector<double>(gpu.stats, gpu.stats + SPO4J_PL_NUM_STATS),
                     std::vector<double>(again.stats, again.stats + SPO4J_PL_NUM_STATS));
    expect_identical(label + " stats without grad", std::vector<double>(gpu.stats, gpu.stats + SPO4J_PL_NUM_STATS),
                     std::vector<double>(no_grad.stats, no_grad.stats + SPO4J_PL_NUM_STATS));
}

// ---- logits entry --------------------------------------------------------------------------------

struct LogitsData {
    int64_t n = 0, v = 1;
    int dtype = SPO4J_DTYPE_F32, tdtype = SPO4J_DTYPE_I32;
    float temperature = 1.0f;
    std::vector<float> logits32;
    std::vector<uint16_t> logits16;
    std::vector<int32_t> t32;
    std::vector<int64_t> t64;
    TokenData tok;  // offsets, old/ref logp, advantages, valid (tok.logp unused)
    const void* host_logits() const {
        return dtype == SPO4J_DTYPE_BF16 ? static_cast<const void*>(logits16.data()) : logits32.data();
    }
    const void* host_targets() const {
        return tdtype == SPO4J_DTYPE_I64 ? static_cast<const void*>(t64.data()) : t32.data();
    }
    size_t elem() const { return dtype == SPO4J_DTYPE_BF16 ? 2 : 4; }
};

LogitsData make_logits(int64_t n, int64_t v, int dtype, int tdtype, float temperature, int offs_mode, int valid_mode,
                       std::mt19937_64& rng) {
    LogitsData d;
    d.n = n;
    d.v = v;
    d.dtype = dtype;
    d.tdtype = tdtype;
    d.temperature = temperature;
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_int_distribution<int64_t> tv(0, v - 1);
    const size_t count = static_cast<size_t>(n * v);
    if (dtype == SPO4J_DTYPE_BF16) d.logits16.resize(count);
    else d.logits32.resize(count);
    d.t32.resize(n);
    d.t64.resize(n);
    uint64_t state = rng();
    auto next_u = [&state]() {  // splitmix64 -> [0, 1): fast enough for a few GB of logits
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return static_cast<float>((z ^ (z >> 31)) >> 40) * (1.0f / 16777216.0f);
    };
    for (int64_t i = 0; i < n; ++i) {
        const float scale = (i % 7 == 0) ? 8.0f : 2.0f;  // some peaky rows
        int64_t arg = 0;
        float best = -INFINITY;
        for (int64_t j = 0; j < v; ++j) {
            const float x = scale * 1.7f * (next_u() + next_u() + next_u() - 1.5f);  // about normal
            const size_t k = static_cast<size_t>(i * v + j);
            if (dtype == SPO4J_DTYPE_BF16) d.logits16[k] = to_bf16(x);
            else d.logits32[k] = x;
            if (x > best) best = x, arg = j;
        }
        // every other target is the row's top logit, as a trained policy would mostly pick
        const int64_t t = i % 2 == 0 ? arg : tv(rng);
        d.t64[i] = t;
        d.t32[i] = static_cast<int32_t>(t);
    }
    d.tok = make_tokens(n, offs_mode, valid_mode, rng);
    // old / ref logp near the true logp so that ratios are realistic
    std::vector<float> lp(n);
    if (n > 0 && spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, n, v, d.host_logits(), dtype, d.host_targets(), tdtype,
                                      temperature, lp.data(), nullptr, nullptr) != SPO4J_OK) {
        std::fprintf(stderr, "token_logprobs (cpu) failed: %s\n", spo4j_last_error());
        std::exit(2);
    }
    for (int64_t i = 0; i < n; ++i) {
        d.tok.old_logp[i] = lp[i] + 0.15f * g(rng);
        d.tok.ref_logp[i] = lp[i] + 0.3f * g(rng);
    }
    return d;
}

struct LogitsOptions {
    bool grad = true, in_place = false, entropy = true, logp_out = true;
};

struct LogitsRun {
    int status = 0;
    std::string error;
    double stats[SPO4J_PL_NUM_STATS] = {};
    std::vector<float> grad, logp, entropy;  // grad as float (bf16 widened)
    std::vector<unsigned char> grad_raw;
};

std::vector<float> widen(const std::vector<unsigned char>& raw, int dtype) {
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

LogitsRun run_logits_cpu(LogitsData& d, const NamedConfig& cfg, const LogitsOptions& o) {
    LogitsRun r;
    const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
    std::vector<unsigned char> buf;
    if (o.grad) {
        buf.resize(bytes);
        if (o.in_place && bytes > 0) std::memcpy(buf.data(), d.host_logits(), bytes);
        else std::fill(buf.begin(), buf.end(), 0x5A);
    }
    if (o.logp_out) r.logp.assign(d.n, -7.0f);
    if (o.entropy) r.entropy.assign(d.n, -7.0f);
    const void* logits = o.in_place && o.grad ? static_cast<const void*>(buf.data()) : d.host_logits();
    r.status = spo4j_policy_loss_logits(
        SPO4J_DEVICE_CPU, d.n, d.v, d.tok.b, host_or_null(d.tok.offs), logits, d.dtype, d.host_targets(), d.tdtype,
        d.temperature, d.tok.old_logp.data(), cfg.use_ref ? d.tok.ref_logp.data() : nullptr, d.tok.adv.data(),
        host_or_null(d.tok.valid), &cfg.c, o.grad ? buf.data() : nullptr, host_or_null(r.logp),
        host_or_null(r.entropy), r.stats, nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    r.grad_raw = std::move(buf);
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

struct LogitsDevice {
    DeviceArray<unsigned char> logits, grad;
    DeviceArray<unsigned char> targets;
    DeviceArray<float> logp, entropy;
    TokenDevice tok;
    explicit LogitsDevice(const LogitsData& d) : tok(d.tok) {
        const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
        std::vector<unsigned char> h(bytes);
        if (bytes > 0) std::memcpy(h.data(), d.host_logits(), bytes);
        logits.upload(h);
        grad.resize(bytes);
        const size_t tb = static_cast<size_t>(d.n) * (d.tdtype == SPO4J_DTYPE_I64 ? 8 : 4);
        std::vector<unsigned char> t(tb);
        if (tb > 0) std::memcpy(t.data(), d.host_targets(), tb);
        targets.upload(t);
        logp.resize(d.n);
        entropy.resize(d.n);
    }
    void restore_logits(const LogitsData& d) {
        const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
        if (bytes > 0) CUDA_OK(cudaMemcpy(logits.get(), d.host_logits(), bytes, cudaMemcpyHostToDevice));
    }
};

LogitsRun run_logits_cuda(const LogitsData& d, LogitsDevice& dev, const NamedConfig& cfg, const LogitsOptions& o,
                          bool download = true) {
    LogitsRun r;
    const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
    void* grad = nullptr;
    if (download && d.n > 0) {  // sentinels, to see what is written
        dev.logp.upload(std::vector<float>(d.n, -7.0f));
        dev.entropy.upload(std::vector<float>(d.n, -7.0f));
    }
    if (o.grad) {
        if (o.in_place) {
            dev.restore_logits(d);
            grad = dev.logits.get();
        } else {
            if (bytes > 0 && download) CUDA_OK(cudaMemset(dev.grad.get(), 0x5A, bytes));
            grad = dev.grad.get();
        }
    }
    r.status = spo4j_policy_loss_logits(
        SPO4J_DEVICE_CUDA, d.n, d.v, d.tok.b, dev_or_null(dev.tok.offs, !d.tok.offs.empty()), dev.logits.get(),
        d.dtype, dev.targets.get(), d.tdtype, d.temperature, dev.tok.old_logp.get(),
        cfg.use_ref ? dev.tok.ref_logp.get() : nullptr, dev.tok.adv.get(),
        dev_or_null(dev.tok.valid, !d.tok.valid.empty()), &cfg.c, grad, o.logp_out ? dev.logp.get() : nullptr,
        o.entropy ? dev.entropy.get() : nullptr, r.stats, nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    if (!download) return r;
    if (o.grad) {
        r.grad_raw = o.in_place ? dev.logits.download() : dev.grad.download();
        r.grad = widen(r.grad_raw, d.dtype);
    }
    if (o.logp_out) r.logp = dev.logp.download();
    if (o.entropy) r.entropy = dev.entropy.download();
    return r;
}

void check_logits_case(LogitsData& d, const NamedConfig& cfg, const LogitsOptions& o, const std::string& label) {
    const LogitsRun cpu = run_logits_cpu(d, cfg, o);
    LogitsDevice dev(d);
    const LogitsRun gpu = run_logits_cuda(d, dev, cfg, o);
    ++g_checks;
    if (cpu.status != SPO4J_OK || gpu.status != SPO4J_OK) {
        fail_check(label + ": status cpu " + std::to_string(cpu.status) + " (" + cpu.error + ") cuda " +
                   std::to_string(gpu.status) + " (" + gpu.error + ")");
        return;
    }
    compare_stats(label, cpu.stats, gpu.stats, static_cast<int64_t>(cpu.stats[SPO4J_PL_KEPT]));
    if (o.logp_out) compare_floats(label + " logp", cpu.logp, gpu.logp, 5e-5, 1e-5);
    if (o.entropy) compare_floats(label + " entropy", cpu.entropy, gpu.entropy, 5e-5, 1e-4);
    if (o.grad) {
        const bool bf16 = d.dtype == SPO4J_DTYPE_BF16;
        const double scale = max_abs(cpu.grad) + 1e-30;
        // bf16: one rounding step (2^-8 relative) apart at most; fp32: exp and log-sum-exp rounding.
        compare_floats(label + " grad_logits", cpu.grad, gpu.grad, (bf16 ? 1e-3 : 1e-5) * scale, bf16 ? 1e-2 : 2e-4,
                       static_cast<size_t>(d.v) * static_cast<size_t>(d.n / 100000));
    }
    const LogitsRun again = run_logits_cuda(d, dev, cfg, o);
    expect_identical(label + " grad_logits", gpu.grad_raw, again.grad_raw);
    expect_identical(label + " logp", gpu.logp, again.logp);
    expect_identical(label + " entropy", gpu.entropy, again.entropy);
    expect_identical(label + " stats", std::vector<double>(gpu.stats, gpu.stats + SPO4J_PL_NUM_STATS),
                     std::vector<double>(again.stats, again.stats + SPO4J_PL_NUM_STATS));
}

void check_token_logprobs(const LogitsData& d, bool entropy, const std::string& label) {
    std::vector<float> lp_cpu(d.n, -7.0f), en_cpu(entropy ? d.n : 0, -7.0f);
    int s1 = spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype, d.host_targets(), d.tdtype,
                                  d.temperature, lp_cpu.data(), host_or_null(en_cpu), nullptr);
    LogitsDevice dev(d);
    int s2 = spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CUDA, d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(), d.tdtype,
                                  d.temperature, dev.logp.get(), entropy ? dev.entropy.get() : nullptr, nullptr);
    ++g_checks;
    if (s1 != SPO4J_OK || s2 != SPO4J_OK) {
        fail_check(label + ": status " + std::to_string(s1) + " / " + std::to_string(s2) + ": " + spo4j_last_error());
        return;
    }
    compare_floats(label + " logp", lp_cpu, dev.logp.download(), 5e-5, 1e-5);
    if (entropy) compare_floats(label + " entropy", en_cpu, dev.entropy.download(), 5e-5, 1e-4);
}

// ---- token_logprobs_backward ---------------------------------------------------------------------

// gradLogp for n tokens: about normal, with about a fifth exact zeros (rows that must come back zero).
std::vector<float> make_grad_logp(int64_t n, std::mt19937_64& rng) {
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> glp(n);
    for (int64_t i = 0; i < n; ++i) glp[i] = u(rng) < 0.2f ? 0.0f : g(rng) / static_cast<float>(std::max<int64_t>(n, 1));
    return glp;
}

struct BackwardRun {
    int status = 0;
    std::string error;
    std::vector<unsigned char> grad_raw;
    std::vector<float> grad;
};

// Out of place: the gradient buffer starts as 0x5A bytes; in place: as a copy of the logits.
BackwardRun run_backward_cpu(const LogitsData& d, const std::vector<float>& glp, bool in_place) {
    BackwardRun r;
    const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
    r.grad_raw.resize(bytes);
    if (in_place && bytes > 0) std::memcpy(r.grad_raw.data(), d.host_logits(), bytes);
    else std::fill(r.grad_raw.begin(), r.grad_raw.end(), 0x5A);
    const void* logits = in_place ? static_cast<const void*>(r.grad_raw.data()) : d.host_logits();
    r.status = spo4j_policy_loss_token_logprobs_backward(SPO4J_DEVICE_CPU, d.n, d.v, logits, d.dtype, d.host_targets(), d.tdtype,
                                             d.temperature, glp.data(), r.grad_raw.data(), nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

BackwardRun run_backward_cuda(const LogitsData& d, LogitsDevice& dev, const DeviceArray<float>& glp, bool in_place) {
    BackwardRun r;
    const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
    void* grad = nullptr;
    if (in_place) {
        dev.restore_logits(d);
        grad = dev.logits.get();
    } else {
        if (bytes > 0) CUDA_OK(cudaMemset(dev.grad.get(), 0x5A, bytes));
        grad = dev.grad.get();
    }
    r.status = spo4j_policy_loss_token_logprobs_backward(SPO4J_DEVICE_CUDA, d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(),
                                             d.tdtype, d.temperature, glp.get(), grad, nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    r.grad_raw = in_place ? dev.logits.download() : dev.grad.download();
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

void check_token_logprobs_backward(const LogitsData& d, std::mt19937_64& rng, const std::string& label) {
    const std::vector<float> glp = make_grad_logp(d.n, rng);
    LogitsDevice dev(d);
    DeviceArray<float> dglp;
    dglp.upload(glp);
    const BackwardRun cpu = run_backward_cpu(d, glp, false);
    const BackwardRun cpu_in_place = run_backward_cpu(d, glp, true);
    ++g_checks;
    if (cpu.status != SPO4J_OK || cpu_in_place.status != SPO4J_OK) {
        fail_check(label + ": cpu status " + std::to_string(cpu.status) + " (" + cpu.error + ")");
        return;
    }
    ++g_checks;
    if (cpu.grad_raw != cpu_in_place.grad_raw) fail_check(label + ": cpu in place differs from out of place");
    const bool bf16 = d.dtype == SPO4J_DTYPE_BF16;
    // Entries are coef·(onehot − p) with coef = gradLogp / T, and the fp32 error of p is absolute (z − lse is
    // rounded at the size of z; CUDA's ex2.approx and the CPU's polynomial differ by an ulp or two), so the
    // absolute tolerance scales with the largest coef, not with the largest entry (V = 1: all entries are
    // rounding noise of about 1e-7·coef, different on the two sides).
    const double scale = max_abs(glp) / d.temperature + 1e-30;
    for (bool in_place : {false, true}) {
        const std::string what = label + (in_place ? " in place" : " out of place");
        const BackwardRun gpu = run_backward_cuda(d, dev, dglp, in_place);
        ++g_checks;
        if (gpu.status != SPO4J_OK) {
            fail_check(what + ": cuda status " + std::to_string(gpu.status) + " (" + gpu.error + ")");
            continue;
        }
        // As the logits entry's gradient: bf16 one rounding step apart at most; fp32 exp and lse rounding.
        compare_floats(what + " grad_logits", cpu.grad, gpu.grad, (bf16 ? 1e-3 : 1e-5) * scale, bf16 ? 1e-2 : 2e-4);
        // Rows with gradLogp 0 are exact zeros on both sides.
        ++g_checks;
        size_t nonzero = 0;
        for (int64_t i = 0; i < d.n; ++i)
            if (glp[i] == 0.0f)
                for (int64_t j = 0; j < d.v; ++j) nonzero += gpu.grad[static_cast<size_t>(i * d.v + j)] != 0.0f;
        if (nonzero > 0) fail_check(what + ": " + std::to_string(nonzero) + " nonzero entries in gradLogp-0 rows");
        const BackwardRun again = run_backward_cuda(d, dev, dglp, in_place);
        expect_identical(what + " grad_logits", gpu.grad_raw, again.grad_raw);
    }
}

// ---- error paths ---------------------------------------------------------------------------------

void expect_same_error(const std::string& label, int cpu_status, const std::string& cpu_msg, int gpu_status,
                       const std::string& gpu_msg) {
    ++g_checks;
    if (cpu_status == SPO4J_OK || cpu_status != gpu_status || cpu_msg != gpu_msg)
        fail_check(label + ": cpu " + std::to_string(cpu_status) + " '" + cpu_msg + "' vs cuda " +
                   std::to_string(gpu_status) + " '" + gpu_msg + "'");
    else
        std::printf("  ok  %s: '%s'\n", label.c_str(), gpu_msg.c_str());
}

void check_error_paths(std::mt19937_64& rng) {
    std::printf("error paths\n");
    const NamedConfig cfg = configs()[0];
    {
        TokenData d = make_tokens(999, OFFS_RAGGED, 1, rng);
        d.valid[5] = 1;
        d.valid[3] = 1;
        d.valid[7] = 0;
        d.old_logp[5] = NAN;
        d.adv[7] = INFINITY;  // not valid: not read
        d.ref_logp[3] = -INFINITY;
        d.logp[900] = NAN;
        const TokenRun cpu = run_tokens_cpu(d, cfg, true);
        TokenDevice dev(d);
        const TokenRun gpu = run_tokens_cuda(d, dev, cfg, true);
        expect_same_error("tokens: non-finite inputs", cpu.status, cpu.error, gpu.status, gpu.error);
        ++g_checks;
        if (std::any_of(gpu.grad.begin(), gpu.grad.end(), [](float g) { return g != -7.0f; }))
            fail_check("tokens: grad_logp written on a rejected call");
    }
    {
        TokenData d = make_tokens(500, OFFS_RAGGED, 0, rng);
        const std::vector<int32_t> good = d.offs;
        const int32_t b = d.b;
        for (int which = 0; which < 3; ++which) {
            d.offs = good;
            if (which == 0) d.offs[0] = 1;
            if (which == 1) d.offs[b / 2] = d.offs[b / 2 + 1] + 1;
            if (which == 2) d.offs[b] = static_cast<int32_t>(d.n - 1);
            const TokenRun cpu = run_tokens_cpu(d, cfg, true);
            TokenDevice dev(d);
            const TokenRun gpu = run_tokens_cuda(d, dev, cfg, true);
            expect_same_error("tokens: bad seqOffsets #" + std::to_string(which), cpu.status, cpu.error, gpu.status,
                              gpu.error);
        }
    }
    for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
        LogitsData d = make_logits(40, 5000, dtype, SPO4J_DTYPE_I64, 1.0f, OFFS_RAGGED, 0, rng);
        d.t64[20] = 5000;  // target out of range
        if (dtype == SPO4J_DTYPE_BF16) d.logits16[static_cast<size_t>(31 * d.v + 17)] = to_bf16(NAN);
        else d.logits32[static_cast<size_t>(31 * d.v + 17)] = -INFINITY;
        if (dtype == SPO4J_DTYPE_F32) d.logits32[static_cast<size_t>(33 * d.v + 1)] = NAN;  // a later bad row
        d.tok.old_logp[2] = NAN;  // reported after the row errors
        LogitsOptions o;
        o.in_place = true;
        const LogitsRun cpu = run_logits_cpu(d, cfg, o);
        LogitsDevice dev(d);
        const LogitsRun gpu = run_logits_cuda(d, dev, cfg, o);
        expect_same_error(std::string("logits: bad target + bad logit ") + (dtype ? "bf16" : "f32"), cpu.status,
                          cpu.error, gpu.status, gpu.error);
        ++g_checks;
        const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
        if (gpu.grad_raw.size() != bytes || std::memcmp(gpu.grad_raw.data(), d.host_logits(), bytes) != 0)
            fail_check("logits: in-place logits modified on a rejected call");
        // Stronger than the CPU (whose row pass writes logp_out before its checks end): CUDA leaves them alone.
        ++g_checks;
        if (std::any_of(gpu.logp.begin(), gpu.logp.end(), [](float x) { return x != -7.0f; }) ||
            std::any_of(gpu.entropy.begin(), gpu.entropy.end(), [](float x) { return x != -7.0f; }))
            fail_check("logits: logpOut / entropyOut written on a rejected call");
        // old_logp NaN alone (rows fine)
        d.t64[20] = 3;
        if (dtype == SPO4J_DTYPE_BF16) {
            d.logits16[static_cast<size_t>(31 * d.v + 17)] = to_bf16(1.0f);
        } else {
            d.logits32[static_cast<size_t>(31 * d.v + 17)] = 1.0f;
            d.logits32[static_cast<size_t>(33 * d.v + 1)] = 1.0f;
        }
        const LogitsRun cpu2 = run_logits_cpu(d, cfg, o);
        LogitsDevice dev2(d);
        const LogitsRun gpu2 = run_logits_cuda(d, dev2, cfg, o);
        expect_same_error(std::string("logits: non-finite oldLogp ") + (dtype ? "bf16" : "f32"), cpu2.status,
                          cpu2.error, gpu2.status, gpu2.error);
    }
    {
        LogitsData d = make_logits(10, 111, SPO4J_DTYPE_F32, SPO4J_DTYPE_I32, 1.0f, OFFS_NULL, 0, rng);
        d.t32[6] = -1;
        d.logits32[8 * 111 + 3] = INFINITY;
        std::vector<float> lp(d.n, -7.0f);
        const int s1 = spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype, d.host_targets(),
                                            d.tdtype, d.temperature, lp.data(), nullptr, nullptr);
        const std::string m1 = spo4j_last_error();
        LogitsDevice dev(d);
        dev.logp.upload(std::vector<float>(d.n, -7.0f));
        const int s2 = spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CUDA, d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(),
                                            d.tdtype, d.temperature, dev.logp.get(), nullptr, nullptr);
        const std::string m2 = spo4j_last_error();
        expect_same_error("token_logprobs: bad target", s1, m1, s2, m2);
        const std::vector<float> after = dev.logp.download();
        ++g_checks;
        if (std::any_of(after.begin(), after.end(), [](float x) { return x != -7.0f; }))
            fail_check("token_logprobs: logpOut written on a rejected call");
    }
    for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
        const std::string dt = dtype == SPO4J_DTYPE_BF16 ? " bf16" : " f32";
        LogitsData d = make_logits(40, 5000, dtype, SPO4J_DTYPE_I32, 0.7f, OFFS_NULL, 0, rng);
        std::vector<float> glp = make_grad_logp(d.n, rng);
        for (float& g : glp) g = g == 0.0f ? 0.5f : g;
        d.t32[20] = -3;  // target out of range
        const size_t bad_logit = static_cast<size_t>(31 * d.v + 17);
        if (dtype == SPO4J_DTYPE_BF16) d.logits16[bad_logit] = to_bf16(NAN);
        else d.logits32[bad_logit] = INFINITY;
        glp[33] = NAN;  // reported before the rows
        const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
        // Each case: a name, the start of the message both sides must give, the gradLogp it runs with.
        struct Case {
            const char* name;
            const char* message;
            std::vector<float> glp;
        };
        std::vector<Case> cases;
        cases.push_back({"non-finite gradLogp", "gradLogp[33] is not finite", glp});
        glp[33] = 1.0f;
        cases.push_back({"bad target + bad logit", "targets[20] = -3", glp});
        glp[20] = 0.0f;  // the bad target's row is not read
        cases.push_back({"bad logit", "logits row 31", glp});
        for (const Case& c : cases) {
            LogitsDevice dev(d);
            DeviceArray<float> dglp;
            dglp.upload(c.glp);
            for (bool in_place : {false, true}) {
                const std::string what = std::string("token_logprobs_backward: ") + c.name + dt +
                                         (in_place ? " in place" : " out of place");
                const BackwardRun cpu = run_backward_cpu(d, c.glp, in_place);
                const BackwardRun gpu = run_backward_cuda(d, dev, dglp, in_place);
                expect_same_error(what, cpu.status, cpu.error, gpu.status, gpu.error);
                ++g_checks;
                if (gpu.error.rfind(c.message, 0) != 0) fail_check(what + ": expected '" + c.message + "...'");
                ++g_checks;
                const bool untouched =
                    in_place ? gpu.grad_raw.size() == bytes && std::memcmp(gpu.grad_raw.data(), d.host_logits(), bytes) == 0
                             : std::all_of(gpu.grad_raw.begin(), gpu.grad_raw.end(), [](unsigned char x) { return x == 0x5A; });
                if (!untouched) fail_check(what + ": grad_logits written on a rejected call");
            }
        }
        // With the bad logit's row at gradLogp 0 too, nothing bad is read: accepted, the two rows zero.
        std::vector<float> ok = cases.back().glp;
        ok[31] = 0.0f;
        LogitsDevice dev(d);
        DeviceArray<float> dglp;
        dglp.upload(ok);
        const BackwardRun cpu = run_backward_cpu(d, ok, true);
        const BackwardRun gpu = run_backward_cuda(d, dev, dglp, true);
        ++g_checks;
        if (cpu.status != SPO4J_OK || gpu.status != SPO4J_OK) {
            fail_check("token_logprobs_backward: zero rows are not read: " + cpu.error + " / " + gpu.error);
        } else {
            compare_floats("token_logprobs_backward: zero rows are not read" + dt, cpu.grad, gpu.grad,
                           (dtype == SPO4J_DTYPE_BF16 ? 1e-3 : 1e-5) * (max_abs(ok) / d.temperature + 1e-30),
                           dtype == SPO4J_DTYPE_BF16 ? 1e-2 : 2e-4);
            ++g_checks;
            size_t nonzero = 0;
            for (int64_t row : {int64_t{20}, int64_t{31}})
                for (int64_t j = 0; j < d.v; ++j) nonzero += gpu.grad[static_cast<size_t>(row * d.v + j)] != 0.0f;
            if (nonzero > 0) fail_check("token_logprobs_backward: a zero-gradLogp row is not zero" + dt);
        }
    }
}

// ---- timing --------------------------------------------------------------------------------------

double copy_bandwidth_gbs() {
    const size_t bytes = size_t{1} << 30;
    DeviceArray<unsigned char> a(bytes), b(bytes);
    CUDA_OK(cudaMemset(a.get(), 1, bytes));
    const double ms = time_cuda_ms([&] { CUDA_OK(cudaMemcpy(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice)); }, 10);
    const double gbs = 2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9;  // read + write
    record("memcpy_d2d", "cuda", "bytes=1073741824", "bandwidth", gbs, "GB/s");
    return gbs;
}

void print_timing(const std::string& kernel, const std::string& shape, double cpu_ms, double gpu_ms, double bytes,
                  int64_t tokens) {
    const double gbs = bytes / (gpu_ms * 1e-3) / 1e9;
    std::printf("  %-22s %-34s cpu %9.3f ms | cuda %8.3f ms (%6.1f ns/token, %7.1f GB/s) | x%.1f\n", kernel.c_str(),
                shape.c_str(), cpu_ms, gpu_ms, gpu_ms * 1e6 / static_cast<double>(std::max<int64_t>(tokens, 1)), gbs,
                cpu_ms / gpu_ms);
    record(kernel, "cpu", shape, "time", cpu_ms, "ms");
    record(kernel, "cuda", shape, "time", gpu_ms, "ms");
    record(kernel, "cuda", shape, "bandwidth", gbs, "GB/s");
}

void run_timings(std::mt19937_64& rng) {
    std::printf("timings (medians; the CUDA time includes the final synchronisation and stats copy)\n");
    const double bw = copy_bandwidth_gbs();
    std::printf("  device-to-device cudaMemcpy: %.1f GB/s (read + write)\n", bw);
    const std::vector<NamedConfig> cfgs = configs();
    for (int ci : {0, 1}) {
        const NamedConfig& cfg = cfgs[ci];
        const int64_t n = int64_t{1} << 22;
        TokenData d = make_tokens(n, OFFS_RAGGED, 1, rng);
        TokenDevice dev(d);
        std::vector<float> grad(n);
        double stats[SPO4J_PL_NUM_STATS];
        const double cpu = time_cpu_ms([&] {
            spo4j_policy_loss_tokens(SPO4J_DEVICE_CPU, n, d.b, d.offs.data(), d.logp.data(), d.old_logp.data(),
                                     d.ref_logp.data(), d.adv.data(), d.valid.data(), &cfg.c, grad.data(), stats,
                                     nullptr);
        }, 5);
        const double gpu = time_cuda_ms([&] {
            spo4j_policy_loss_tokens(SPO4J_DEVICE_CUDA, n, d.b, dev.offs.get(), dev.logp.get(), dev.old_logp.get(),
                                     dev.ref_logp.get(), dev.adv.get(), dev.valid.get(), &cfg.c, dev.grad.get(),
                                     stats, nullptr);
        }, 20);
        // compulsory traffic: logp, oldLogp, refLogp, advantages, valid read once, gradient written once
        const double bytes = static_cast<double>(n) * (4 * 4 + 1 + 4);
        char shape[96];
        std::snprintf(shape, sizeof shape, "N=%" PRId64 " B=%d cfg=%d", n, d.b, ci);
        print_timing("policy_loss_tokens", shape, cpu, gpu, bytes, n);
    }
    struct Big {
        int64_t n, v;
        int dtype;
    };
    for (const Big& bg : {Big{4096, 32000, SPO4J_DTYPE_F32}, Big{1024, 151936, SPO4J_DTYPE_F32},
                          Big{4096, 151936, SPO4J_DTYPE_BF16}, Big{65536, 1024, SPO4J_DTYPE_BF16}}) {
        LogitsData d = make_logits(bg.n, bg.v, bg.dtype, SPO4J_DTYPE_I64, 1.0f, OFFS_RAGGED, 1, rng);
        LogitsDevice dev(d);
        const NamedConfig& cfg = cfgs[0];
        const size_t bytes = static_cast<size_t>(d.n * d.v) * d.elem();
        std::vector<unsigned char> grad(bytes);
        std::vector<float> lp(d.n), en(d.n);
        double stats[SPO4J_PL_NUM_STATS];
        const bool bf16 = bg.dtype == SPO4J_DTYPE_BF16;
        char shape[96];
        std::snprintf(shape, sizeof shape, "N=%" PRId64 " V=%" PRId64 " %s", bg.n, bg.v, bf16 ? "bf16" : "f32");
        const int cpu_reps = bytes > (size_t{1} << 30) ? 1 : 3;
        const double cpu = time_cpu_ms([&] {
            spo4j_policy_loss_logits(SPO4J_DEVICE_CPU, d.n, d.v, d.tok.b, d.tok.offs.data(), d.host_logits(), d.dtype,
                                     d.host_targets(), d.tdtype, 1.0f, d.tok.old_logp.data(), d.tok.ref_logp.data(),
                                     d.tok.adv.data(), d.tok.valid.data(), &cfg.c, grad.data(), lp.data(), en.data(),
                                     stats, nullptr);
        }, cpu_reps);
        const double gpu = time_cuda_ms([&] {
            spo4j_policy_loss_logits(SPO4J_DEVICE_CUDA, d.n, d.v, d.tok.b, dev.tok.offs.get(), dev.logits.get(),
                                     d.dtype, dev.targets.get(), d.tdtype, 1.0f, dev.tok.old_logp.get(),
                                     dev.tok.ref_logp.get(), dev.tok.adv.get(), dev.tok.valid.get(), &cfg.c,
                                     dev.grad.get(), dev.logp.get(), dev.entropy.get(), stats, nullptr);
        }, 10);
        // logits read twice (row pass, gradient pass), gradient written once
        print_timing("policy_loss_logits", shape, cpu, gpu, 3.0 * static_cast<double>(bytes), d.n);
        const double cpu_lp = time_cpu_ms([&] {
            spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype, d.host_targets(), d.tdtype, 1.0f,
                                 lp.data(), en.data(), nullptr);
        }, cpu_reps);
        const double gpu_lp = time_cuda_ms([&] {
            spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CUDA, d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(), d.tdtype,
                                 1.0f, dev.logp.get(), dev.entropy.get(), nullptr);
        }, 10);
        print_timing("token_logprobs", shape, cpu_lp, gpu_lp, static_cast<double>(bytes), d.n);
    }
}

// ---- tree backup ---------------------------------------------------------------------------------

// A forest in the layout of spo4j_tree_backup, with weights (passed or not).
struct ForestData {
    std::vector<int32_t> offs{0}, parent;
    std::vector<float> reward, weight;
    int64_t n() const { return static_cast<int64_t>(parent.size()); }
    int32_t t() const { return static_cast<int32_t>(offs.size() - 1); }
    int32_t size(int32_t k) const { return offs[k + 1] - offs[k]; }
};

enum TreeShape { TREE_SINGLE, TREE_RANDOM, TREE_FULL, TREE_RECURSIVE };

// Appends one tree. TREE_RANDOM: a depth limit drawn from 0..`depth`, 1..`branch` children per inner node, a
// quarter of the non-root nodes stop early as leaves; TREE_FULL: `branch` children per inner node down to
// `depth`; both laid out depth-first (preorder) or breadth-first. TREE_RECURSIVE: `size` nodes, each the child
// of a uniformly chosen earlier node (deep and wide at once). Some leaf rewards are exactly 0 or 1 so that
// siblings tie (zero advantages, zero sibling std); half the inner nodes get a NaN reward, which must not be read.
void add_tree(ForestData& f, TreeShape shape, int branch, int depth, int size, bool bfs, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int32_t> par{-1};  // tree-local parents
    if (shape == TREE_RECURSIVE) {
        for (int i = 1; i < size; ++i) par.push_back(std::uniform_int_distribution<int32_t>(0, i - 1)(rng));
    } else if (shape != TREE_SINGLE) {
        const int max_depth = shape == TREE_FULL ? depth : std::uniform_int_distribution<int>(0, depth)(rng);
        auto children = [&](int d) {
            if (d >= max_depth || (shape == TREE_RANDOM && d > 0 && u(rng) < 0.25)) return 0;
            return shape == TREE_FULL ? branch : std::uniform_int_distribution<int>(1, branch)(rng);
        };
        if (bfs) {
            std::vector<std::pair<int32_t, int>> queue{{0, 0}};
            for (size_t h = 0; h < queue.size(); ++h) {
                const auto [node, d] = queue[h];
                for (int c = children(d); c > 0; --c) {
                    queue.push_back({static_cast<int32_t>(par.size()), d + 1});
                    par.push_back(node);
                }
            }
        } else {
            std::function<void(int32_t, int)> grow = [&](int32_t node, int d) {
                for (int c = children(d); c > 0; --c) {
                    const int32_t child = static_cast<int32_t>(par.size());
                    par.push_back(node);
                    grow(child, d + 1);
                }
            };
            grow(0, 0);
        }
    }
    const int32_t base = static_cast<int32_t>(f.parent.size());
    std::vector<int32_t> kids(par.size(), 0);
    for (size_t i = 1; i < par.size(); ++i) ++kids[par[i]];
    std::normal_distribution<float> g(0.3f, 1.0f);
    for (size_t i = 0; i < par.size(); ++i) {
        f.parent.push_back(par[i] < 0 ? -1 : par[i] + base);
        const double x = u(rng);
        float r = x < 0.1 ? 1.0f : x < 0.2 ? 0.0f : g(rng);
        if (kids[i] > 0 && u(rng) < 0.5) r = NAN;
        f.reward.push_back(r);
        f.weight.push_back(static_cast<float>(0.1 + 2.9 * u(rng)));
    }
    f.offs.push_back(static_cast<int32_t>(f.parent.size()));
}

// `trees` trees of mixed shapes (single nodes, random branching 1..8 and depth 0..6 with early leaves, full
// 6-6-6, small random recursive trees) with, at random places, `medium` trees over the CUDA batch size
// (2-5 K nodes: one tree per block in opt-in shared memory) and `huge` ones over any shared memory (6-20 K
// nodes: one thread on global scratch).
ForestData make_forest(int trees, int medium, int huge, std::mt19937_64& rng) {
    ForestData f;
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<int> pick(0, std::max(trees - 1, 0));
    std::vector<int> kind(trees, 0);
    for (int i = 0; i < medium; ++i) kind[pick(rng)] = 1;
    for (int i = 0; i < huge; ++i) kind[pick(rng)] = 2;
    for (int k = 0; k < trees; ++k) {
        const bool bfs = u(rng) < 0.5;
        const double x = u(rng);
        if (kind[k] == 1) add_tree(f, TREE_RECURSIVE, 0, 0, 2000 + static_cast<int>(rng() % 3001), bfs, rng);
        else if (kind[k] == 2) add_tree(f, TREE_RECURSIVE, 0, 0, 6000 + static_cast<int>(rng() % 14001), bfs, rng);
        else if (x < 0.15) add_tree(f, TREE_SINGLE, 0, 0, 1, bfs, rng);
        else if (x < 0.25) add_tree(f, TREE_FULL, 6, 3, 0, bfs, rng);
        else if (x < 0.30) add_tree(f, TREE_RECURSIVE, 0, 0, std::uniform_int_distribution<int>(2, 300)(rng), bfs, rng);
        else add_tree(f, TREE_RANDOM, 8, 6, 0, bfs, rng);
    }
    return f;
}

ForestData full_forest(int trees, int branch, int depth, std::mt19937_64& rng) {
    ForestData f;
    for (int k = 0; k < trees; ++k) add_tree(f, TREE_FULL, branch, depth, 0, k % 2 == 1, rng);
    return f;
}

struct TreeConfig {
    int value_mode, adv_mode;
    float std_eps;
    bool weighted, all_outputs;  // all_outputs false: value and rootValue only
};

std::string tree_config_name(const TreeConfig& c) {
    static const char* const kValue[] = {"child-mean", "leaf-mean"};
    static const char* const kAdv[] = {"diff", "diff/std", "loo"};
    char s[96];
    std::snprintf(s, sizeof s, "%s %s eps=%g%s%s", kValue[c.value_mode], kAdv[c.adv_mode], c.std_eps,
                  c.weighted ? " weighted" : "", c.all_outputs ? "" : " value+root only");
    return s;
}

struct TreeRun {
    int status = 0;
    std::string error;
    std::vector<float> value, adv, root;
    std::vector<int32_t> child_count, depth, nonzero;
};

// Outputs start as sentinels (-7), so what a call writes, or leaves alone, shows.
TreeRun tree_sentinels(const ForestData& f) {
    TreeRun r;
    r.value.assign(f.n(), -7.0f);
    r.adv.assign(f.n(), -7.0f);
    r.child_count.assign(f.n(), -7);
    r.depth.assign(f.n(), -7);
    r.root.assign(f.t(), -7.0f);
    r.nonzero.assign(f.t(), -7);
    return r;
}

TreeRun run_tree_cpu(ForestData& f, const TreeConfig& c) {
    TreeRun r = tree_sentinels(f);
    const bool all = c.all_outputs;
    r.status = spo4j_tree_backup(SPO4J_DEVICE_CPU, f.n(), f.t(), f.offs.data(), f.parent.data(), f.reward.data(),
                                 c.weighted ? f.weight.data() : nullptr, c.value_mode, c.adv_mode, c.std_eps,
                                 r.value.data(), all ? r.adv.data() : nullptr, all ? r.child_count.data() : nullptr,
                                 all ? r.depth.data() : nullptr, r.root.data(), all ? r.nonzero.data() : nullptr,
                                 nullptr);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    return r;
}

struct TreeDevice {
    DeviceArray<int32_t> offs, parent, child_count, depth, nonzero;
    DeviceArray<float> reward, weight, value, adv, root;
    explicit TreeDevice(const ForestData& f) {
        offs.upload(f.offs);
        parent.upload(f.parent);
        reward.upload(f.reward);
        weight.upload(f.weight);
        value.resize(f.n());
        adv.resize(f.n());
        child_count.resize(f.n());
        depth.resize(f.n());
        root.resize(f.t());
        nonzero.resize(f.t());
    }
    // Sentinels in every output, so that a rejected call can be seen to leave them alone.
    void reset(const ForestData& f) {
        const TreeRun s = tree_sentinels(f);
        value.upload(s.value);
        adv.upload(s.adv);
        child_count.upload(s.child_count);
        depth.upload(s.depth);
        root.upload(s.root);
        nonzero.upload(s.nonzero);
    }
};

int call_tree_cuda(const ForestData& f, TreeDevice& d, const TreeConfig& c, cudaStream_t stream) {
    const bool all = c.all_outputs;
    return spo4j_tree_backup(SPO4J_DEVICE_CUDA, f.n(), f.t(), d.offs.get(), d.parent.get(), d.reward.get(),
                             c.weighted ? d.weight.get() : nullptr, c.value_mode, c.adv_mode, c.std_eps,
                             d.value.get(), all ? d.adv.get() : nullptr, all ? d.child_count.get() : nullptr,
                             all ? d.depth.get() : nullptr, d.root.get(), all ? d.nonzero.get() : nullptr, stream);
}

TreeRun run_tree_cuda(const ForestData& f, TreeDevice& d, const TreeConfig& c, cudaStream_t stream = nullptr) {
    d.reset(f);
    TreeRun r;
    r.status = call_tree_cuda(f, d, c, stream);
    if (r.status != SPO4J_OK) r.error = spo4j_last_error();
    r.value = d.value.download();
    r.adv = d.adv.download();
    r.child_count = d.child_count.download();
    r.depth = d.depth.download();
    r.root = d.root.download();
    r.nonzero = d.nonzero.download();
    return r;
}

// Bit-for-bit equality (memcmp: -0 and +0 differ, NaN payloads count); prints the first differences.
template <class T>
void expect_bits(const std::string& what, const std::vector<T>& cpu, const std::vector<T>& gpu) {
    ++g_checks;
    if (cpu.size() != gpu.size()) {
        fail_check(what + ": size differs");
        return;
    }
    size_t bad = 0;
    for (size_t i = 0; i < cpu.size(); ++i) {
        if (std::memcmp(&cpu[i], &gpu[i], sizeof(T)) == 0) continue;
        if (bad < 5)
            std::printf("    %s[%zu]: cpu %.9g cuda %.9g\n", what.c_str(), i, static_cast<double>(cpu[i]),
                        static_cast<double>(gpu[i]));
        ++bad;
    }
    if (bad > 0)
        fail_check(what + ": " + std::to_string(bad) + " of " + std::to_string(cpu.size()) + " differ in bits");
}

void expect_same_tree_run(const std::string& what, const TreeRun& a, const TreeRun& b) {
    expect_bits(what + " value", a.value, b.value);
    expect_bits(what + " advantage", a.adv, b.adv);
    expect_bits(what + " childCount", a.child_count, b.child_count);
    expect_bits(what + " depth", a.depth, b.depth);
    expect_bits(what + " rootValue", a.root, b.root);
    expect_bits(what + " nonzeroAdvantages", a.nonzero, b.nonzero);
}

// CPU and CUDA give the same bits; a second CUDA run, on a non-default stream, gives them again.
void check_tree_case(ForestData& f, TreeDevice& dev, const TreeConfig& c, const std::string& label) {
    const int before = g_failures;
    const TreeRun cpu = run_tree_cpu(f, c);
    const TreeRun gpu = run_tree_cuda(f, dev, c);
    ++g_checks;
    if (cpu.status != SPO4J_OK || gpu.status != SPO4J_OK) {
        fail_check(label + ": status cpu " + std::to_string(cpu.status) + " (" + cpu.error + ") cuda " +
                   std::to_string(gpu.status) + " (" + gpu.error + ")");
        return;
    }
    expect_same_tree_run(label + " cpu vs cuda:", cpu, gpu);
    cudaStream_t s;
    CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    const TreeRun again = run_tree_cuda(f, dev, c, s);
    CUDA_OK(cudaStreamDestroy(s));
    ++g_checks;
    if (again.status != SPO4J_OK) fail_check(label + ": second CUDA run failed: " + again.error);
    else expect_same_tree_run(label + " run vs run:", gpu, again);
    if (g_failures == before) std::printf("  ok  %s\n", label.c_str());
}

std::vector<TreeConfig> tree_configs() {
    std::vector<TreeConfig> v;
    for (int vm : {SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_VALUE_LEAF_MEAN})
        for (int am : {SPO4J_TREE_ADV_DIFF, SPO4J_TREE_ADV_DIFF_OVER_STD, SPO4J_TREE_ADV_LEAVE_ONE_OUT})
            for (bool w : {false, true}) v.push_back(TreeConfig{vm, am, 1e-8f, w, true});
    return v;
}

void check_tree_backup(std::mt19937_64& rng) {
    std::printf("tree backup\n");
    {
        ForestData f = make_forest(3000, 6, 3, rng);
        TreeDevice dev(f);
        char shape[96];
        std::snprintf(shape, sizeof shape, "mixed N=%" PRId64 " T=%d", f.n(), f.t());
        for (const TreeConfig& c : tree_configs())
            check_tree_case(f, dev, c, std::string(shape) + " " + tree_config_name(c));
        for (TreeConfig c : {TreeConfig{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 0.0f, true, false},
                             TreeConfig{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_LEAVE_ONE_OUT, 0.0f, false, false},
                             TreeConfig{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 0.0f, false, true}})
            check_tree_case(f, dev, c, std::string(shape) + " " + tree_config_name(c));
    }
    for (int trees : {1, 64, 4096}) {
        ForestData f = full_forest(trees, 6, 3, rng);
        TreeDevice dev(f);
        for (const TreeConfig& c : {tree_configs()[0], tree_configs()[3], tree_configs()[10]})
            check_tree_case(f, dev, c, "6-6-6 x" + std::to_string(trees) + " " + tree_config_name(c));
    }
    {
        ForestData f;
        for (int k = 0; k < 20000; ++k) add_tree(f, TREE_SINGLE, 0, 0, 1, false, rng);
        TreeDevice dev(f);
        check_tree_case(f, dev, tree_configs()[3], "20000 single nodes " + tree_config_name(tree_configs()[3]));
    }
    {
        // One tree over 131072 nodes between small ones: its tile's has-child bits live in global memory.
        ForestData f = make_forest(50, 0, 0, rng);
        add_tree(f, TREE_RECURSIVE, 0, 0, 140000, false, rng);
        for (int k = 0; k < 50; ++k) add_tree(f, TREE_RANDOM, 8, 6, 0, k % 2 == 0, rng);
        TreeDevice dev(f);
        for (const TreeConfig& c : {tree_configs()[2], tree_configs()[9]})
            check_tree_case(f, dev, c, "giant tree N=" + std::to_string(f.n()) + " " + tree_config_name(c));
    }
    {
        // No trees: OK, nothing touched.
        std::vector<int32_t> offs{0};
        ++g_checks;
        const int s1 = spo4j_tree_backup(SPO4J_DEVICE_CPU, 0, 0, offs.data(), nullptr, nullptr, nullptr, 0, 0, 0.0f,
                                         nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        const int s2 = spo4j_tree_backup(SPO4J_DEVICE_CUDA, 0, 0, nullptr, nullptr, nullptr, nullptr, 0, 0, 0.0f,
                                         nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
        if (s1 != SPO4J_OK || s2 != SPO4J_OK)
            fail_check("empty forest: status " + std::to_string(s1) + " / " + std::to_string(s2));
    }
}

// The first tree from k on with at least `min_size` nodes.
int32_t tree_with(const ForestData& f, int32_t k, int32_t min_size) {
    while (f.size(k) < min_size) ++k;
    return k;
}

// A leaf of tree k (its last node is one).
int32_t leaf_of(const ForestData& f, int32_t k) { return f.offs[k + 1] - 1; }

void check_tree_errors(std::mt19937_64& rng) {
    std::printf("tree backup error paths\n");
    ForestData good = make_forest(600, 2, 1, rng);
    const int32_t giant = good.t();
    add_tree(good, TREE_RECURSIVE, 0, 0, 140000, true, rng);  // a giant tree: global has-child bits
    for (int k = 0; k < 20; ++k) add_tree(good, TREE_RANDOM, 8, 6, 0, false, rng);
    add_tree(good, TREE_FULL, 6, 3, 0, false, rng);  // the last tree has more than one node
    const int32_t t = good.t();
    struct Bad {
        const char* name;
        std::function<void(ForestData&)> mutate;
    };
    const std::vector<Bad> bad = {
        {"treeOffsets[0] != 0", [](ForestData& f) { f.offs[0] = 1; }},
        {"treeOffsets not increasing", [&](ForestData& f) {
             f.offs[t / 3] = f.offs[t / 3 - 1];
             f.offs[2 * t / 3] = -5;
         }},
        {"treeOffsets[T] < N", [&](ForestData& f) { f.offs[t] -= 1; }},
        {"treeOffsets[T] > N", [&](ForestData& f) { f.offs[t] += 3; }},
        {"root with a parent", [&](ForestData& f) { f.parent[f.offs[t / 2]] = 0; f.parent[f.offs[t - 3]] = 999999; }},
        {"second root", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 2, 3)] + 2] = -1; }},
        {"later parent", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 4, 3)] + 1] += 2; }},
        {"own parent", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 4, 3)] + 1] += 1; }},
        {"parent in the previous tree", [&](ForestData& f) {
             const int32_t b = f.offs[tree_with(f, t / 5, 3)];
             f.parent[b + 2] = b - 1;
         }},
        {"parent -2", [&](ForestData& f) { f.parent[f.offs[tree_with(f, t / 5, 3)] + 2] = -2; }},
        {"parent past the end", [&](ForestData& f) { f.parent[f.n() - 1] = static_cast<int32_t>(f.n()); }},
        {"zero, NaN and infinite weights", [&](ForestData& f) {
             f.weight[f.offs[t / 2] + 0] = 0.0f;
             f.weight[f.offs[t / 3]] = NAN;
             f.weight[f.n() - 1] = INFINITY;
         }},
        {"bad weight before a structural fault", [&](ForestData& f) {
             f.weight[5] = -1.0f;
             f.parent[f.offs[tree_with(f, t / 2, 2)] + 1] = 12345678;
         }},
        {"structural fault after a bad reward in its tree", [&](ForestData& f) {
             const int32_t k = tree_with(f, t / 2, 5), e = f.offs[k + 1];
             f.reward[e - 1] = NAN;  // a leaf ...
             f.parent[e - 2] = e - 1;  // ... but the structure fault of the node before is reported
         }},
        {"infinite leaf reward", [&](ForestData& f) { f.reward[leaf_of(f, tree_with(f, t / 3, 2))] = -INFINITY; }},
        {"NaN leaf reward in the giant tree", [&](ForestData& f) { f.reward[leaf_of(f, giant)] = NAN; }},
        {"NaN reward of a single-node tree", [&](ForestData& f) {
             int32_t k = t / 2;
             while (k + 1 < t && f.size(k) != 1) ++k;
             f.reward[f.offs[k]] = NAN;
         }},
    };
    for (const Bad& b : bad) {
        ForestData f = good;
        b.mutate(f);
        const TreeConfig c{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 1e-8f, true, true};
        const TreeRun cpu = run_tree_cpu(f, c);
        TreeDevice dev(f);
        const TreeRun gpu = run_tree_cuda(f, dev, c);
        expect_same_error(std::string("tree: ") + b.name, cpu.status, cpu.error, gpu.status, gpu.error);
        const TreeRun untouched = tree_sentinels(f);
        ++g_checks;
        if (std::memcmp(gpu.value.data(), untouched.value.data(), 4 * gpu.value.size()) != 0 ||
            std::memcmp(gpu.adv.data(), untouched.adv.data(), 4 * gpu.adv.size()) != 0 ||
            gpu.child_count != untouched.child_count || gpu.depth != untouched.depth ||
            std::memcmp(gpu.root.data(), untouched.root.data(), 4 * gpu.root.size()) != 0 ||
            gpu.nonzero != untouched.nonzero)
            fail_check(std::string("tree: ") + b.name + ": CUDA wrote an output on a rejected call");
    }
}

void print_tree_timing(const std::string& shape, int64_t nodes, double cpu_ms, double gpu_ms) {
    const double cpu_rate = static_cast<double>(nodes) / (cpu_ms * 1e-3);
    const double gpu_rate = static_cast<double>(nodes) / (gpu_ms * 1e-3);
    std::printf("  %-14s %-52s cpu %9.3f ms (%8.1f Mnodes/s) | cuda %8.3f ms (%8.1f Mnodes/s) | x%.1f\n", "tree_backup",
                shape.c_str(), cpu_ms, cpu_rate / 1e6, gpu_ms, gpu_rate / 1e6, cpu_ms / gpu_ms);
    record("tree_backup", "cpu", shape, "time", cpu_ms, "ms");
    record("tree_backup", "cuda", shape, "time", gpu_ms, "ms");
    record("tree_backup", "cpu", shape, "throughput", cpu_rate, "nodes/s");
    record("tree_backup", "cuda", shape, "throughput", gpu_rate, "nodes/s");
}

void run_tree_timings(std::mt19937_64& rng) {
    std::printf("tree backup timings (medians; the CUDA time is the whole call: checks, backup, synchronisation)\n");
    struct Case {
        std::string name;
        ForestData f;
        TreeConfig c;
    };
    const TreeConfig spo{SPO4J_TREE_VALUE_CHILD_MEAN, SPO4J_TREE_ADV_DIFF, 1e-8f, false, true};
    const TreeConfig heavy{SPO4J_TREE_VALUE_LEAF_MEAN, SPO4J_TREE_ADV_DIFF_OVER_STD, 1e-8f, true, true};
    std::vector<Case> cases;
    for (int trees : {1, 64, 4096})
        cases.push_back({"6-6-6 x" + std::to_string(trees), full_forest(trees, 6, 3, rng), spo});
    cases.push_back({"6-6-6 x3862", full_forest(3862, 6, 3, rng), spo});  // 1,000,258 nodes
    cases.push_back({"6-6-6 x3862", full_forest(3862, 6, 3, rng), heavy});
    {
        // SPO-like trees that stop early: depth limit 0..3, 1..6 children, up to 259 nodes.
        ForestData f;
        while (f.n() < 1000000) add_tree(f, TREE_RANDOM, 6, 3, 0, f.t() % 2 == 0, rng);
        cases.push_back({"random(b<=6 d<=3)", std::move(f), spo});
    }
    for (Case& k : cases) {
        ForestData& f = k.f;
        TreeDevice dev(f);
        TreeRun out = tree_sentinels(f);
        const bool all = k.c.all_outputs;
        const double cpu = time_cpu_ms([&] {
            spo4j_tree_backup(SPO4J_DEVICE_CPU, f.n(), f.t(), f.offs.data(), f.parent.data(), f.reward.data(),
                              k.c.weighted ? f.weight.data() : nullptr, k.c.value_mode, k.c.adv_mode, k.c.std_eps,
                              out.value.data(), all ? out.adv.data() : nullptr, all ? out.child_count.data() : nullptr,
                              all ? out.depth.data() : nullptr, out.root.data(), all ? out.nonzero.data() : nullptr,
                              nullptr);
        }, f.n() > 100000 ? 5 : 20);
        int status = SPO4J_OK;
        const double gpu = time_cuda_ms([&] { status |= call_tree_cuda(f, dev, k.c, nullptr); }, 20);
        if (status != SPO4J_OK) fail_check("tree timing " + k.name + ": " + spo4j_last_error());
        char shape[128];
        std::snprintf(shape, sizeof shape, "%s N=%" PRId64 " %s", k.name.c_str(), f.n(), tree_config_name(k.c).c_str());
        print_tree_timing(shape, f.n(), cpu, gpu);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
        cudaGetLastError();
        std::printf("no CUDA device: nothing to check\n");
        return 0;
    }
    if (!spo4j_built_with_cuda()) {
        std::printf("libspo4j was built without CUDA: nothing to check\n");
        return 0;
    }
    cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));
    g_gpu_name = prop.name;
    g_cpu_name = "host-" + std::to_string(spo4j_get_num_threads()) + "-threads";
    {
        char buf[32];
        const std::time_t now = std::time(nullptr);
        std::strftime(buf, sizeof buf, "%Y-%m-%d", std::gmtime(&now));
        g_date = buf;
    }
    std::printf("device: %s, %d SMs, %.1f GiB; CPU threads: %d\n", prop.name, prop.multiProcessorCount,
                static_cast<double>(prop.totalGlobalMem) / (1 << 30), spo4j_get_num_threads());

    std::mt19937_64 rng(20240607);
    const std::vector<NamedConfig> cfgs = configs();

    std::printf("per-token entry\n");
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{111}, int64_t{4099}, int64_t{1048576}}) {
        for (int offs_mode : {OFFS_NULL, OFFS_RAGGED, OFFS_SHORT}) {
            for (int valid_mode : {0, 1, 2}) {
                if (n >= 1048576 && valid_mode == 2) continue;
                TokenData d = make_tokens(n, offs_mode, valid_mode, rng);
                for (const NamedConfig& cfg : cfgs) {
                    char label[256];
                    std::snprintf(label, sizeof label, "tokens N=%" PRId64 " B=%d %s valid=%s %s", n, d.b,
                                  kOffsNames[offs_mode], valid_mode == 0 ? "null" : valid_mode == 1 ? "90%" : "none",
                                  cfg.name);
                    const int before = g_failures;
                    check_tokens_case(d, cfg, label);
                    if (g_failures == before) std::printf("  ok  %s\n", label);
                }
            }
        }
    }

    std::printf("logits entry\n");
    struct Shape {
        int64_t n, v;
    };
    const Shape shapes[] = {{0, 111},    {1, 1},      {99, 1},     {99, 111},     {111, 4096},  {37, 4097},
                            {4099, 99},  {111, 32000}, {17, 151936}, {1029, 1},    {300, 32001}};
    int variant = 0;
    for (const Shape& sh : shapes) {
        for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
            ++variant;
            const int tdtype = variant % 2 == 0 ? SPO4J_DTYPE_I64 : SPO4J_DTYPE_I32;
            const float temperature = variant % 3 == 0 ? 0.7f : 1.0f;
            const int offs_mode = variant % 3;
            const int valid_mode = variant % 5 == 4 ? 2 : variant % 2;
            LogitsData d = make_logits(sh.n, sh.v, dtype, tdtype, temperature, offs_mode, valid_mode, rng);
            for (size_t ci = 0; ci < cfgs.size(); ++ci) {
                LogitsOptions o;
                o.in_place = (variant + ci) % 2 == 0;
                o.entropy = (variant + ci) % 3 != 0;
                o.logp_out = ci != 2;
                o.grad = ci != 4 || variant % 2 == 0;
                char label[256];
                std::snprintf(label, sizeof label,
                              "logits N=%" PRId64 " V=%" PRId64 " %s %s T=%.1f B=%d %s valid=%s %s%s%s%s", sh.n, sh.v,
                              dtype == SPO4J_DTYPE_BF16 ? "bf16" : "f32", tdtype == SPO4J_DTYPE_I64 ? "i64" : "i32",
                              temperature, d.tok.b, kOffsNames[offs_mode],
                              valid_mode == 0 ? "null" : valid_mode == 1 ? "90%" : "none", cfgs[ci].name,
                              o.grad ? (o.in_place ? " grad=in-place" : " grad") : "", o.entropy ? " entropy" : "",
                              o.logp_out ? " logp" : "");
                const int before = g_failures;
                check_logits_case(d, cfgs[ci], o, label);
                if (g_failures == before) std::printf("  ok  %s\n", label);
            }
            char label[128];
            std::snprintf(label, sizeof label, "token_logprobs N=%" PRId64 " V=%" PRId64 " %s", sh.n, sh.v,
                          dtype == SPO4J_DTYPE_BF16 ? "bf16" : "f32");
            const int before = g_failures;
            check_token_logprobs(d, variant % 2 == 0, label);
            if (g_failures == before) std::printf("  ok  %s\n", label);
            std::snprintf(label, sizeof label, "token_logprobs_backward N=%" PRId64 " V=%" PRId64 " %s %s T=%.1f",
                          sh.n, sh.v, dtype == SPO4J_DTYPE_BF16 ? "bf16" : "f32",
                          tdtype == SPO4J_DTYPE_I64 ? "i64" : "i32", temperature);
            const int before_bwd = g_failures;
            check_token_logprobs_backward(d, rng, label);
            if (g_failures == before_bwd) std::printf("  ok  %s\n", label);
        }
    }

    check_error_paths(rng);
    check_tree_backup(rng);
    check_tree_errors(rng);
    run_timings(rng);
    run_tree_timings(rng);

    std::printf("\n%d checks, %d failures\n", g_checks, g_failures);
    if (argc > 1) write_csv(argv[1]);
    return g_failures == 0 ? 0 : 1;
}
