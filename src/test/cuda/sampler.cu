// sampler check: the CUDA sampler against the CPU kernel, through the C API: the same token in every row and
// the log-prob within 1e-6, for the same seed.
//
//   spo4j_check_sampler [--cpu-only] [--no-timing] [results.csv]
//
// The reference is the library's CPU path (SPO4J_DEVICE_CPU), which the Java tests check token for token
// against the pure Java reference (SamplerKernelTest, SamplerStatisticsTest). The draw is a function of the
// row's logits, the config, the seed, the row's sequence id and position (Philox4x32-10 on exact integer
// masses), so CPU and CUDA must pick the same tokens. As SamplerCudaTest does from Java: B = 1, 99, 111 and
// V = 1, 2, 111, 50,000 over five row kinds (smooth, peaky, coarse ties, a third masked at −1e30, flat) in
// every mode (plain, temperatures, top-k, top-p, both, greedy), fp32 and bf16; large kept sets at V = 32,000
// and 151,936; an empty batch; masked tokens never drawn; repeat runs, a second stream, rows reversed and
// no log-prob output all giving the same tokens; bad logits and configs rejected with the CPU's status and
// message and nothing written; CUDA-event timings. See check_common.h (harness, exit codes).
#include "check_common.h"

using namespace check;

namespace {

// ---- inputs --------------------------------------------------------------------------------------

constexpr float kMasked = -1e30f;

struct Config {
    float temperature = 1.0f;
    int32_t top_k = 0;
    float top_p = 1.0f;
    int32_t greedy = 0;
    uint64_t seed = 0;
    std::string name() const {
        char s[96];
        std::snprintf(s, sizeof s, "T=%g topK=%d topP=%g%s seed=%llu", temperature, top_k, top_p,
                      greedy ? " greedy" : "", static_cast<unsigned long long>(seed));
        return s;
    }
};

// Every mode at a few temperatures (SamplerData.configs).
std::vector<Config> configs(uint64_t seed) {
    return {{1.0f, 0, 1.0f, 0, seed}, {0.7f, 0, 1.0f, 0, seed}, {1.9f, 0, 1.0f, 0, seed}, {1.0f, 1, 1.0f, 0, seed},
            {1.0f, 5, 1.0f, 0, seed}, {1.0f, 0, 0.9f, 0, seed}, {1.3f, 0, 0.3f, 0, seed}, {0.8f, 40, 0.95f, 0, seed},
            {1.0f, 0, 1.0f, 1, seed}, {0.5f, 0, 1.0f, 1, seed}};
}

// A batch: [B, V] logits (fp32, and their bf16 rounding), sequence ids and positions.
struct Batch {
    int64_t b = 0, v = 1;
    std::vector<float> logits32;
    std::vector<uint16_t> logits16;
    std::vector<int64_t> seq_ids;
    std::vector<int32_t> positions;
    const void* logits(int dtype) const {
        return dtype == SPO4J_DTYPE_BF16 ? static_cast<const void*>(logits16.data()) : logits32.data();
    }
    size_t logits_bytes(int dtype) const { return static_cast<size_t>(b * v) * (dtype == SPO4J_DTYPE_BF16 ? 2 : 4); }
    void finish(Rng& rng) {
        logits16.resize(logits32.size());
        for (size_t i = 0; i < logits32.size(); ++i) logits16[i] = to_bf16(logits32[i]);
        seq_ids.resize(static_cast<size_t>(b));
        positions.resize(static_cast<size_t>(b));
        for (int64_t i = 0; i < b; ++i) {
            seq_ids[static_cast<size_t>(i)] = static_cast<int64_t>(rng());
            positions[static_cast<size_t>(i)] = static_cast<int32_t>(rng() % (1u << 20));
        }
    }
};

// Row r of kind r % 5: 0 smooth (N(0, 2.5²)); 1 peaky (one logit raised by 12); 2 coarse ties (multiples of
// 0.5 in [-3, 3]: many equal masses); 3 a third of the tokens masked at −1e30 (mass 0), the rest N(0, 1);
// 4 flat (all equal: the order is by index alone). As the Java tests' SamplerData.
Batch make_batch(int64_t b, int64_t v, Rng& rng) {
    Batch d;
    d.b = b;
    d.v = v;
    d.logits32.resize(static_cast<size_t>(b * v));
    std::normal_distribution<float> g(0.0f, 1.0f);
    for (int64_t r = 0; r < b; ++r) {
        const int kind = static_cast<int>(r % 5);
        const int64_t top = std::uniform_int_distribution<int64_t>(0, v - 1)(rng);
        for (int64_t i = 0; i < v; ++i) {
            float x;
            switch (kind) {
                case 0:
                    x = 2.5f * g(rng);
                    break;
                case 1:
                    x = g(rng) + (i == top ? 12.0f : 0.0f);
                    break;
                case 2:
                    x = 0.5f * static_cast<float>(static_cast<int>(rng() % 13) - 6);
                    break;
                case 3:
                    x = i != top && rng() % 3 == 0 ? kMasked : g(rng);
                    break;
                default:
                    x = 0.25f;
            }
            d.logits32[static_cast<size_t>(r * v + i)] = x;
        }
    }
    d.finish(rng);
    return d;
}

// Rows of different scales over a real vocabulary: large kept sets for top-p near 1 and top-k in the
// thousands (SamplerCudaTest.largeKeptSetsAndRealVocabularies).
Batch make_wide_batch(int64_t b, int64_t v, Rng& rng) {
    Batch d;
    d.b = b;
    d.v = v;
    d.logits32.resize(static_cast<size_t>(b * v));
    for (size_t i = 0; i < d.logits32.size(); ++i)
        d.logits32[i] =
            static_cast<float>(std::sin(static_cast<double>(i) * 0.37) * (1 + static_cast<int64_t>(i) / v % 4));
    d.finish(rng);
    return d;
}

// The same batch with its rows in reverse order (logits, ids and positions together).
Batch reversed(const Batch& d) {
    Batch r = d;
    for (int64_t i = 0; i < d.b; ++i) {
        const int64_t j = d.b - 1 - i;
        std::memcpy(&r.logits32[static_cast<size_t>(i * d.v)], &d.logits32[static_cast<size_t>(j * d.v)],
                    static_cast<size_t>(d.v) * 4);
        std::memcpy(&r.logits16[static_cast<size_t>(i * d.v)], &d.logits16[static_cast<size_t>(j * d.v)],
                    static_cast<size_t>(d.v) * 2);
        r.seq_ids[static_cast<size_t>(i)] = d.seq_ids[static_cast<size_t>(j)];
        r.positions[static_cast<size_t>(i)] = d.positions[static_cast<size_t>(j)];
    }
    return r;
}

struct Draw {
    Status status;
    std::vector<int32_t> tokens;
    std::vector<float> logprobs;
};

// ---- CPU reference -------------------------------------------------------------------------------

// Outputs start as sentinels (-7), so what a call writes, or leaves alone, shows.
Draw sample_cpu(Batch& d, int dtype, const Config& c, bool with_logprobs = true) {
    Draw r;
    r.tokens.assign(static_cast<size_t>(d.b), -7);
    r.logprobs.assign(with_logprobs ? static_cast<size_t>(d.b) : 0, -7.0f);
    r.status =
        capture(spo4j_sampler_sample(SPO4J_DEVICE_CPU, d.b, d.v, d.logits(dtype), dtype, host_ptr(d.seq_ids),
                                     host_ptr(d.positions), c.temperature, c.top_k, c.top_p, c.greedy, c.seed,
                                     host_ptr(r.tokens), with_logprobs ? host_ptr(r.logprobs) : nullptr, nullptr));
    return r;
}

// ---- kernel launch -------------------------------------------------------------------------------

// Logits, ids, positions, tokens and log-probs all on the checked side.
struct BatchDevice {
    DeviceBuffer<unsigned char> logits;
    DeviceBuffer<int64_t> seq_ids;
    DeviceBuffer<int32_t> positions;
    int dtype;
    BatchDevice(const Batch& d, int dtype_)
        : logits(d.logits_bytes(dtype_)), seq_ids(d.seq_ids), positions(d.positions), dtype(dtype_) {
        logits.upload_bytes(d.logits(dtype), d.logits_bytes(dtype));
    }
};

int call_device(const Batch& d, const BatchDevice& dev, const Config& c, int32_t* tokens, float* logprobs,
                void* stream) {
    return spo4j_sampler_sample(device(), d.b, d.v, dev.logits.get(), dev.dtype, dev.seq_ids.get(), dev.positions.get(),
                                c.temperature, c.top_k, c.top_p, c.greedy, c.seed, tokens, logprobs, stream);
}

Draw sample_device(const Batch& d, const BatchDevice& dev, const Config& c, bool with_logprobs = true,
                   void* stream = nullptr) {
    DeviceBuffer<int32_t> tokens(std::vector<int32_t>(static_cast<size_t>(d.b), -7));
    DeviceBuffer<float> logprobs(std::vector<float>(static_cast<size_t>(d.b), -7.0f));
    Draw r;
    r.status = capture(call_device(d, dev, c, tokens.get(), with_logprobs ? logprobs.get() : nullptr, stream));
    r.tokens = tokens.download();
    if (with_logprobs) r.logprobs = logprobs.download();
    return r;
}

// ---- validation ----------------------------------------------------------------------------------

// The same tokens, and log-probs within 1e-6 (SamplerKernelTest.assertSame).
void expect_same_draw(const std::string& label, const Draw& cpu, const Draw& dev) {
    if (!expect_ok(label, cpu.status, dev.status)) return;
    expect_bits(label + " tokens", cpu.tokens, dev.tokens);
    validate_result(label + " logprobs", cpu.logprobs, dev.logprobs, 1e-6, 0.0);
}

void check_batch(Batch& d, int dtype, const Config& c, const std::string& label) {
    const int before = g_failures;
    const Draw cpu = sample_cpu(d, dtype, c);
    const BatchDevice dev(d, dtype);
    const Draw gpu = sample_device(d, dev, c);
    expect_same_draw(label, cpu, gpu);
    // A masked token (logit −1e30: mass 0) is never drawn, unless greedy has nothing better (it never has:
    // every row keeps an unmasked top).
    ++g_checks;
    int64_t masked = 0;
    for (int64_t r = 0; r < d.b && gpu.status.code == SPO4J_OK; ++r) {
        const int32_t t = gpu.tokens[static_cast<size_t>(r)];
        if (t < 0 || t >= d.v) {
            ++masked;
            continue;
        }
        masked += d.logits32[static_cast<size_t>(r * d.v + t)] == kMasked;
    }
    if (masked > 0) fail_check(label + ": " + std::to_string(masked) + " rows drew a masked or out-of-range token");
    report_case(label, before);
}

void check_shapes(Rng& rng) {
    std::printf("sampler: odd shapes, every mode, fp32 and bf16\n");
    for (int64_t b : {1, 99, 111}) {
        for (int64_t v : {1, 2, 111, 50000}) {
            Batch d = make_batch(b, v, rng);
            for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16})
                for (const Config& c : configs(1000ull * b + v))
                    check_batch(d, dtype, c,
                                "B=" + std::to_string(b) + " V=" + std::to_string(v) + " " + dtype_name(dtype) + " " +
                                    c.name());
        }
    }
}

void check_large_kept_sets(Rng& rng) {
    std::printf("sampler: large kept sets over real vocabularies\n");
    for (int64_t v : {32000, 151936}) {
        Batch d = make_wide_batch(16, v, rng);
        for (float p : {0.5f, 0.95f, 0.999999f, 1.0f})
            for (int32_t k : {0, 50, 7000}) {
                const Config c{1.0f, k, p, 0, 11};
                check_batch(d, SPO4J_DTYPE_F32, c, "B=16 V=" + std::to_string(v) + " " + c.name());
            }
    }
}

void check_invariance(Rng& rng) {
    std::printf("sampler: the same tokens on repeat runs, a second stream, rows reversed, without log-probs\n");
    Batch d = make_batch(111, 50000, rng);
    const Batch r = reversed(d);
    for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
        const Config c{1.0f, 0, 0.95f, 0, 8};
        const std::string label = std::string("B=111 V=50000 ") + dtype_name(dtype) + " " + c.name();
        const int before = g_failures;
        const BatchDevice dev(d, dtype), dev_reversed(r, dtype);
        const Draw first = sample_device(d, dev, c);
        Stream s;
        const Draw again = sample_device(d, dev, c, true, s.get());
        const Draw no_logprobs = sample_device(d, dev, c, false);
        const Draw backwards = sample_device(r, dev_reversed, c);
        if (expect_ok(label, first.status, again.status) && expect_ok(label, no_logprobs.status, backwards.status)) {
            expect_repeatable(label + " tokens", first.tokens, again.tokens);
            expect_repeatable(label + " logprobs", first.logprobs, again.logprobs);
            expect_bits(label + " tokens without logprobs", first.tokens, no_logprobs.tokens, "with", "without");
            std::vector<int32_t> unreversed(backwards.tokens.rbegin(), backwards.tokens.rend());
            expect_bits(label + " tokens of reversed rows", first.tokens, unreversed, "in order", "reversed");
        }
        report_case(label, before);
    }
    {
        // An empty batch: accepted, nothing read or written (no pointer needed).
        const Status a = capture(spo4j_sampler_sample(SPO4J_DEVICE_CPU, 0, 7, nullptr, SPO4J_DTYPE_F32, nullptr,
                                                      nullptr, 1.0f, 0, 1.0f, 0, 1, nullptr, nullptr, nullptr));
        const Status b = capture(spo4j_sampler_sample(device(), 0, 7, nullptr, SPO4J_DTYPE_F32, nullptr, nullptr, 1.0f,
                                                      0, 1.0f, 0, 1, nullptr, nullptr, nullptr));
        if (expect_ok("empty batch", a, b)) std::printf("  ok  empty batch\n");
    }
}

void check_error_paths(Rng& rng) {
    std::printf("sampler error paths (same status and message on both sides, nothing written)\n");
    struct Case {
        const char* name;
        std::function<void(Batch&, Config&, int&)> mutate;
    };
    const std::vector<Case> cases = {
        {"NaN and infinite logits",
         [](Batch& d, Config&, int&) {
             d.logits32[2 * 5 + 3] = NAN;
             d.logits32[3 * 5 + 1] = INFINITY;
         }},
        {"a bf16 NaN",
         [](Batch& d, Config&, int& dtype) {
             dtype = SPO4J_DTYPE_BF16;
             d.logits32[1 * 5 + 4] = NAN;
         }},
        {"a logit that overflows at T = 0.5",
         [](Batch& d, Config& c, int&) {
             d.logits32[3 * 5 + 2] = 3e38f;
             c.temperature = 0.5f;
         }},
        {"temperature 0", [](Batch&, Config& c, int&) { c.temperature = 0.0f; }},
        {"topP 0", [](Batch&, Config& c, int&) { c.top_p = 0.0f; }},
        {"topK -1", [](Batch&, Config& c, int&) { c.top_k = -1; }},
        {"greedy 2", [](Batch&, Config& c, int&) { c.greedy = 2; }},
        {"dtype I32", [](Batch&, Config&, int& dtype) { dtype = SPO4J_DTYPE_I32; }},
    };
    for (const Case& k : cases) {
        Batch d = make_batch(4, 5, rng);
        Config c{1.0f, 0, 1.0f, 0, 1};
        int dtype = SPO4J_DTYPE_F32;
        k.mutate(d, c, dtype);
        d.logits16.resize(d.logits32.size());
        for (size_t i = 0; i < d.logits32.size(); ++i) d.logits16[i] = to_bf16(d.logits32[i]);
        const int data_dtype = dtype == SPO4J_DTYPE_BF16 ? SPO4J_DTYPE_BF16 : SPO4J_DTYPE_F32;
        Draw cpu;
        cpu.tokens.assign(4, -7);
        cpu.logprobs.assign(4, -7.0f);
        cpu.status = capture(spo4j_sampler_sample(SPO4J_DEVICE_CPU, d.b, d.v, d.logits(data_dtype), dtype,
                                                  d.seq_ids.data(), d.positions.data(), c.temperature, c.top_k, c.top_p,
                                                  c.greedy, c.seed, cpu.tokens.data(), cpu.logprobs.data(), nullptr));
        BatchDevice dev(d, data_dtype);
        dev.dtype = dtype;
        const Draw gpu = sample_device(d, dev, c);
        const std::string what = std::string("sampler: ") + k.name;
        expect_same_error(what, cpu.status, gpu.status);
        expect_untouched(what + " cpu tokens", std::vector<int32_t>(4, -7), cpu.tokens);
        expect_untouched(what + " tokens", std::vector<int32_t>(4, -7), gpu.tokens);
        expect_untouched(what + " logprobs", std::vector<float>(4, -7.0f), gpu.logprobs);
    }
}

// ---- timing --------------------------------------------------------------------------------------

void run_timings(Rng& rng) {
    const bool small = g_mode.cpu_only;  // --cpu-only: small shapes, to run the timing code, not to measure
    std::printf("sampler timings (medians; the device time is the whole call: checks, draw, synchronisation)%s\n",
                small ? ", small shapes" : "");
    copy_bandwidth_gbs(small ? size_t{1} << 24 : size_t{1} << 30);
    const std::vector<int64_t> batches = small ? std::vector<int64_t>{4} : std::vector<int64_t>{1, 64, 256};
    const std::vector<int64_t> vocabs = small ? std::vector<int64_t>{1000} : std::vector<int64_t>{32000, 151936};
    for (int64_t v : vocabs) {
        for (int64_t b : batches) {
            Batch d = make_batch(b, v, rng);
            for (int dtype : {SPO4J_DTYPE_F32, SPO4J_DTYPE_BF16}) {
                const BatchDevice dev(d, dtype);
                std::vector<int32_t> tokens(static_cast<size_t>(b));
                std::vector<float> logprobs(static_cast<size_t>(b));
                DeviceBuffer<int32_t> dtokens(tokens.size());
                DeviceBuffer<float> dlogprobs(logprobs.size());
                for (const Config& c : {Config{0.8f, 50, 0.95f, 0, 3}, Config{1.0f, 0, 1.0f, 1, 3}}) {
                    int status = SPO4J_OK;
                    const double cpu_ms = time_host_ms(
                        [&] {
                            status |=
                                spo4j_sampler_sample(SPO4J_DEVICE_CPU, b, v, d.logits(dtype), dtype, d.seq_ids.data(),
                                                     d.positions.data(), c.temperature, c.top_k, c.top_p, c.greedy,
                                                     c.seed, tokens.data(), logprobs.data(), nullptr);
                        },
                        small ? 1 : 10);
                    const double dev_ms = time_device_ms(
                        [&] { status |= call_device(d, dev, c, dtokens.get(), dlogprobs.get(), nullptr); },
                        small ? 1 : 20);
                    if (status != SPO4J_OK) fail_check(std::string("sampler timing: ") + spo4j_last_error());
                    char shape[128];
                    std::snprintf(shape, sizeof shape, "B=%lld V=%lld %s %s", static_cast<long long>(b),
                                  static_cast<long long>(v), dtype_name(dtype),
                                  c.greedy ? "greedy" : "T=0.8 topK=50 topP=0.95");
                    // compulsory traffic: the logits read once
                    print_timing("sampler_sample", shape, cpu_ms, dev_ms, static_cast<double>(d.logits_bytes(dtype)), b,
                                 "row");
                }
            }
        }
    }
}

}  // namespace

// ---- main ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    return run_main(
        argc, argv, "spo4j_check_sampler",
        [](Rng& rng) {
            check_shapes(rng);
            check_large_kept_sets(rng);
            check_invariance(rng);
            check_error_paths(rng);
        },
        run_timings);
}
