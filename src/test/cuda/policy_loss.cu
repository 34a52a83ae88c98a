// policy_loss check: the CUDA policy loss (per-token and logits entries), token log-probs and their backward
// against the CPU kernels, on the same seeded inputs, through the C API.
//
//   spo4j_check_policy_loss [--cpu-only] [--no-timing] [results.csv]
//
// The reference is the library's CPU path (SPO4J_DEVICE_CPU), which the Java tests check against the pure
// Java reference (PolicyLossKernelTest, PolicyLossTokenLogprobsTest). For each shape and config: loss and
// stats, gradients, logp and entropy within tolerances (printing the first mismatches); two CUDA runs
// bit-identical (a second stream, with and without the gradient); error paths with the CPU's status and
// message and outputs untouched; then CUDA-event timings against the device-to-device copy ceiling.
// Shapes: N = 0, 1, 99, 111, 4099, 1M tokens; V = 1 to 151,936; fp32 and bf16; ragged, empty and 1-token
// sequences; fully masked batches. Built by cmake/CMakeLists.txt; see README "Checking the CUDA kernels on a
// GPU" and check_common.h (harness, exit codes).
#include "check_common.h"

using namespace check;

namespace {

// ---- inputs --------------------------------------------------------------------------------------

const char* const kStatNames[SPO4J_PL_NUM_STATS] = {
    "loss",       "pg_loss",       "kl_loss", "kept",     "clip_frac_low", "clip_frac_high", "dual_clip_frac",
    "mean_ratio", "approx_kl_old", "kl_ref",  "adv_mean", "adv_std",       "skipped",        "entropy_mean"};

enum OffsetsMode { OFFS_NULL = 0, OFFS_RAGGED = 1, OFFS_SHORT = 2 };
const char* const kOffsNames[] = {"offs=null", "offs=ragged", "offs=short"};

// seqOffsets for n tokens: ragged lengths with empty and length-1 sequences, or mostly 1-token sequences.
std::vector<int32_t> make_offsets(int64_t n, int mode, Rng& rng) {
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
TokenData make_tokens(int64_t n, int offs_mode, int valid_mode, Rng& rng) {
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
    size_t logits_bytes() const { return static_cast<size_t>(n * v) * elem(); }
    size_t targets_bytes() const { return static_cast<size_t>(n) * (tdtype == SPO4J_DTYPE_I64 ? 8 : 4); }
};

LogitsData make_logits(int64_t n, int64_t v, int dtype, int tdtype, float temperature, int offs_mode, int valid_mode,
                       Rng& rng) {
    LogitsData d;
    d.n = n;
    d.v = v;
    d.dtype = dtype;
    d.tdtype = tdtype;
    d.temperature = temperature;
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_int_distribution<int64_t> tv(0, v - 1);
    const size_t count = static_cast<size_t>(n * v);
    if (dtype == SPO4J_DTYPE_BF16)
        d.logits16.resize(count);
    else
        d.logits32.resize(count);
    d.t32.resize(n);
    d.t64.resize(n);
    FastUniform fast(rng());
    for (int64_t i = 0; i < n; ++i) {
        const float scale = (i % 7 == 0) ? 8.0f : 2.0f;  // some peaky rows
        int64_t arg = 0;
        float best = -INFINITY;
        for (int64_t j = 0; j < v; ++j) {
            const float x = scale * 0.85f * fast.about_normal();
            const size_t k = static_cast<size_t>(i * v + j);
            if (dtype == SPO4J_DTYPE_BF16)
                d.logits16[k] = to_bf16(x);
            else
                d.logits32[k] = x;
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
    if (n > 0)
        SPO4J_CHECK(spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, n, v, d.host_logits(), dtype, d.host_targets(),
                                                     tdtype, temperature, lp.data(), nullptr, nullptr));
    for (int64_t i = 0; i < n; ++i) {
        d.tok.old_logp[i] = lp[i] + 0.15f * g(rng);
        d.tok.ref_logp[i] = lp[i] + 0.3f * g(rng);
    }
    return d;
}

// gradLogp for n tokens: about normal, with about a fifth exact zeros (rows that must come back zero).
std::vector<float> make_grad_logp(int64_t n, Rng& rng) {
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    std::vector<float> glp(n);
    for (int64_t i = 0; i < n; ++i)
        glp[i] = u(rng) < 0.2f ? 0.0f : g(rng) / static_cast<float>(std::max<int64_t>(n, 1));
    return glp;
}

struct LogitsOptions {
    bool grad = true, in_place = false, entropy = true, logp_out = true;
};

// Results of one call. Outputs start as sentinels (-7, or 0x5A bytes for an out-of-place gradient; an in-place
// gradient starts as the logits), so what a call writes, or leaves alone, shows.
struct TokenRun {
    Status status;
    double stats[SPO4J_PL_NUM_STATS] = {};
    std::vector<float> grad;
};

struct LogitsRun {
    Status status;
    double stats[SPO4J_PL_NUM_STATS] = {};
    std::vector<float> grad, logp, entropy;  // grad as float (bf16 widened)
    std::vector<unsigned char> grad_raw;
};

struct BackwardRun {
    Status status;
    std::vector<unsigned char> grad_raw;
    std::vector<float> grad;
};

std::vector<double> stats_vector(const double* s) { return std::vector<double>(s, s + SPO4J_PL_NUM_STATS); }

// ---- CPU reference -------------------------------------------------------------------------------

TokenRun run_tokens_cpu(TokenData& d, const NamedConfig& cfg, bool with_grad) {
    TokenRun r;
    if (with_grad) r.grad.assign(d.n, -7.0f);
    r.status = capture(spo4j_policy_loss_tokens(SPO4J_DEVICE_CPU, d.n, d.b, host_or_null(d.offs), host_ptr(d.logp),
                                                host_ptr(d.old_logp), cfg.use_ref ? host_ptr(d.ref_logp) : nullptr,
                                                host_ptr(d.adv), host_or_null(d.valid), &cfg.c,
                                                with_grad ? host_or_null(r.grad) : nullptr, r.stats, nullptr));
    return r;
}

LogitsRun run_logits_cpu(LogitsData& d, const NamedConfig& cfg, const LogitsOptions& o) {
    LogitsRun r;
    const size_t bytes = d.logits_bytes();
    std::vector<unsigned char> buf;
    if (o.grad) {
        buf.resize(bytes);
        if (o.in_place && bytes > 0)
            std::memcpy(buf.data(), d.host_logits(), bytes);
        else
            std::fill(buf.begin(), buf.end(), 0x5A);
    }
    if (o.logp_out) r.logp.assign(d.n, -7.0f);
    if (o.entropy) r.entropy.assign(d.n, -7.0f);
    const void* logits = o.in_place && o.grad ? static_cast<const void*>(buf.data()) : d.host_logits();
    r.status = capture(spo4j_policy_loss_logits(
        SPO4J_DEVICE_CPU, d.n, d.v, d.tok.b, host_or_null(d.tok.offs), logits, d.dtype, d.host_targets(), d.tdtype,
        d.temperature, host_ptr(d.tok.old_logp), cfg.use_ref ? host_ptr(d.tok.ref_logp) : nullptr, host_ptr(d.tok.adv),
        host_or_null(d.tok.valid), &cfg.c, o.grad ? host_ptr(buf) : nullptr, host_or_null(r.logp),
        host_or_null(r.entropy), r.stats, nullptr));
    r.grad_raw = std::move(buf);
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

// Out of place: the gradient buffer starts as 0x5A bytes; in place: as a copy of the logits.
BackwardRun run_backward_cpu(const LogitsData& d, const std::vector<float>& glp, bool in_place) {
    BackwardRun r;
    const size_t bytes = d.logits_bytes();
    r.grad_raw.resize(bytes);
    if (in_place && bytes > 0)
        std::memcpy(r.grad_raw.data(), d.host_logits(), bytes);
    else
        std::fill(r.grad_raw.begin(), r.grad_raw.end(), 0x5A);
    const void* logits = in_place ? static_cast<const void*>(r.grad_raw.data()) : d.host_logits();
    r.status = capture(spo4j_policy_loss_token_logprobs_backward(SPO4J_DEVICE_CPU, d.n, d.v, logits, d.dtype,
                                                                 d.host_targets(), d.tdtype, d.temperature, glp.data(),
                                                                 r.grad_raw.data(), nullptr));
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

// ---- kernel launch -------------------------------------------------------------------------------

struct TokenDevice {
    DeviceBuffer<int32_t> offs;
    DeviceBuffer<float> logp, old_logp, ref_logp, adv, grad;
    DeviceBuffer<uint8_t> valid;
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

TokenRun run_tokens_device(const TokenData& d, TokenDevice& dev, const NamedConfig& cfg, bool with_grad,
                           void* stream = nullptr) {
    TokenRun r;
    if (with_grad && d.n > 0) dev.grad.upload(std::vector<float>(d.n, -7.0f));
    r.status = capture(spo4j_policy_loss_tokens(device(), d.n, d.b, dev.offs.get_if(!d.offs.empty()), dev.logp.get(),
                                                dev.old_logp.get(), cfg.use_ref ? dev.ref_logp.get() : nullptr,
                                                dev.adv.get(), dev.valid.get_if(!d.valid.empty()), &cfg.c,
                                                with_grad ? dev.grad.get() : nullptr, r.stats, stream));
    if (with_grad) r.grad = dev.grad.download();
    return r;
}

struct LogitsDevice {
    DeviceBuffer<unsigned char> logits, grad, targets;
    DeviceBuffer<float> logp, entropy;
    TokenDevice tok;
    explicit LogitsDevice(const LogitsData& d) : tok(d.tok) {
        logits.resize(d.logits_bytes());
        restore_logits(d);
        grad.resize(d.logits_bytes());
        targets.resize(d.targets_bytes());
        targets.upload_bytes(d.host_targets(), d.targets_bytes());
        logp.resize(d.n);
        entropy.resize(d.n);
    }
    void restore_logits(const LogitsData& d) { logits.upload_bytes(d.host_logits(), d.logits_bytes()); }
};

LogitsRun run_logits_device(const LogitsData& d, LogitsDevice& dev, const NamedConfig& cfg, const LogitsOptions& o) {
    LogitsRun r;
    void* grad = nullptr;
    if (d.n > 0) {
        dev.logp.upload(std::vector<float>(d.n, -7.0f));
        dev.entropy.upload(std::vector<float>(d.n, -7.0f));
    }
    if (o.grad) {
        if (o.in_place) {
            dev.restore_logits(d);
            grad = dev.logits.get();
        } else {
            dev.grad.fill_bytes(0x5A);
            grad = dev.grad.get();
        }
    }
    r.status = capture(spo4j_policy_loss_logits(device(), d.n, d.v, d.tok.b, dev.tok.offs.get_if(!d.tok.offs.empty()),
                                                dev.logits.get(), d.dtype, dev.targets.get(), d.tdtype, d.temperature,
                                                dev.tok.old_logp.get(), cfg.use_ref ? dev.tok.ref_logp.get() : nullptr,
                                                dev.tok.adv.get(), dev.tok.valid.get_if(!d.tok.valid.empty()), &cfg.c,
                                                grad, o.logp_out ? dev.logp.get() : nullptr,
                                                o.entropy ? dev.entropy.get() : nullptr, r.stats, nullptr));
    if (o.grad) {
        r.grad_raw = o.in_place ? dev.logits.download() : dev.grad.download();
        r.grad = widen(r.grad_raw, d.dtype);
    }
    if (o.logp_out) r.logp = dev.logp.download();
    if (o.entropy) r.entropy = dev.entropy.download();
    return r;
}

BackwardRun run_backward_device(const LogitsData& d, LogitsDevice& dev, const DeviceBuffer<float>& glp, bool in_place) {
    BackwardRun r;
    void* grad = nullptr;
    if (in_place) {
        dev.restore_logits(d);
        grad = dev.logits.get();
    } else {
        dev.grad.fill_bytes(0x5A);
        grad = dev.grad.get();
    }
    r.status = capture(spo4j_policy_loss_token_logprobs_backward(device(), d.n, d.v, dev.logits.get(), d.dtype,
                                                                 dev.targets.get(), d.tdtype, d.temperature, glp.get(),
                                                                 grad, nullptr));
    r.grad_raw = in_place ? dev.logits.download() : dev.grad.download();
    r.grad = widen(r.grad_raw, d.dtype);
    return r;
}

// ---- validation ----------------------------------------------------------------------------------

bool close(double a, double b, double atol, double rtol) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return std::fabs(a - b) <= atol + rtol * std::fabs(b);
}

void compare_stats(const std::string& what, const double* cpu, const double* dev, int64_t kept) {
    ++g_checks;
    int bad = 0;
    // fractions may move by a few tokens' clip flips
    const double frac_atol = kept > 0 ? 4.0 / static_cast<double>(kept) + 1e-6 : 1e-6;
    for (int i = 0; i < SPO4J_PL_NUM_STATS; ++i) {
        bool ok;
        if (i == SPO4J_PL_KEPT || i == SPO4J_PL_SKIPPED)
            ok = cpu[i] == dev[i];
        else if (i >= SPO4J_PL_CLIP_FRAC_LOW && i <= SPO4J_PL_DUAL_CLIP_FRAC)
            ok = close(dev[i], cpu[i], frac_atol, 0);
        else
            ok = close(dev[i], cpu[i], 1e-5, 1e-4);
        if (!ok) {
            std::printf("    stats[%s]: cpu %.12g %s %.12g\n", kStatNames[i], cpu[i], device_name(), dev[i]);
            ++bad;
        }
    }
    if (bad > 0) fail_check(what + ": stats differ");
}

void check_tokens_case(TokenData& d, const NamedConfig& cfg, const std::string& label) {
    const int before = g_failures;
    const TokenRun cpu = run_tokens_cpu(d, cfg, true);
    TokenDevice dev(d);
    const TokenRun gpu = run_tokens_device(d, dev, cfg, true);
    if (!expect_ok(label, cpu.status, gpu.status)) return;
    compare_stats(label, cpu.stats, gpu.stats, static_cast<int64_t>(cpu.stats[SPO4J_PL_KEPT]));
    const size_t allowed = static_cast<size_t>(d.n / 100000);
    validate_result(label + " grad_logp", cpu.grad, gpu.grad, 1e-5 * max_abs(cpu.grad) + 1e-30, 1e-4, allowed);
    // Determinism: a second run, on a non-default stream, and without the gradient, gives the same bits.
    Stream s;
    const TokenRun again = run_tokens_device(d, dev, cfg, true, s.get());
    const TokenRun no_grad = run_tokens_device(d, dev, cfg, false, s.get());
    expect_repeatable(label + " grad_logp", gpu.grad, again.grad);
    expect_repeatable(label + " stats", stats_vector(gpu.stats), stats_vector(again.stats));
    expect_repeatable(label + " stats without grad", stats_vector(gpu.stats), stats_vector(no_grad.stats));
    report_case(label, before);
}

void check_logits_case(LogitsData& d, const NamedConfig& cfg, const LogitsOptions& o, const std::string& label) {
    const int before = g_failures;
    const LogitsRun cpu = run_logits_cpu(d, cfg, o);
    LogitsDevice dev(d);
    const LogitsRun gpu = run_logits_device(d, dev, cfg, o);
    if (!expect_ok(label, cpu.status, gpu.status)) return;
    compare_stats(label, cpu.stats, gpu.stats, static_cast<int64_t>(cpu.stats[SPO4J_PL_KEPT]));
    if (o.logp_out) validate_result(label + " logp", cpu.logp, gpu.logp, 5e-5, 1e-5);
    if (o.entropy) validate_result(label + " entropy", cpu.entropy, gpu.entropy, 5e-5, 1e-4);
    if (o.grad) {
        const bool bf16 = d.dtype == SPO4J_DTYPE_BF16;
        const double scale = max_abs(cpu.grad) + 1e-30;
        // bf16: one rounding step (2^-8 relative) apart at most; fp32: exp and log-sum-exp rounding.
        validate_result(label + " grad_logits", cpu.grad, gpu.grad, (bf16 ? 1e-3 : 1e-5) * scale, bf16 ? 1e-2 : 2e-4,
                        static_cast<size_t>(d.v) * static_cast<size_t>(d.n / 100000));
    }
    const LogitsRun again = run_logits_device(d, dev, cfg, o);
    expect_repeatable(label + " grad_logits", gpu.grad_raw, again.grad_raw);
    expect_repeatable(label + " logp", gpu.logp, again.logp);
    expect_repeatable(label + " entropy", gpu.entropy, again.entropy);
    expect_repeatable(label + " stats", stats_vector(gpu.stats), stats_vector(again.stats));
    report_case(label, before);
}

void check_token_logprobs(const LogitsData& d, bool entropy, const std::string& label) {
    const int before = g_failures;
    std::vector<float> lp_cpu(d.n, -7.0f), en_cpu(entropy ? d.n : 0, -7.0f);
    const Status s1 = capture(spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype,
                                                               d.host_targets(), d.tdtype, d.temperature, lp_cpu.data(),
                                                               host_or_null(en_cpu), nullptr));
    LogitsDevice dev(d);
    const Status s2 = capture(spo4j_policy_loss_token_logprobs(
        device(), d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(), d.tdtype, d.temperature, dev.logp.get(),
        entropy ? dev.entropy.get() : nullptr, nullptr));
    if (!expect_ok(label, s1, s2)) return;
    validate_result(label + " logp", lp_cpu, dev.logp.download(), 5e-5, 1e-5);
    if (entropy) validate_result(label + " entropy", en_cpu, dev.entropy.download(), 5e-5, 1e-4);
    report_case(label, before);
}

void check_token_logprobs_backward(const LogitsData& d, Rng& rng, const std::string& label) {
    const int before = g_failures;
    const std::vector<float> glp = make_grad_logp(d.n, rng);
    LogitsDevice dev(d);
    DeviceBuffer<float> dglp(glp);
    const BackwardRun cpu = run_backward_cpu(d, glp, false);
    const BackwardRun cpu_in_place = run_backward_cpu(d, glp, true);
    ++g_checks;
    if (cpu.status.code != SPO4J_OK || cpu_in_place.status.code != SPO4J_OK) {
        fail_check(label + ": cpu status " + std::to_string(cpu.status.code) + " (" + cpu.status.message +
                   ") / in place " + std::to_string(cpu_in_place.status.code) + " (" + cpu_in_place.status.message +
                   ")");
        return;
    }
    expect_bits(label + " cpu in place vs out of place", cpu.grad_raw, cpu_in_place.grad_raw, "out-of-place",
                "in-place");
    const bool bf16 = d.dtype == SPO4J_DTYPE_BF16;
    // Entries are coef·(onehot − p) with coef = gradLogp / T, and the fp32 error of p is absolute (z − lse is
    // rounded at the size of z; CUDA's ex2.approx and the CPU's polynomial differ by an ulp or two), so the
    // absolute tolerance scales with the largest coef, not with the largest entry (V = 1: all entries are
    // rounding noise of about 1e-7·coef, different on the two sides).
    const double scale = max_abs(glp) / d.temperature + 1e-30;
    for (bool in_place : {false, true}) {
        const std::string what = label + (in_place ? " in place" : " out of place");
        const BackwardRun gpu = run_backward_device(d, dev, dglp, in_place);
        if (!expect_ok(what, cpu.status, gpu.status)) continue;
        // As the logits entry's gradient: bf16 one rounding step apart at most; fp32 exp and lse rounding.
        validate_result(what + " grad_logits", cpu.grad, gpu.grad, (bf16 ? 1e-3 : 1e-5) * scale, bf16 ? 1e-2 : 2e-4);
        // Rows with gradLogp 0 are exact zeros on both sides.
        ++g_checks;
        size_t nonzero = 0;
        for (int64_t i = 0; i < d.n; ++i)
            if (glp[i] == 0.0f)
                for (int64_t j = 0; j < d.v; ++j) nonzero += gpu.grad[static_cast<size_t>(i * d.v + j)] != 0.0f;
        if (nonzero > 0) fail_check(what + ": " + std::to_string(nonzero) + " nonzero entries in gradLogp-0 rows");
        const BackwardRun again = run_backward_device(d, dev, dglp, in_place);
        expect_repeatable(what + " grad_logits", gpu.grad_raw, again.grad_raw);
    }
    report_case(label, before);
}

void check_tokens(Rng& rng) {
    std::printf("per-token entry\n");
    const std::vector<NamedConfig> cfgs = configs();
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{99}, int64_t{111}, int64_t{4099}, int64_t{1048576}}) {
        for (int offs_mode : {OFFS_NULL, OFFS_RAGGED, OFFS_SHORT}) {
            for (int valid_mode : {0, 1, 2}) {
                if (n >= 1048576 && valid_mode == 2) continue;
                TokenData d = make_tokens(n, offs_mode, valid_mode, rng);
                for (const NamedConfig& cfg : cfgs) {
                    char label[256];
                    std::snprintf(label, sizeof label, "tokens N=%" PRId64 " B=%d %s valid=%s %s", n, d.b,
                                  kOffsNames[offs_mode],
                                  valid_mode == 0   ? "null"
                                  : valid_mode == 1 ? "90%"
                                                    : "none",
                                  cfg.name);
                    check_tokens_case(d, cfg, label);
                }
            }
        }
    }
}

void check_logits(Rng& rng) {
    std::printf("logits entry, token log-probs and their backward\n");
    const std::vector<NamedConfig> cfgs = configs();
    struct Shape {
        int64_t n, v;
    };
    const Shape shapes[] = {{0, 111},   {1, 1},       {99, 1},      {99, 111}, {111, 4096}, {37, 4097},
                            {4099, 99}, {111, 32000}, {17, 151936}, {1029, 1}, {300, 32001}};
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
                              dtype_name(dtype), tdtype == SPO4J_DTYPE_I64 ? "i64" : "i32", temperature, d.tok.b,
                              kOffsNames[offs_mode],
                              valid_mode == 0   ? "null"
                              : valid_mode == 1 ? "90%"
                                                : "none",
                              cfgs[ci].name, o.grad ? (o.in_place ? " grad=in-place" : " grad") : "",
                              o.entropy ? " entropy" : "", o.logp_out ? " logp" : "");
                check_logits_case(d, cfgs[ci], o, label);
            }
            char label[128];
            std::snprintf(label, sizeof label, "token_logprobs N=%" PRId64 " V=%" PRId64 " %s", sh.n, sh.v,
                          dtype_name(dtype));
            check_token_logprobs(d, variant % 2 == 0, label);
            std::snprintf(label, sizeof label, "token_logprobs_backward N=%" PRId64 " V=%" PRId64 " %s %s T=%.1f", sh.n,
                          sh.v, dtype_name(dtype), tdtype == SPO4J_DTYPE_I64 ? "i64" : "i32", temperature);
            check_token_logprobs_backward(d, rng, label);
        }
    }
}

void check_error_paths(Rng& rng) {
    std::printf("error paths (same status and message on both sides, outputs untouched)\n");
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
        const TokenRun gpu = run_tokens_device(d, dev, cfg, true);
        expect_same_error("tokens: non-finite inputs", cpu.status, gpu.status);
        expect_untouched("tokens: cpu grad_logp", std::vector<float>(d.n, -7.0f), cpu.grad);
        expect_untouched("tokens: grad_logp", std::vector<float>(d.n, -7.0f), gpu.grad);
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
            const TokenRun gpu = run_tokens_device(d, dev, cfg, true);
            expect_same_error("tokens: bad seqOffsets #" + std::to_string(which), cpu.status, gpu.status);
            expect_untouched("tokens: bad seqOffsets cpu grad_logp", std::vector<float>(d.n, -7.0f), cpu.grad);
            expect_untouched("tokens: bad seqOffsets grad_logp", std::vector<float>(d.n, -7.0f), gpu.grad);
        }
    }
    for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
        LogitsData d = make_logits(40, 5000, dtype, SPO4J_DTYPE_I64, 1.0f, OFFS_RAGGED, 0, rng);
        d.t64[20] = 5000;  // target out of range
        if (dtype == SPO4J_DTYPE_BF16)
            d.logits16[static_cast<size_t>(31 * d.v + 17)] = to_bf16(NAN);
        else
            d.logits32[static_cast<size_t>(31 * d.v + 17)] = -INFINITY;
        if (dtype == SPO4J_DTYPE_F32) d.logits32[static_cast<size_t>(33 * d.v + 1)] = NAN;  // a later bad row
        d.tok.old_logp[2] = NAN;  // reported after the row errors
        LogitsOptions o;
        o.in_place = true;
        const LogitsRun cpu = run_logits_cpu(d, cfg, o);
        LogitsDevice dev(d);
        const LogitsRun gpu = run_logits_device(d, dev, cfg, o);
        const std::string dt = dtype_name(dtype);
        expect_same_error("logits: bad target + bad logit " + dt, cpu.status, gpu.status);
        std::vector<unsigned char> logits_bytes(d.logits_bytes());
        std::memcpy(logits_bytes.data(), d.host_logits(), logits_bytes.size());
        const std::vector<float> sentinels(d.n, -7.0f);
        for (const LogitsRun* r : {&cpu, &gpu}) {
            const std::string side = r == &cpu ? " (cpu)" : "";
            expect_untouched("logits: in-place logits " + dt + side, logits_bytes, r->grad_raw);
            expect_untouched("logits: logpOut " + dt + side, sentinels, r->logp);
            expect_untouched("logits: entropyOut " + dt + side, sentinels, r->entropy);
        }
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
        const LogitsRun gpu2 = run_logits_device(d, dev2, cfg, o);
        expect_same_error("logits: non-finite oldLogp " + dt, cpu2.status, gpu2.status);
        std::memcpy(logits_bytes.data(), d.host_logits(), logits_bytes.size());
        for (const LogitsRun* r : {&cpu2, &gpu2}) {
            const std::string side = r == &cpu2 ? " (cpu)" : "";
            expect_untouched("logits: non-finite oldLogp in-place logits " + dt + side, logits_bytes, r->grad_raw);
            expect_untouched("logits: non-finite oldLogp logpOut " + dt + side, sentinels, r->logp);
            expect_untouched("logits: non-finite oldLogp entropyOut " + dt + side, sentinels, r->entropy);
        }
    }
    {
        LogitsData d = make_logits(10, 111, SPO4J_DTYPE_F32, SPO4J_DTYPE_I32, 1.0f, OFFS_NULL, 0, rng);
        d.t32[6] = -1;
        d.logits32[8 * 111 + 3] = INFINITY;
        std::vector<float> lp(d.n, -7.0f);
        const Status s1 = capture(spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype,
                                                                   d.host_targets(), d.tdtype, d.temperature, lp.data(),
                                                                   nullptr, nullptr));
        LogitsDevice dev(d);
        dev.logp.upload(std::vector<float>(d.n, -7.0f));
        const Status s2 =
            capture(spo4j_policy_loss_token_logprobs(device(), d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(),
                                                     d.tdtype, d.temperature, dev.logp.get(), nullptr, nullptr));
        expect_same_error("token_logprobs: bad target", s1, s2);
        expect_untouched("token_logprobs: logpOut (cpu)", std::vector<float>(d.n, -7.0f), lp);
        expect_untouched("token_logprobs: logpOut", std::vector<float>(d.n, -7.0f), dev.logp.download());
    }
    for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
        const std::string dt = std::string(" ") + dtype_name(dtype);
        LogitsData d = make_logits(40, 5000, dtype, SPO4J_DTYPE_I32, 0.7f, OFFS_NULL, 0, rng);
        std::vector<float> glp = make_grad_logp(d.n, rng);
        for (float& g : glp) g = g == 0.0f ? 0.5f : g;
        d.t32[20] = -3;  // target out of range
        const size_t bad_logit = static_cast<size_t>(31 * d.v + 17);
        if (dtype == SPO4J_DTYPE_BF16)
            d.logits16[bad_logit] = to_bf16(NAN);
        else
            d.logits32[bad_logit] = INFINITY;
        glp[33] = NAN;  // reported before the rows
        std::vector<unsigned char> logits_bytes(d.logits_bytes());
        std::memcpy(logits_bytes.data(), d.host_logits(), logits_bytes.size());
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
            DeviceBuffer<float> dglp(c.glp);
            for (bool in_place : {false, true}) {
                const std::string what =
                    std::string("token_logprobs_backward: ") + c.name + dt + (in_place ? " in place" : " out of place");
                const BackwardRun cpu = run_backward_cpu(d, c.glp, in_place);
                const BackwardRun gpu = run_backward_device(d, dev, dglp, in_place);
                expect_same_error(what, cpu.status, gpu.status);
                ++g_checks;
                if (gpu.status.message.rfind(c.message, 0) != 0) fail_check(what + ": expected '" + c.message + "...'");
                expect_untouched(what + " grad_logits",
                                 in_place ? logits_bytes : std::vector<unsigned char>(logits_bytes.size(), 0x5A),
                                 gpu.grad_raw);
            }
        }
        // With the bad logit's row at gradLogp 0 too, nothing bad is read: accepted, the two rows zero.
        std::vector<float> ok = cases.back().glp;
        ok[31] = 0.0f;
        LogitsDevice dev(d);
        DeviceBuffer<float> dglp(ok);
        const BackwardRun cpu = run_backward_cpu(d, ok, true);
        const BackwardRun gpu = run_backward_device(d, dev, dglp, true);
        const std::string what = "token_logprobs_backward: zero rows are not read" + dt;
        if (expect_ok(what, cpu.status, gpu.status)) {
            validate_result(what, cpu.grad, gpu.grad,
                            (dtype == SPO4J_DTYPE_BF16 ? 1e-3 : 1e-5) * (max_abs(ok) / d.temperature + 1e-30),
                            dtype == SPO4J_DTYPE_BF16 ? 1e-2 : 2e-4);
            ++g_checks;
            size_t nonzero = 0;
            for (int64_t row : {int64_t{20}, int64_t{31}})
                for (int64_t j = 0; j < d.v; ++j) nonzero += gpu.grad[static_cast<size_t>(row * d.v + j)] != 0.0f;
            if (nonzero > 0)
                fail_check("token_logprobs_backward: a zero-gradLogp row is not zero" + dt);
            else
                std::printf("  ok  %s\n", what.c_str());
        }
    }
}

// ---- timing --------------------------------------------------------------------------------------

void run_timings(Rng& rng) {
    const bool small = g_mode.cpu_only;  // --cpu-only: small shapes, to run the timing code, not to measure
    std::printf("timings (medians; the device time includes the final synchronisation and stats copy)%s\n",
                small ? ", small shapes" : "");
    copy_bandwidth_gbs(small ? size_t{1} << 24 : size_t{1} << 30);
    const std::vector<NamedConfig> cfgs = configs();
    for (int ci : {0, 1}) {
        const NamedConfig& cfg = cfgs[ci];
        const int64_t n = small ? int64_t{1} << 14 : int64_t{1} << 22;
        TokenData d = make_tokens(n, OFFS_RAGGED, 1, rng);
        TokenDevice dev(d);
        std::vector<float> grad(n);
        double stats[SPO4J_PL_NUM_STATS];
        int status = SPO4J_OK;
        const double cpu = time_host_ms(
            [&] {
                status |= spo4j_policy_loss_tokens(SPO4J_DEVICE_CPU, n, d.b, d.offs.data(), d.logp.data(),
                                                   d.old_logp.data(), d.ref_logp.data(), d.adv.data(), d.valid.data(),
                                                   &cfg.c, grad.data(), stats, nullptr);
            },
            small ? 1 : 5);
        const double gpu = time_device_ms(
            [&] {
                status |= spo4j_policy_loss_tokens(device(), n, d.b, dev.offs.get(), dev.logp.get(), dev.old_logp.get(),
                                                   dev.ref_logp.get(), dev.adv.get(), dev.valid.get(), &cfg.c,
                                                   dev.grad.get(), stats, nullptr);
            },
            small ? 1 : 20);
        if (status != SPO4J_OK) fail_check(std::string("policy_loss_tokens timing: ") + spo4j_last_error());
        // compulsory traffic: logp, oldLogp, refLogp, advantages, valid read once, gradient written once
        const double bytes = static_cast<double>(n) * (4 * 4 + 1 + 4);
        char shape[96];
        std::snprintf(shape, sizeof shape, "N=%" PRId64 " B=%d cfg=%d", n, d.b, ci);
        print_timing("policy_loss_tokens", shape, cpu, gpu, bytes, n, "token");
    }
    struct Big {
        int64_t n, v;
        int dtype;
    };
    const std::vector<Big> bigs = small ? std::vector<Big>{{64, 1000, SPO4J_DTYPE_F32}, {64, 1000, SPO4J_DTYPE_BF16}}
                                        : std::vector<Big>{{4096, 32000, SPO4J_DTYPE_F32},
                                                           {1024, 151936, SPO4J_DTYPE_F32},
                                                           {4096, 151936, SPO4J_DTYPE_BF16},
                                                           {65536, 1024, SPO4J_DTYPE_BF16}};
    for (const Big& bg : bigs) {
        LogitsData d = make_logits(bg.n, bg.v, bg.dtype, SPO4J_DTYPE_I64, 1.0f, OFFS_RAGGED, 1, rng);
        LogitsDevice dev(d);
        const NamedConfig& cfg = cfgs[0];
        const size_t bytes = d.logits_bytes();
        std::vector<unsigned char> grad(bytes);
        std::vector<float> lp(d.n), en(d.n);
        double stats[SPO4J_PL_NUM_STATS];
        char shape[96];
        std::snprintf(shape, sizeof shape, "N=%" PRId64 " V=%" PRId64 " %s", bg.n, bg.v, dtype_name(bg.dtype));
        const int cpu_reps = small || bytes > (size_t{1} << 30) ? 1 : 3;
        const int dev_reps = small ? 1 : 10;
        int status = SPO4J_OK;
        const double cpu = time_host_ms(
            [&] {
                status |= spo4j_policy_loss_logits(
                    SPO4J_DEVICE_CPU, d.n, d.v, d.tok.b, d.tok.offs.data(), d.host_logits(), d.dtype, d.host_targets(),
                    d.tdtype, 1.0f, d.tok.old_logp.data(), d.tok.ref_logp.data(), d.tok.adv.data(), d.tok.valid.data(),
                    &cfg.c, grad.data(), lp.data(), en.data(), stats, nullptr);
            },
            cpu_reps);
        const double gpu = time_device_ms(
            [&] {
                status |= spo4j_policy_loss_logits(
                    device(), d.n, d.v, d.tok.b, dev.tok.offs.get(), dev.logits.get(), d.dtype, dev.targets.get(),
                    d.tdtype, 1.0f, dev.tok.old_logp.get(), dev.tok.ref_logp.get(), dev.tok.adv.get(),
                    dev.tok.valid.get(), &cfg.c, dev.grad.get(), dev.logp.get(), dev.entropy.get(), stats, nullptr);
            },
            dev_reps);
        // logits read twice (row pass, gradient pass), gradient written once
        print_timing("policy_loss_logits", shape, cpu, gpu, 3.0 * static_cast<double>(bytes), d.n, "token");
        const double cpu_lp = time_host_ms(
            [&] {
                status |=
                    spo4j_policy_loss_token_logprobs(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(), d.dtype,
                                                     d.host_targets(), d.tdtype, 1.0f, lp.data(), en.data(), nullptr);
            },
            cpu_reps);
        const double gpu_lp = time_device_ms(
            [&] {
                status |=
                    spo4j_policy_loss_token_logprobs(device(), d.n, d.v, dev.logits.get(), d.dtype, dev.targets.get(),
                                                     d.tdtype, 1.0f, dev.logp.get(), dev.entropy.get(), nullptr);
            },
            dev_reps);
        print_timing("token_logprobs", shape, cpu_lp, gpu_lp, static_cast<double>(bytes), d.n, "token");
        // backward: logits read once, gradient written once (in place here: the logits become the gradient)
        const std::vector<float> glp = make_grad_logp(d.n, rng);
        DeviceBuffer<float> dglp(glp);
        const double cpu_bw = time_host_ms(
            [&] {
                status |= spo4j_policy_loss_token_logprobs_backward(SPO4J_DEVICE_CPU, d.n, d.v, d.host_logits(),
                                                                    d.dtype, d.host_targets(), d.tdtype, 1.0f,
                                                                    glp.data(), grad.data(), nullptr);
            },
            cpu_reps);
        const double gpu_bw = time_device_ms(
            [&] {
                status |= spo4j_policy_loss_token_logprobs_backward(device(), d.n, d.v, dev.logits.get(), d.dtype,
                                                                    dev.targets.get(), d.tdtype, 1.0f, dglp.get(),
                                                                    dev.grad.get(), nullptr);
            },
            dev_reps);
        print_timing("token_logprobs_backward", shape, cpu_bw, gpu_bw, 2.0 * static_cast<double>(bytes), d.n, "token");
        if (status != SPO4J_OK) fail_check(std::string("logits timings ") + shape + ": " + spo4j_last_error());
    }
}

}  // namespace

// ---- main ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    return run_main(
        argc, argv, "spo4j_check_policy_loss",
        [](Rng& rng) {
            check_tokens(rng);
            check_logits(rng);
            check_error_paths(rng);
        },
        run_timings);
}
