// prefix_attention check: the CUDA prefix attention over a paged KV cache against the CPU kernel, through the
// C API.
//
//   spo4j_check_prefix_attention [--cpu-only] [--no-timing] [results.csv]
//
// The reference is the library's CPU path (SPO4J_DEVICE_CPU), which the Java tests check against the dense
// Java reference (PrefixAttentionKernelTest). As PrefixAttentionCudaTest does from Java: paged decode,
// shared-prefix decode and causal prefill plans over a tree of sequences (a prompt, then 3 and 5 branches),
// on odd shapes (head dims 1, 7, 64, 128 and 256; GQA ratios 1 to 8; block sizes 1, 3 and 16; lengths around
// block boundaries; a query that sees no position; an empty plan), out and lse within 1e-4·(1 + |ref|) and
// lse −inf exact; 216 branches at head dim 256 (over 48 KiB of shared memory); shared decode equal to paged
// decode; repeat runs bit-identical; bad inputs (a non-finite q, broken plans) rejected with the CPU's status
// and message and nothing written; CUDA-event timings of paged and shared decode and of prefill. Cache slots
// that no sequence wrote hold NaN, so a kernel reading outside its positions fails the comparison. See
// check_common.h (harness, exit codes).
#include "check_common.h"

using namespace check;

namespace {

// ---- inputs --------------------------------------------------------------------------------------

// A hand-built paged KV cache, as the Java tests' PagedKvScene: sequences as block tables over one host
// allocation in the pool's layout, prefixes shared the pool's way (full blocks by id, the partial tail block
// copied into each child), NaN in every slot no sequence wrote.
struct Scene {
    int32_t layers, kv_heads, head_dim, block_size, num_blocks;
    std::vector<float> cache;
    std::vector<std::vector<int32_t>> tables;
    std::vector<int32_t> lengths;
    int32_t next_block = 0;
    Rng rng;

    Scene(int32_t layers_, int32_t kv_heads_, int32_t head_dim_, int32_t block_size_, int32_t num_blocks_,
          uint64_t seed)
        : layers(layers_),
          kv_heads(kv_heads_),
          head_dim(head_dim_),
          block_size(block_size_),
          num_blocks(num_blocks_),
          rng(seed) {
        cache.assign(static_cast<size_t>(floats()), NAN);
    }
    int64_t floats() const { return 2LL * layers * num_blocks * block_size * kv_heads * head_dim; }
    // The first float of head h of the K (kv = 0) or V (kv = 1) row at (layer, block, slot), as spo4j_api.h.
    size_t offset(int32_t l, int kv, int32_t block, int32_t slot, int32_t h) const {
        return static_cast<size_t>(((((l * 2LL + kv) * num_blocks + block) * block_size + slot) * kv_heads + h) *
                                   head_dim);
    }
    int32_t new_block() {
        if (next_block >= num_blocks) {
            std::fprintf(stderr, "scene needs more than %d blocks\n", num_blocks);
            std::exit(kExitSetup);
        }
        return next_block++;
    }
    // A new sequence of `length` random tokens; returns its index.
    int32_t root(int32_t length) {
        tables.emplace_back();
        lengths.push_back(0);
        const int32_t s = static_cast<int32_t>(tables.size() - 1);
        extend(s, length);
        return s;
    }
    // A child of `parent` sharing its full blocks, with a copy of its partial tail, plus `extra` tokens.
    int32_t fork(int32_t parent, int32_t extra) {
        std::vector<int32_t> table = tables[static_cast<size_t>(parent)];
        const int32_t len = lengths[static_cast<size_t>(parent)];
        if (len % block_size != 0) {
            const int32_t copy = new_block(), tail = table.back();
            for (int32_t l = 0; l < layers; ++l)
                for (int kv = 0; kv < 2; ++kv)
                    for (int32_t slot = 0; slot < len % block_size; ++slot)
                        std::memcpy(&cache[offset(l, kv, copy, slot, 0)], &cache[offset(l, kv, tail, slot, 0)],
                                    sizeof(float) * static_cast<size_t>(kv_heads) * head_dim);
            table.back() = copy;
        }
        tables.push_back(table);
        lengths.push_back(len);
        const int32_t s = static_cast<int32_t>(tables.size() - 1);
        extend(s, extra);
        return s;
    }
    // Appends n random tokens to sequence s (new blocks as needed).
    void extend(int32_t s, int32_t n) {
        std::vector<int32_t>& table = tables[static_cast<size_t>(s)];
        int32_t& len = lengths[static_cast<size_t>(s)];
        std::normal_distribution<float> g(0.0f, 1.0f);
        for (int32_t pos = len; pos < len + n; ++pos) {
            if (pos / block_size >= static_cast<int32_t>(table.size())) table.push_back(new_block());
            const int32_t block = table[static_cast<size_t>(pos / block_size)], slot = pos % block_size;
            for (int32_t l = 0; l < layers; ++l)
                for (int kv = 0; kv < 2; ++kv)
                    for (int32_t i = 0; i < kv_heads * head_dim; ++i) cache[offset(l, kv, block, slot, 0) + i] = g(rng);
        }
        len += n;
    }
    // A full tree: a prompt, then per level every node gets branching[level] children of `segment` tokens;
    // returns the leaves.
    std::vector<int32_t> tree(int32_t prompt, const std::vector<int32_t>& branching, int32_t segment) {
        std::vector<int32_t> frontier{root(prompt)};
        for (int32_t b : branching) {
            std::vector<int32_t> next;
            for (int32_t parent : frontier)
                for (int32_t c = 0; c < b; ++c) next.push_back(fork(parent, segment));
            frontier = next;
        }
        return frontier;
    }
    // Random finite queries [n, q_heads, head_dim].
    std::vector<float> queries(int64_t n, int32_t q_heads) {
        return gaussian(static_cast<size_t>(n * q_heads * head_dim), 0.0f, 1.0f, rng);
    }
};

// A plan in the flat layout of spo4j_prefix_attention (host arrays), built as PrefixAttentionPlan builds it.
struct Plan {
    int32_t num_queries = 0;
    std::vector<int32_t> query_limit, table_offsets{0}, table_blocks, part_table, part_begin, part_end,
        part_query_offsets{0}, part_queries, query_entry_offsets, query_entries;
    int32_t num_tables() const { return static_cast<int32_t>(table_offsets.size() - 1); }
    int32_t num_parts() const { return static_cast<int32_t>(part_table.size()); }

    explicit Plan(int32_t queries) : num_queries(queries), query_limit(static_cast<size_t>(queries), -1) {}
    int32_t table(const std::vector<int32_t>& blocks) {
        table_blocks.insert(table_blocks.end(), blocks.begin(), blocks.end());
        table_offsets.push_back(static_cast<int32_t>(table_blocks.size()));
        return num_tables() - 1;
    }
    void part(int32_t t, int32_t begin, int32_t end, const std::vector<int32_t>& queries) {
        part_table.push_back(t);
        part_begin.push_back(begin);
        part_end.push_back(end);
        part_queries.insert(part_queries.end(), queries.begin(), queries.end());
        part_query_offsets.push_back(static_cast<int32_t>(part_queries.size()));
    }
    // Each query merges its entries in part order.
    void finish() {
        query_entry_offsets.assign(static_cast<size_t>(num_queries) + 1, 0);
        for (int32_t q : part_queries) ++query_entry_offsets[static_cast<size_t>(q) + 1];
        for (int32_t q = 0; q < num_queries; ++q)
            query_entry_offsets[static_cast<size_t>(q) + 1] += query_entry_offsets[static_cast<size_t>(q)];
        query_entries.assign(part_queries.size(), 0);
        std::vector<int32_t> next(query_entry_offsets.begin(), query_entry_offsets.end() - 1);
        for (size_t e = 0; e < part_queries.size(); ++e)
            query_entries[static_cast<size_t>(next[static_cast<size_t>(part_queries[e])]++)] = static_cast<int32_t>(e);
    }
    int32_t shared_parts() const {
        int32_t n = 0;
        for (int32_t p = 0; p < num_parts(); ++p) n += part_query_offsets[p + 1] - part_query_offsets[p] > 1;
        return n;
    }
    // Cached positions read per KV head: each part's visible range once.
    int64_t positions_read() const {
        int64_t n = 0;
        for (int32_t p = 0; p < num_parts(); ++p) {
            int32_t max_limit = 0;
            for (int32_t e = part_query_offsets[p]; e < part_query_offsets[p + 1]; ++e)
                max_limit = std::max(max_limit, query_limit[static_cast<size_t>(part_queries[static_cast<size_t>(e)])]);
            n += std::max(0, std::min(part_end[p], max_limit) - part_begin[p]);
        }
        return n;
    }
};

using Tables = std::vector<std::vector<int32_t>>;

// One part per sequence over [0, length): plain paged decode, query b = sequence b.
Plan decode_plan(const Tables& tables, const std::vector<int32_t>& lengths) {
    Plan p(static_cast<int32_t>(tables.size()));
    for (size_t s = 0; s < tables.size(); ++s) {
        p.query_limit[s] = lengths[s];
        const int32_t t = p.table(tables[s]);
        if (lengths[s] > 0) p.part(t, 0, lengths[s], {static_cast<int32_t>(s)});
    }
    p.finish();
    return p;
}

// Sequences (all longer than pos) split by the block holding position pos, in first-seen order.
std::vector<std::vector<int32_t>> group_by_block(const std::vector<int32_t>& seqs, int32_t pos, const Tables& tables,
                                                 const std::vector<int32_t>& lengths, int32_t block_size) {
    std::vector<std::vector<int32_t>> groups;
    std::vector<bool> taken(seqs.size(), false);
    const size_t k = static_cast<size_t>(pos / block_size);
    for (size_t i = 0; i < seqs.size(); ++i) {
        if (taken[i] || lengths[static_cast<size_t>(seqs[i])] <= pos) continue;
        const int32_t block = tables[static_cast<size_t>(seqs[i])][k];
        std::vector<int32_t> g;
        for (size_t j = i; j < seqs.size(); ++j) {
            const size_t s = static_cast<size_t>(seqs[j]);
            if (!taken[j] && lengths[s] > pos && tables[s][k] == block) {
                taken[j] = true;
                g.push_back(seqs[j]);
            }
        }
        groups.push_back(g);
    }
    return groups;
}

// A run of positions that a group's tables share (same blocks, all long enough) becomes one part for the
// group when it is at least min_shared long; below it, each sequence attends the rest alone.
void share(Plan& p, const std::vector<int32_t>& group, int32_t start, const Tables& tables,
           const std::vector<int32_t>& lengths, int32_t block_size, int32_t min_shared,
           const std::vector<int32_t>& table_of) {
    int32_t end = INT32_MAX;
    for (int32_t s : group) end = std::min(end, lengths[static_cast<size_t>(s)]);
    if (group.size() >= 2) {
        const std::vector<int32_t>& first = tables[static_cast<size_t>(group[0])];
        int64_t k = start / block_size;
        bool same = true;
        while (same && k * block_size < end) {
            for (int32_t s : group) {
                const std::vector<int32_t>& t = tables[static_cast<size_t>(s)];
                if (k >= static_cast<int64_t>(t.size()) || t[static_cast<size_t>(k)] != first[static_cast<size_t>(k)])
                    same = false;
            }
            if (same) ++k;
        }
        end = static_cast<int32_t>(std::min<int64_t>(end, k * block_size));
    }
    if (group.size() < 2 || end - start < min_shared) {
        for (int32_t s : group)
            if (lengths[static_cast<size_t>(s)] > start)
                p.part(table_of[static_cast<size_t>(s)], start, lengths[static_cast<size_t>(s)], {s});
        return;
    }
    p.part(table_of[static_cast<size_t>(group[0])], start, end, group);
    std::vector<int32_t> rest;
    for (int32_t s : group)
        if (lengths[static_cast<size_t>(s)] > end) rest.push_back(s);
    for (const std::vector<int32_t>& sub : group_by_block(rest, end, tables, lengths, block_size))
        share(p, sub, end, tables, lengths, block_size, min_shared, table_of);
}

// Decode with shared prefixes (PrefixAttentionPlan.decodeShared).
Plan decode_shared_plan(const Tables& tables, const std::vector<int32_t>& lengths, int32_t block_size,
                        int32_t min_shared) {
    Plan p(static_cast<int32_t>(tables.size()));
    std::vector<int32_t> table_of, all;
    for (size_t s = 0; s < tables.size(); ++s) {
        p.query_limit[s] = lengths[s];
        table_of.push_back(p.table(tables[s]));
        all.push_back(static_cast<int32_t>(s));
    }
    for (const std::vector<int32_t>& group : group_by_block(all, 0, tables, lengths, block_size))
        share(p, group, 0, tables, lengths, block_size, min_shared, table_of);
    p.finish();
    return p;
}

// Causal prefill: the last new_tokens[s] of sequence s's kv_lengths[s] positions are new; their queries,
// sequence by sequence, see the positions up to their own.
Plan prefill_plan(const Tables& tables, const std::vector<int32_t>& kv_lengths,
                  const std::vector<int32_t>& new_tokens) {
    int32_t total = 0;
    for (int32_t n : new_tokens) total += n;
    Plan p(total);
    int32_t q = 0;
    for (size_t s = 0; s < tables.size(); ++s) {
        if (new_tokens[s] == 0) continue;
        std::vector<int32_t> queries;
        for (int32_t j = 0; j < new_tokens[s]; ++j) {
            queries.push_back(q);
            p.query_limit[static_cast<size_t>(q++)] = kv_lengths[s] - new_tokens[s] + j + 1;
        }
        p.part(p.table(tables[s]), 0, kv_lengths[s], queries);
    }
    p.finish();
    return p;
}

Tables tables_of(const Scene& sc, const std::vector<int32_t>& seqs) {
    Tables t;
    for (int32_t s : seqs) t.push_back(sc.tables[static_cast<size_t>(s)]);
    return t;
}

std::vector<int32_t> lengths_of(const Scene& sc, const std::vector<int32_t>& seqs) {
    std::vector<int32_t> l;
    for (int32_t s : seqs) l.push_back(sc.lengths[static_cast<size_t>(s)]);
    return l;
}

// One call's arguments besides the cache and the plan.
struct Call {
    int32_t layer = 0, q_heads = 1;
    float scale = 1.0f;
    bool lse = true;
};

struct AttentionRun {
    Status status;
    std::vector<float> out, lse;
};

// ---- CPU reference -------------------------------------------------------------------------------

int call_cpu(Scene& sc, Plan& p, const Call& c, std::vector<float>& q, std::vector<float>& out,
             std::vector<float>& lse) {
    return spo4j_prefix_attention(SPO4J_DEVICE_CPU, sc.cache.data(), sc.layers, sc.num_blocks, sc.block_size,
                                  sc.kv_heads, sc.head_dim, c.layer, c.q_heads, c.scale, p.num_queries, host_ptr(q),
                                  host_ptr(p.query_limit), p.num_tables(), host_ptr(p.table_offsets),
                                  host_ptr(p.table_blocks), p.num_parts(), host_ptr(p.part_table),
                                  host_ptr(p.part_begin), host_ptr(p.part_end), host_ptr(p.part_query_offsets),
                                  host_ptr(p.part_queries), host_ptr(p.query_entry_offsets), host_ptr(p.query_entries),
                                  host_ptr(out), c.lse ? host_ptr(lse) : nullptr, nullptr);
}

// Outputs start as −7 sentinels, so what a call writes, or leaves alone, shows.
AttentionRun run_cpu(Scene& sc, Plan& p, const Call& c, std::vector<float> q) {
    AttentionRun r;
    r.out.assign(static_cast<size_t>(p.num_queries) * c.q_heads * sc.head_dim, -7.0f);
    r.lse.assign(c.lse ? static_cast<size_t>(p.num_queries) * c.q_heads : 0, -7.0f);
    r.status = capture(call_cpu(sc, p, c, q, r.out, r.lse));
    return r;
}

// ---- kernel launch -------------------------------------------------------------------------------

// cache, q, out and lse on the checked side; the plan stays on the host (the API checks it there).
int call_device(const Scene& sc, const DeviceBuffer<float>& cache, Plan& p, const Call& c, const DeviceBuffer<float>& q,
                DeviceBuffer<float>& out, DeviceBuffer<float>& lse, void* stream) {
    return spo4j_prefix_attention(
        device(), cache.get(), sc.layers, sc.num_blocks, sc.block_size, sc.kv_heads, sc.head_dim, c.layer, c.q_heads,
        c.scale, p.num_queries, q.get(), host_ptr(p.query_limit), p.num_tables(), host_ptr(p.table_offsets),
        host_ptr(p.table_blocks), p.num_parts(), host_ptr(p.part_table), host_ptr(p.part_begin), host_ptr(p.part_end),
        host_ptr(p.part_query_offsets), host_ptr(p.part_queries), host_ptr(p.query_entry_offsets),
        host_ptr(p.query_entries), out.get(), c.lse ? lse.get() : nullptr, stream);
}

AttentionRun run_device(const Scene& sc, const DeviceBuffer<float>& cache, Plan& p, const Call& c,
                        const std::vector<float>& q, void* stream = nullptr) {
    DeviceBuffer<float> dq(q);
    DeviceBuffer<float> out(std::vector<float>(static_cast<size_t>(p.num_queries) * c.q_heads * sc.head_dim, -7.0f));
    DeviceBuffer<float> lse(std::vector<float>(static_cast<size_t>(p.num_queries) * c.q_heads, -7.0f));
    AttentionRun r;
    r.status = capture(call_device(sc, cache, p, c, dq, out, lse, stream));
    r.out = out.download();
    if (c.lse) r.lse = lse.download();
    return r;
}

// ---- validation ----------------------------------------------------------------------------------

constexpr double kTol = 1e-4;  // |got − ref| <= 1e-4·(1 + |ref|), PrefixAttentionCudaTest's tolerance

// CPU against the checked side; a repeat run on a second stream gives the same bits. Returns the device run.
AttentionRun check_plan(Scene& sc, const DeviceBuffer<float>& cache, Plan& p, const Call& c, const std::string& label) {
    const int before = g_failures;
    const std::vector<float> q = sc.queries(p.num_queries, c.q_heads);
    const AttentionRun cpu = run_cpu(sc, p, c, q);
    const AttentionRun dev = run_device(sc, cache, p, c, q);
    if (!expect_ok(label, cpu.status, dev.status)) return dev;
    validate_result(label + " out", cpu.out, dev.out, kTol, kTol);
    if (c.lse) validate_result(label + " lse", cpu.lse, dev.lse, kTol, kTol);
    Stream s;
    const AttentionRun again = run_device(sc, cache, p, c, q, s.get());
    expect_repeatable(label + " out", dev.out, again.out);
    expect_repeatable(label + " lse", dev.lse, again.lse);
    report_case(label, before);
    return dev;
}

std::string plan_name(const Plan& p) {
    return "queries=" + std::to_string(p.num_queries) + " parts=" + std::to_string(p.num_parts()) +
           " shared=" + std::to_string(p.shared_parts());
}

// The kernel test's shapes: (Hq, Hkv) x head dim, block sizes 1, 3, 16 in turn.
struct Shape {
    int32_t q_heads, kv_heads, head_dim, block_size;
};

std::vector<Shape> shapes() {
    std::vector<Shape> out;
    const int32_t heads[][2] = {{1, 1}, {4, 1}, {8, 1}, {8, 2}, {12, 3}};
    const int32_t blocks[] = {1, 3, 16};
    int i = 0;
    for (const auto& h : heads)
        for (int32_t d : {1, 7, 64, 128}) out.push_back({h[0], h[1], d, blocks[i++ % 3]});
    return out;
}

void check_tree_plans(Rng& rng) {
    std::printf("prefix attention: paged, shared and prefill plans over a 3x5 tree\n");
    for (const Shape& sh : shapes()) {
        Scene sc(2, sh.kv_heads, sh.head_dim, sh.block_size, 2000, rng());
        const std::vector<int32_t> leaves = sc.tree(41, {3, 5}, 7);
        const DeviceBuffer<float> cache(sc.cache);
        const Tables t = tables_of(sc, leaves);
        const std::vector<int32_t> len = lengths_of(sc, leaves);
        std::vector<int32_t> fresh;
        for (size_t i = 0; i < leaves.size(); ++i) fresh.push_back(1 + static_cast<int32_t>(i % 4));
        Plan plans[] = {decode_plan(t, len), decode_shared_plan(t, len, sh.block_size, 1), prefill_plan(t, len, fresh)};
        const char* const names[] = {"paged", "shared", "prefill"};
        const Call c{1, sh.q_heads, 1.0f / std::sqrt(static_cast<float>(sh.head_dim)), true};
        char label[128];
        for (int k = 0; k < 3; ++k) {
            std::snprintf(label, sizeof label, "Hq=%d Hkv=%d D=%d block=%d %s %s", sh.q_heads, sh.kv_heads, sh.head_dim,
                          sh.block_size, names[k], plan_name(plans[k]).c_str());
            check_plan(sc, cache, plans[k], c, label);
        }
        // Shared decode is paged decode (the merge is exact attention over disjoint parts): on the checked side.
        const std::vector<float> q = sc.queries(plans[0].num_queries, c.q_heads);
        const AttentionRun paged = run_device(sc, cache, plans[0], c, q);
        const AttentionRun shared = run_device(sc, cache, plans[1], c, q);
        std::snprintf(label, sizeof label, "Hq=%d Hkv=%d D=%d block=%d shared equals paged", sh.q_heads, sh.kv_heads,
                      sh.head_dim, sh.block_size);
        const int before = g_failures;
        if (expect_ok(label, paged.status, shared.status)) {
            validate_result(std::string(label) + " out", paged.out, shared.out, kTol, kTol);
            validate_result(std::string(label) + " lse", paged.lse, shared.lse, kTol, kTol);
        }
        report_case(label, before);
    }
}

void check_edges(Rng& rng) {
    std::printf("prefix attention: block boundaries, empty queries, empty plan, D=256 with 216 branches\n");
    for (const Shape& sh : {shapes()[1], shapes()[6], shapes()[11], shapes()[19]}) {
        Scene sc(2, sh.kv_heads, sh.head_dim, sh.block_size, 400, rng());
        const int32_t bs = sh.block_size;
        // Lengths around block boundaries, a single token, a longer sequence, and one with no position at all
        // (its query sees nothing: out 0, lse −inf).
        std::vector<int32_t> seqs;
        for (int32_t len : {1, bs - 1 > 0 ? bs - 1 : 2, bs, bs + 1, 2 * bs + 1, 99, 0}) seqs.push_back(sc.root(len));
        const DeviceBuffer<float> cache(sc.cache);
        const Tables t = tables_of(sc, seqs);
        const std::vector<int32_t> len = lengths_of(sc, seqs);
        Plan decode = decode_plan(t, len);
        // Prefill of whole sequences (causal over all of it) and of nothing for some.
        std::vector<int32_t> fresh = len;
        fresh[1] = 0;
        Plan prefill = prefill_plan(t, len, fresh);
        for (int32_t layer : {0, 1}) {
            const Call c{layer, sh.q_heads, 0.3f, true};
            char label[128];
            std::snprintf(label, sizeof label, "boundaries Hq=%d Hkv=%d D=%d block=%d layer %d paged", sh.q_heads,
                          sh.kv_heads, sh.head_dim, bs, layer);
            const AttentionRun dev = check_plan(sc, cache, decode, c, label);
            const size_t last = seqs.size() - 1, row = static_cast<size_t>(sh.q_heads) * sh.head_dim;
            ++g_checks;
            const bool zero =
                dev.out.size() >= (last + 1) * row && std::all_of(dev.out.begin() + static_cast<long>(last * row),
                                                                  dev.out.end(), [](float x) { return x == 0.0f; });
            const bool minus_inf =
                dev.lse.size() == seqs.size() * static_cast<size_t>(sh.q_heads) && dev.lse.back() == -INFINITY;
            if (!zero || !minus_inf)
                fail_check(std::string(label) + ": a query with no position is not o = 0, lse = -inf");
            std::snprintf(label, sizeof label, "boundaries Hq=%d Hkv=%d D=%d block=%d layer %d prefill %s", sh.q_heads,
                          sh.kv_heads, sh.head_dim, bs, layer, plan_name(prefill).c_str());
            check_plan(sc, cache, prefill, Call{layer, sh.q_heads, 0.3f, layer == 0}, label);
        }
        Plan empty(0);
        empty.finish();
        const int before = g_failures;
        const AttentionRun cpu = run_cpu(sc, empty, Call{0, sh.q_heads, 0.3f, true}, {});
        const AttentionRun dev = run_device(sc, cache, empty, Call{0, sh.q_heads, 0.3f, true}, {});
        expect_ok("empty plan", cpu.status, dev.status);
        report_case("empty plan (no query, no table, no part) D=" + std::to_string(sh.head_dim), before);
    }
    {
        Scene sc(1, 2, 256, 16, 1200, rng());
        const std::vector<int32_t> leaves = sc.tree(300, {6, 6, 6}, 3);
        const DeviceBuffer<float> cache(sc.cache);
        Plan shared = decode_shared_plan(tables_of(sc, leaves), lengths_of(sc, leaves), 16, 64);
        ++g_checks;
        if (shared.shared_parts() == 0) fail_check("D=256: the plan shares nothing");
        check_plan(sc, cache, shared, Call{0, 8, 0.0625f, false}, "D=256 216 branches shared " + plan_name(shared));
    }
}

void check_error_paths(Rng& rng) {
    std::printf("prefix attention error paths (same status and message on both sides, nothing written)\n");
    Scene sc(1, 1, 8, 4, 40, rng());
    std::vector<int32_t> seqs{sc.root(6), sc.root(9)};
    const DeviceBuffer<float> cache(sc.cache);
    const Plan good = decode_plan(tables_of(sc, seqs), lengths_of(sc, seqs));
    struct Case {
        const char* name;
        std::function<void(Plan&, Call&, std::vector<float>&, Scene&)> mutate;
    };
    const std::vector<Case> cases = {
        {"infinite q", [](Plan&, Call&, std::vector<float>& q, Scene&) { q[5] = INFINITY; }},
        {"NaN q in the second query", [](Plan&, Call&, std::vector<float>& q, Scene&) { q[21] = NAN; }},
        {"partEnd past the table", [](Plan& p, Call&, std::vector<float>&, Scene&) { p.part_end[1] = 13; }},
        {"block id out of range", [](Plan& p, Call&, std::vector<float>&, Scene&) { p.table_blocks[2] = 40; }},
        {"another query's entry",
         [](Plan& p, Call&, std::vector<float>&, Scene&) { p.query_entries[1] = p.query_entries[0]; }},
        {"an entry under the wrong query",
         [](Plan& p, Call&, std::vector<float>&, Scene&) { std::swap(p.query_entries[0], p.query_entries[1]); }},
        {"negative query limit", [](Plan& p, Call&, std::vector<float>&, Scene&) { p.query_limit[0] = -1; }},
        {"part table out of range", [](Plan& p, Call&, std::vector<float>&, Scene&) { p.part_table[0] = 2; }},
        {"qHeads not a multiple of kvHeads",
         [](Plan&, Call& c, std::vector<float>&, Scene& s) {
             s.kv_heads = 2;
             c.q_heads = 3;
         }},
        {"headDim 257", [](Plan&, Call&, std::vector<float>&, Scene& s) { s.head_dim = 257; }},
        {"layer out of range", [](Plan&, Call& c, std::vector<float>&, Scene&) { c.layer = 1; }},
        {"scale 0", [](Plan&, Call& c, std::vector<float>&, Scene&) { c.scale = 0.0f; }},
    };
    for (const Case& k : cases) {
        Plan p = good;
        Call c{0, 2, 0.5f, true};
        std::vector<float> q = sc.queries(p.num_queries, 2);
        Scene shape = sc;  // the mutated shape; the cache buffers stay the real ones (a rejected call reads none)
        k.mutate(p, c, q, shape);
        AttentionRun cpu;
        cpu.out.assign(static_cast<size_t>(p.num_queries) * 2 * 8, -7.0f);
        cpu.lse.assign(static_cast<size_t>(p.num_queries) * 2, -7.0f);
        std::vector<float> q_cpu = q;
        cpu.status = capture(spo4j_prefix_attention(
            SPO4J_DEVICE_CPU, sc.cache.data(), shape.layers, shape.num_blocks, shape.block_size, shape.kv_heads,
            shape.head_dim, c.layer, c.q_heads, c.scale, p.num_queries, q_cpu.data(), p.query_limit.data(),
            p.num_tables(), p.table_offsets.data(), p.table_blocks.data(), p.num_parts(), p.part_table.data(),
            p.part_begin.data(), p.part_end.data(), p.part_query_offsets.data(), p.part_queries.data(),
            p.query_entry_offsets.data(), p.query_entries.data(), cpu.out.data(), cpu.lse.data(), nullptr));
        DeviceBuffer<float> dq(q), out(cpu.out.size()), lse(cpu.lse.size());
        out.upload(std::vector<float>(cpu.out.size(), -7.0f));
        lse.upload(std::vector<float>(cpu.lse.size(), -7.0f));
        const Status dev = capture(call_device(shape, cache, p, c, dq, out, lse, nullptr));
        const std::string what = std::string("attention: ") + k.name;
        expect_same_error(what, cpu.status, dev);
        expect_untouched(what + " cpu out", std::vector<float>(cpu.out.size(), -7.0f), cpu.out);
        expect_untouched(what + " out", std::vector<float>(cpu.out.size(), -7.0f), out.download());
        expect_untouched(what + " lse", std::vector<float>(cpu.lse.size(), -7.0f), lse.download());
    }
}

// ---- timing --------------------------------------------------------------------------------------

void time_plan(const std::string& name, Scene& sc, const DeviceBuffer<float>& cache, Plan& p, const Call& c,
               bool small) {
    std::vector<float> q = sc.queries(p.num_queries, c.q_heads);
    std::vector<float> out(static_cast<size_t>(p.num_queries) * c.q_heads * sc.head_dim),
        lse(static_cast<size_t>(p.num_queries) * c.q_heads);
    DeviceBuffer<float> dq(q), dout(out.size()), dlse(lse.size());
    int status = SPO4J_OK;
    const double cpu_ms = time_host_ms([&] { status |= call_cpu(sc, p, c, q, out, lse); }, small ? 1 : 5);
    const double dev_ms =
        time_device_ms([&] { status |= call_device(sc, cache, p, c, dq, dout, dlse, nullptr); }, small ? 1 : 20);
    if (status != SPO4J_OK) fail_check("attention timing " + name + ": " + spo4j_last_error());
    // compulsory traffic: each part's visible K and V rows once, q read and out written once
    const double bytes = 2.0 * static_cast<double>(p.positions_read()) * sc.kv_heads * sc.head_dim * 4.0 +
                         2.0 * static_cast<double>(q.size()) * 4.0;
    char shape[160];
    std::snprintf(shape, sizeof shape, "%s Hq=%d Hkv=%d D=%d block=%d %s", name.c_str(), c.q_heads, sc.kv_heads,
                  sc.head_dim, sc.block_size, plan_name(p).c_str());
    print_timing("prefix_attention", shape, cpu_ms, dev_ms, bytes, p.num_queries, "query");
}

void run_timings(Rng& rng) {
    const bool small = g_mode.cpu_only;  // --cpu-only: small shapes, to run the timing code, not to measure
    std::printf("prefix attention timings (medians; the device time includes the plan's copy to the device)%s\n",
                small ? ", small shapes" : "");
    copy_bandwidth_gbs(small ? size_t{1} << 24 : size_t{1} << 30);
    // Decode of a 6-6-6 tree over a 2048-token prompt (small: 2-2 over 64), 64-token segments, Hq 16, Hkv 4.
    const int32_t d = small ? 32 : 128;
    Scene sc(1, 4, d, 16, small ? 64 : 4096, rng());
    const std::vector<int32_t> leaves = small ? sc.tree(64, {2, 2}, 8) : sc.tree(2048, {6, 6, 6}, 64);
    const DeviceBuffer<float> cache(sc.cache);
    const Tables t = tables_of(sc, leaves);
    const std::vector<int32_t> len = lengths_of(sc, leaves);
    const Call c{0, 16, 1.0f / std::sqrt(static_cast<float>(d)), true};
    Plan paged = decode_plan(t, len), shared = decode_shared_plan(t, len, 16, 16);
    time_plan("decode paged", sc, cache, paged, c, small);
    time_plan("decode shared", sc, cache, shared, c, small);
    // Prefill of the last 64 positions (small: 8) of the first 4 leaves.
    const size_t k = std::min<size_t>(4, t.size());
    Plan prefill = prefill_plan(Tables(t.begin(), t.begin() + static_cast<long>(k)),
                                std::vector<int32_t>(len.begin(), len.begin() + static_cast<long>(k)),
                                std::vector<int32_t>(k, small ? 8 : 64));
    time_plan("prefill", sc, cache, prefill, c, small);
}

}  // namespace

// ---- main ----------------------------------------------------------------------------------------

int main(int argc, char** argv) {
    return run_main(
        argc, argv, "spo4j_check_prefix_attention",
        [](Rng& rng) {
            check_tree_plans(rng);
            check_edges(rng);
            check_error_paths(rng);
        },
        run_timings);
}
