// kv_cache check: the CUDA paged-KV-cache write and block copy against the CPU kernels, bit for bit, through
// the C API.
//
//   spo4j_check_kv_cache [--cpu-only] [--no-timing] [results.csv]
//
// The reference is the library's CPU path (SPO4J_DEVICE_CPU), which the Java tests check against a model of
// the pool (KvCacheModelTest, KvCacheLayoutTest); here a plain loop over the layout formula of spo4j_api.h
// is a second oracle for it. The two entries only move floats, so the caches must agree bit for bit (NaN
// payloads and −0 included: K and V values are stored as given) after every run of random writes (ragged
// token counts, distinct random slots, empty writes) and copy-on-write batches (one source forked into
// several blocks, partial and empty slot counts), on odd shapes (block size 1, head dim 1 and 111, one KV
// head, 99 blocks). Also: bad writes and copies (same status and message as the CPU, cache untouched), and
// CUDA-event timings of decode and prefill writes and of a copy batch. See check_common.h (harness, exit
// codes).
#include "check_common.h"

using namespace check;

namespace {

// ---- inputs --------------------------------------------------------------------------------------

struct KvShape {
    int32_t layers, blocks, block_size, kv_heads, head_dim;
    int64_t row() const { return static_cast<int64_t>(kv_heads) * head_dim; }
    int64_t slots() const { return static_cast<int64_t>(blocks) * block_size; }
    int64_t floats() const { return 2 * layers * slots() * row(); }
    // The first float of the K (kv = 0) or V (kv = 1) row of flat slot `slot` in `layer`, as spo4j_api.h.
    int64_t offset(int32_t layer, int kv, int64_t slot) const { return ((layer * 2LL + kv) * slots() + slot) * row(); }
    std::string name() const {
        char s[96];
        std::snprintf(s, sizeof s, "L=%d blocks=%d block=%d Hkv=%d D=%d", layers, blocks, block_size, kv_heads,
                      head_dim);
        return s;
    }
};

// Floats as K/V activations come, plus the values whose bits a copy must keep: NaNs with several payloads
// and signs, ±0, ±inf, subnormals.
std::vector<float> kv_values(int64_t n, FastUniform& fast) {
    static const uint32_t kSpecial[] = {0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x7fbfffffu, 0x80000000u,
                                        0x00000000u, 0x7f800000u, 0xff800000u, 0x00000001u, 0x807fffffu};
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) {
        const float u = fast.next();
        if (u < 0.01f)
            std::memcpy(&x, &kSpecial[static_cast<int>(fast.next() * 10) % 10], 4);
        else
            x = fast.about_normal();
    }
    return v;
}

// n distinct slots of [0, slots), in random order (a partial Fisher-Yates shuffle).
std::vector<int32_t> distinct_slots(int64_t n, int64_t slots, Rng& rng) {
    if (n > slots) {
        std::fprintf(stderr, "distinct_slots: %lld of %lld\n", static_cast<long long>(n),
                     static_cast<long long>(slots));
        std::exit(kExitSetup);
    }
    std::vector<int32_t> all(static_cast<size_t>(slots));
    for (int64_t i = 0; i < slots; ++i) all[static_cast<size_t>(i)] = static_cast<int32_t>(i);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = std::uniform_int_distribution<int64_t>(i, slots - 1)(rng);
        std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(j)]);
    }
    all.resize(static_cast<size_t>(n));
    return all;
}

struct Write {
    int32_t layer = 0;
    std::vector<int32_t> slots;
    std::vector<float> k, v;  // [tokens, Hkv, D]
    int64_t tokens() const { return static_cast<int64_t>(slots.size()); }
};

struct Copies {
    std::vector<int32_t> src, dst, slots_to_copy;
    int32_t count() const { return static_cast<int32_t>(src.size()); }
};

// A random write: up to three blocks' worth of tokens (sometimes none) into distinct random slots.
Write random_write(const KvShape& s, Rng& rng, FastUniform& fast) {
    Write w;
    w.layer = std::uniform_int_distribution<int32_t>(0, s.layers - 1)(rng);
    const int64_t max_tokens = std::min<int64_t>(s.slots(), 3LL * s.block_size + 2);
    const int64_t n = std::uniform_int_distribution<int64_t>(0, max_tokens)(rng);
    w.slots = distinct_slots(n, s.slots(), rng);
    w.k = kv_values(n * s.row(), fast);
    w.v = kv_values(n * s.row(), fast);
    return w;
}

// A random copy-on-write batch: distinct destinations that are never sources; some sources forked into
// several destinations; slot counts from 0 to the block size.
Copies random_copies(const KvShape& s, Rng& rng) {
    Copies c;
    const int32_t max_copies = std::min(6, s.blocks / 2);
    const int32_t n = std::uniform_int_distribution<int32_t>(0, max_copies)(rng);
    const std::vector<int32_t> blocks = distinct_slots(2 * n, s.blocks, rng);  // n sources, then n destinations
    for (int32_t i = 0; i < n; ++i) {
        const bool fork = i > 0 && std::uniform_int_distribution<int>(0, 2)(rng) == 0;
        c.src.push_back(fork ? c.src[static_cast<size_t>(i - 1)] : blocks[static_cast<size_t>(i)]);
        c.dst.push_back(blocks[static_cast<size_t>(n + i)]);
        c.slots_to_copy.push_back(std::uniform_int_distribution<int32_t>(0, s.block_size)(rng));
    }
    return c;
}

// ---- CPU reference -------------------------------------------------------------------------------

Status write_cpu(const KvShape& s, std::vector<float>& cache, Write& w) {
    return capture(spo4j_kv_cache_write(SPO4J_DEVICE_CPU, cache.data(), s.layers, s.blocks, s.block_size, s.kv_heads,
                                        s.head_dim, w.layer, w.tokens(), host_or_null(w.slots), host_or_null(w.k),
                                        host_or_null(w.v), nullptr));
}

Status copy_cpu(const KvShape& s, std::vector<float>& cache, Copies& c) {
    return capture(spo4j_kv_cache_copy_blocks(SPO4J_DEVICE_CPU, cache.data(), s.layers, s.blocks, s.block_size,
                                              s.kv_heads, s.head_dim, c.count(), host_or_null(c.src),
                                              host_or_null(c.dst), host_or_null(c.slots_to_copy), nullptr));
}

// The layout formula as a plain loop: the oracle of the CPU path.
void write_model(const KvShape& s, std::vector<float>& cache, const Write& w) {
    for (int64_t t = 0; t < w.tokens(); ++t)
        for (int kv = 0; kv < 2; ++kv)
            std::memcpy(&cache[static_cast<size_t>(s.offset(w.layer, kv, w.slots[static_cast<size_t>(t)]))],
                        &(kv == 0 ? w.k : w.v)[static_cast<size_t>(t * s.row())],
                        static_cast<size_t>(s.row()) * sizeof(float));
}

void copy_model(const KvShape& s, std::vector<float>& cache, const Copies& c) {
    for (int32_t i = 0; i < c.count(); ++i)
        for (int32_t l = 0; l < s.layers; ++l)
            for (int kv = 0; kv < 2; ++kv)
                for (int32_t slot = 0; slot < c.slots_to_copy[static_cast<size_t>(i)]; ++slot) {
                    const int64_t from = static_cast<int64_t>(c.src[static_cast<size_t>(i)]) * s.block_size + slot;
                    const int64_t to = static_cast<int64_t>(c.dst[static_cast<size_t>(i)]) * s.block_size + slot;
                    std::memcpy(&cache[static_cast<size_t>(s.offset(l, kv, to))],
                                &cache[static_cast<size_t>(s.offset(l, kv, from))],
                                static_cast<size_t>(s.row()) * sizeof(float));
                }
}

// ---- kernel launch -------------------------------------------------------------------------------

// k and v go to the checked side; slots stay on the host (the API reads index arrays on the host).
Status write_device(const KvShape& s, DeviceBuffer<float>& cache, Write& w, void* stream = nullptr) {
    DeviceBuffer<float> k(w.k), v(w.v);
    return capture(spo4j_kv_cache_write(device(), cache.get(), s.layers, s.blocks, s.block_size, s.kv_heads, s.head_dim,
                                        w.layer, w.tokens(), host_or_null(w.slots), k.get_if(!w.k.empty()),
                                        v.get_if(!w.v.empty()), stream));
}

Status copy_device(const KvShape& s, DeviceBuffer<float>& cache, Copies& c, void* stream = nullptr) {
    return capture(spo4j_kv_cache_copy_blocks(device(), cache.get(), s.layers, s.blocks, s.block_size, s.kv_heads,
                                              s.head_dim, c.count(), host_or_null(c.src), host_or_null(c.dst),
                                              host_or_null(c.slots_to_copy), stream));
}

// ---- validation ----------------------------------------------------------------------------------

// Random writes and copies on the model, the CPU and the checked side; the three caches compared bit for
// bit every 25 operations and at the end. Every other operation goes on a second stream.
void check_random_operations(const KvShape& s, int steps, Rng& rng) {
    const int before = g_failures;
    const std::string label = "random writes and copies " + s.name() + " x" + std::to_string(steps);
    FastUniform fast(rng());
    std::vector<float> model = kv_values(s.floats(), fast), cpu = model;
    DeviceBuffer<float> dev(model);
    Stream stream;
    int writes = 0, copies = 0, rows = 0;
    for (int step = 0; step < steps && g_failures == before; ++step) {
        void* on = step % 2 == 0 ? nullptr : stream.get();
        if (std::uniform_int_distribution<int>(0, 9)(rng) < 6) {
            Write w = random_write(s, rng, fast);
            write_model(s, model, w);
            const Status a = write_cpu(s, cpu, w), b = write_device(s, dev, w, on);
            expect_ok(label + " write #" + std::to_string(step), a, b);
            ++writes;
            rows += static_cast<int>(w.tokens());
        } else {
            Copies c = random_copies(s, rng);
            copy_model(s, model, c);
            const Status a = copy_cpu(s, cpu, c), b = copy_device(s, dev, c, on);
            expect_ok(label + " copy #" + std::to_string(step), a, b);
            ++copies;
        }
        if (step % 25 == 24 || step == steps - 1) {
            const std::string at = label + " after op " + std::to_string(step);
            expect_bits(at + " cpu vs model", model, cpu, "model", "cpu");
            expect_bits(at + " cache", cpu, dev.download());
        }
    }
    if (g_failures == before)
        std::printf("  ok  %s (%d writes of %d rows, %d copy batches)\n", label.c_str(), writes, rows, copies);
}

// Zero tokens and zero copies: accepted, nothing written (null index arrays allowed).
void check_empty_calls(const KvShape& s, Rng& rng) {
    const int before = g_failures;
    FastUniform fast(rng());
    std::vector<float> cpu = kv_values(s.floats(), fast);
    const std::vector<float> start = cpu;
    DeviceBuffer<float> dev(cpu);
    Write w;
    Copies c;
    expect_ok("empty write", write_cpu(s, cpu, w), write_device(s, dev, w));
    expect_ok("empty copy batch", copy_cpu(s, cpu, c), copy_device(s, dev, c));
    expect_untouched("empty calls: cpu cache", start, cpu);
    expect_untouched("empty calls: cache", start, dev.download());
    report_case("empty write and copy batch " + s.name(), before);
}

void check_operations(Rng& rng) {
    std::printf("kv cache: random writes and copies (bit for bit)\n");
    const KvShape shapes[] = {{1, 300, 1, 1, 1}, {2, 120, 3, 2, 3},  {3, 40, 16, 4, 8},
                              {2, 90, 7, 3, 5},  {1, 99, 4, 1, 111}, {4, 64, 16, 8, 64}};
    for (const KvShape& s : shapes) check_random_operations(s, 300, rng);
    check_empty_calls(shapes[1], rng);
}

void check_error_paths(Rng& rng) {
    std::printf("kv cache error paths (same status and message on both sides, cache untouched)\n");
    const KvShape s{2, 10, 4, 2, 4};
    FastUniform fast(rng());
    const std::vector<float> start = kv_values(s.floats(), fast);
    // Each case: a name and the call it makes on one side (the shape, layer and arrays it passes).
    struct Case {
        const char* name;
        std::function<void(KvShape&, Write&, Copies&)> mutate;
        bool copy;  // the copy entry, else the write entry
    };
    auto good_write = [&] {
        Write w;
        w.layer = 1;
        w.slots = {3, 0, 39, 17};
        w.k = kv_values(4 * s.row(), fast);
        w.v = kv_values(4 * s.row(), fast);
        return w;
    };
    auto good_copies = [] {
        Copies c;
        c.src = {0, 0, 5};
        c.dst = {1, 2, 6};
        c.slots_to_copy = {4, 2, 0};
        return c;
    };
    const std::vector<Case> cases = {
        {"layer = numLayers", [](KvShape&, Write& w, Copies&) { w.layer = 2; }, false},
        {"layer -1", [](KvShape&, Write& w, Copies&) { w.layer = -1; }, false},
        {"slot out of range", [](KvShape&, Write& w, Copies&) { w.slots[2] = 40; }, false},
        {"negative slot", [](KvShape&, Write& w, Copies&) { w.slots[1] = -1; }, false},
        {"slot twice", [](KvShape&, Write& w, Copies&) { w.slots[3] = 3; }, false},
        {"more tokens than slots",
         [](KvShape&, Write& w, Copies&) {
             w.slots.resize(41);
             w.k.resize(41 * 8);
             w.v.resize(41 * 8);
         },
         false},
        {"k null", [](KvShape&, Write& w, Copies&) { w.k.clear(); }, false},
        {"numLayers 0", [](KvShape& sh, Write&, Copies&) { sh.layers = 0; }, false},
        {"blockSize 0", [](KvShape& sh, Write&, Copies&) { sh.block_size = 0; }, true},
        {"numBlocks x blockSize past int32",
         [](KvShape& sh, Write&, Copies&) {
             sh.blocks = 1 << 20;
             sh.block_size = 1 << 12;
         },
         true},
        {"copy onto itself", [](KvShape&, Write&, Copies& c) { c.dst[1] = 0; }, true},
        {"src out of range", [](KvShape&, Write&, Copies& c) { c.src[2] = 10; }, true},
        {"dst out of range", [](KvShape&, Write&, Copies& c) { c.dst[0] = -1; }, true},
        {"dst twice", [](KvShape&, Write&, Copies& c) { c.dst[2] = 1; }, true},
        {"dst also a src", [](KvShape&, Write&, Copies& c) { c.src[1] = 6; }, true},
        {"slotsToCopy > blockSize", [](KvShape&, Write&, Copies& c) { c.slots_to_copy[1] = 5; }, true},
        {"slotsToCopy -1", [](KvShape&, Write&, Copies& c) { c.slots_to_copy[0] = -1; }, true},
    };
    for (const Case& k : cases) {
        KvShape sh = s;
        Write w = good_write();
        Copies c = good_copies();
        k.mutate(sh, w, c);
        std::vector<float> cpu = start;
        DeviceBuffer<float> dev(start);
        // The cache buffer stays the real shape's: a rejected call reads none of it.
        const Status a = k.copy ? copy_cpu(sh, cpu, c) : write_cpu(sh, cpu, w);
        const Status b = k.copy ? copy_device(sh, dev, c) : write_device(sh, dev, w);
        const std::string what = std::string(k.copy ? "copy_blocks: " : "write: ") + k.name;
        expect_same_error(what, a, b);
        expect_untouched(what + " cpu cache", start, cpu);
        expect_untouched(what + " cache", start, dev.download());
    }
}

// ---- timing --------------------------------------------------------------------------------------

void run_timings(Rng& rng) {
    const bool small = g_mode.cpu_only;  // --cpu-only: small shapes, to run the timing code, not to measure
    std::printf("kv cache timings (medians; the device time includes copying the index arrays over)%s\n",
                small ? ", small shapes" : "");
    copy_bandwidth_gbs(small ? size_t{1} << 24 : size_t{1} << 30);
    // A 2 GiB cache: 8 layers, 2048 blocks of 16 slots, 8 KV heads of 128 floats.
    const KvShape s = small ? KvShape{2, 64, 16, 2, 16} : KvShape{8, 2048, 16, 8, 128};
    FastUniform fast(rng());
    std::vector<float> cpu(static_cast<size_t>(s.floats()), 0.0f);
    DeviceBuffer<float> dev(cpu);
    for (int64_t tokens : small ? std::vector<int64_t>{16, 256} : std::vector<int64_t>{256, 4096}) {
        Write w;
        w.layer = s.layers - 1;
        w.slots = distinct_slots(tokens, s.slots(), rng);
        w.k = kv_values(tokens * s.row(), fast);
        w.v = kv_values(tokens * s.row(), fast);
        DeviceBuffer<float> k(w.k), v(w.v);
        int status = SPO4J_OK;
        const double cpu_ms = time_host_ms([&] { status |= write_cpu(s, cpu, w).code; }, small ? 1 : 20);
        const double dev_ms = time_device_ms(
            [&] {
                status |= spo4j_kv_cache_write(device(), dev.get(), s.layers, s.blocks, s.block_size, s.kv_heads,
                                               s.head_dim, w.layer, tokens, w.slots.data(), k.get(), v.get(), nullptr);
            },
            small ? 1 : 20);
        if (status != SPO4J_OK) fail_check(std::string("kv write timing: ") + spo4j_last_error());
        // K and V rows read once and written once
        const double bytes = 2.0 * 2.0 * static_cast<double>(tokens * s.row()) * 4.0;
        print_timing("kv_cache_write", s.name() + " tokens=" + std::to_string(tokens), cpu_ms, dev_ms, bytes, tokens,
                     "token");
    }
    {
        // Copy-on-write of 64 full blocks (small: 16), every layer, K and V (a tree level forking its tails).
        const int n = small ? 16 : 64;
        Copies c;
        const std::vector<int32_t> blocks = distinct_slots(2 * n, s.blocks, rng);
        for (int i = 0; i < n; ++i) {
            c.src.push_back(blocks[static_cast<size_t>(i)]);
            c.dst.push_back(blocks[static_cast<size_t>(n + i)]);
            c.slots_to_copy.push_back(s.block_size);
        }
        int status = SPO4J_OK;
        const double cpu_ms = time_host_ms([&] { status |= copy_cpu(s, cpu, c).code; }, small ? 1 : 20);
        const double dev_ms = time_device_ms([&] { status |= copy_device(s, dev, c).code; }, small ? 1 : 20);
        if (status != SPO4J_OK) fail_check(std::string("kv copy timing: ") + spo4j_last_error());
        const double bytes = 2.0 * n * s.layers * 2.0 * static_cast<double>(s.block_size * s.row()) * 4.0;
        print_timing("kv_cache_copy_blocks", s.name() + " copies=" + std::to_string(n) + " full", cpu_ms, dev_ms, bytes,
                     n, "block");
    }
}

}  // namespace

// ---- main ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    return run_main(
        argc, argv, "spo4j_check_kv_cache",
        [](Rng& rng) {
            check_operations(rng);
            check_error_paths(rng);
        },
        run_timings);
}
