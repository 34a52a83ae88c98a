// CPU prefix attention. Work items are (part, KV head, block of up to kRowBlock query rows), where a row is
// one query head of one query; items write disjoint outputs, so the result does not depend on the thread
// count. Inside an item, keys come in tiles of kTile positions: the tile's K rows are transposed once into
// Kt[D][kTile] and then serve every row of the item, so a part with many queries (a shared prefix) turns
// many matrix-vector products into one small matrix product and reads its keys from memory once.
// Rows keep an online softmax (running max m, sum l, unnormalised o) across tiles.
#include "prefix_attention.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "parallel.h"

namespace spo4j {

namespace {

constexpr int kTile = 32;      // positions per tile: 4 vectors of 8
constexpr int kRowBlock = 32;  // rows per work item
constexpr int kDimChunk = 32;  // output dims per register block in the value product

// Vectors of L floats (GCC vector extensions): 8 in the AVX2+FMA clone of the item kernel, 16 in the
// AVX-512 clone, where each maps to one register; the baseline build splits them into SSE operations.
template <int L>
struct Vec {
    typedef float type __attribute__((vector_size(4 * L)));
    typedef float unaligned __attribute__((vector_size(4 * L), aligned(4)));
};
template <int L>
using vf = typename Vec<L>::type;

// Everything the item kernel calls is forced inline, so it is compiled for the caller's target (a clone or
// the baseline) and no wide vector crosses a call.
#define SPO4J_INLINE inline __attribute__((always_inline))
template <int L>
SPO4J_INLINE vf<L> load(const float* p) {
    return *reinterpret_cast<const typename Vec<L>::unaligned*>(p);
}
template <int L>
SPO4J_INLINE void store(float* p, vf<L> v) {
    *reinterpret_cast<typename Vec<L>::unaligned*>(p) = v;
}
template <int L>
SPO4J_INLINE vf<L> splat(float x) {
    return vf<L>{} + x;
}

int bad(const char* fmt, long long a, long long b = 0, long long c = 0) {
    return fail(SPO4J_ERR_INVALID_ARGUMENT, fmt, a, b, c);
}

struct Item {
    int32_t part, kv_head;
    int64_t row0, row1;  // rows [row0, row1) of the part: row r is query entry r / g, head kv_head·g + r % g
};

// Per-thread buffers of one work item. kt: the tile's keys transposed [D][kTile]; vt: its values [kTile][D];
// qs: the rows' scaled queries [rows][D]; o: unnormalised outputs [rows][D]; p: scores, then
// probabilities [rows][kTile] (0 past a row's visible end).
struct Scratch {
    std::vector<float> kt, vt, qs, o, p;
    void size(int32_t d) {
        const size_t dd = static_cast<size_t>(d);
        kt.resize(dd * kTile);
        vt.resize(dd * kTile);
        qs.resize(dd * kRowBlock);
        o.resize(dd * kRowBlock);
        p.resize(static_cast<size_t>(kRowBlock) * kTile);
    }
};

struct RowsView {
    const float* kt;
    const float* vt;
    const float* qs;
    float* o;
    float* p;
    int32_t d;
};

// Scores of rows r .. r + kRows − 1 against the tile: p[r][t] = Σ_i qs[r][i] · kt[i][t], the tile's 32
// positions held in kTile / L vectors per row.
template <int L, int kRows>
SPO4J_INLINE void score_rows(const RowsView& v, int r) {
    constexpr int kVecs = kTile / L;
    vf<L> acc[kRows][kVecs];
    for (int j = 0; j < kRows; ++j)
        for (int c = 0; c < kVecs; ++c) acc[j][c] = splat<L>(0.0f);
    const float* q0 = v.qs + static_cast<int64_t>(r) * v.d;
    for (int32_t i = 0; i < v.d; ++i) {
        const float* krow = v.kt + static_cast<int64_t>(i) * kTile;
        vf<L> k[kVecs];
        for (int c = 0; c < kVecs; ++c) k[c] = load<L>(krow + L * c);
        for (int j = 0; j < kRows; ++j) {
            const vf<L> qj = splat<L>(q0[static_cast<int64_t>(j) * v.d + i]);
            for (int c = 0; c < kVecs; ++c) acc[j][c] += qj * k[c];
        }
    }
    for (int j = 0; j < kRows; ++j)
        for (int c = 0; c < kVecs; ++c) store<L>(v.p + static_cast<int64_t>(r + j) * kTile + L * c, acc[j][c]);
}

// o[r .. r + kRows) += p[r .. r + kRows) · vt over the tile's `len` positions for the kVecs · L dims from i0,
// accumulated in registers.
template <int L, int kRows, int kVecs>
SPO4J_INLINE void value_block(const RowsView& v, int r, int len, int32_t i0) {
    const float* p0 = v.p + static_cast<int64_t>(r) * kTile;
    vf<L> acc[kRows][kVecs];
    for (int j = 0; j < kRows; ++j)
        for (int c = 0; c < kVecs; ++c) acc[j][c] = load<L>(v.o + static_cast<int64_t>(r + j) * v.d + i0 + L * c);
    for (int t = 0; t < len; ++t) {
        const float* vrow = v.vt + static_cast<int64_t>(t) * v.d + i0;
        vf<L> w[kVecs];
        for (int c = 0; c < kVecs; ++c) w[c] = load<L>(vrow + L * c);
        for (int j = 0; j < kRows; ++j) {
            const vf<L> pj = splat<L>(p0[j * kTile + t]);
            for (int c = 0; c < kVecs; ++c) acc[j][c] += pj * w[c];
        }
    }
    for (int j = 0; j < kRows; ++j)
        for (int c = 0; c < kVecs; ++c) store<L>(v.o + static_cast<int64_t>(r + j) * v.d + i0 + L * c, acc[j][c]);
}

// The value product in blocks of kDimChunk dims, then of one vector, then dim by dim. Every block keeps its
// sums in registers or locals: summing through o itself would chain each position's update to the last one's
// store (for D = 16 that chain was a third of the kernel's time).
template <int L, int kRows>
SPO4J_INLINE void value_rows(const RowsView& v, int r, int len) {
    int32_t i0 = 0;
    for (; i0 + kDimChunk <= v.d; i0 += kDimChunk) value_block<L, kRows, kDimChunk / L>(v, r, len, i0);
    for (; i0 + L <= v.d; i0 += L) value_block<L, kRows, 1>(v, r, len, i0);
    const float* p0 = v.p + static_cast<int64_t>(r) * kTile;
    for (int j = 0; j < kRows; ++j) {
        float* o = v.o + static_cast<int64_t>(r + j) * v.d;
        for (int32_t i = i0; i < v.d; ++i) {
            float sum = o[i];
            for (int t = 0; t < len; ++t) sum += p0[j * kTile + t] * v.vt[static_cast<int64_t>(t) * v.d + i];
            o[i] = sum;
        }
    }
}

// One work item: rows [0, nrows) with visible ends row_end[], over positions [begin, max_end) of `blocks`.
// m, l: each row's running max and sum. L floats per vector, kRows rows per register block; instantiated
// for AVX-512, AVX2+FMA and the baseline, picked at run time.
template <int L, int kRows>
SPO4J_INLINE void attend_item_body(const AttentionArgs& a, Scratch& sc, const int32_t* blocks, int32_t kv_head,
                                   int32_t begin, int32_t max_end, int nrows, const int32_t* row_end, float* m,
                                   float* l, int32_t d) {
    RowsView v{sc.kt.data(), sc.vt.data(), sc.qs.data(), sc.o.data(), sc.p.data(), d};
    for (int32_t t0 = begin; t0 < max_end; t0 += kTile) {
        const int len = std::min(kTile, max_end - t0);
        // Kt's columns past len keep an earlier tile's keys (zeros in a fresh scratch): their scores are
        // computed with the rest but replaced by 0 below, and the value product stops at len.
        for (int t = 0; t < len; ++t) {
            const int32_t pos = t0 + t;
            const int32_t block = blocks[pos / a.block_size], slot = pos % a.block_size;
            const float* k = a.cache + a.row_offset(0, block, slot, kv_head);
            for (int32_t i = 0; i < d; ++i) sc.kt[static_cast<size_t>(i) * kTile + t] = k[i];
            std::copy_n(a.cache + a.row_offset(1, block, slot, kv_head), d, sc.vt.data() + static_cast<int64_t>(t) * d);
        }
        int r = 0;
        for (; r + kRows <= nrows; r += kRows) score_rows<L, kRows>(v, r);
        for (; r < nrows; ++r) score_rows<L, 1>(v, r);
        for (r = 0; r < nrows; ++r) {
            float* pr = sc.p.data() + static_cast<int64_t>(r) * kTile;
            const int valid = std::min(len, row_end[r] - t0);
            if (valid <= 0) {
                std::fill_n(pr, kTile, 0.0f);
                continue;
            }
            float tile_max = -INFINITY;
            for (int t = 0; t < valid; ++t) tile_max = max_f(tile_max, pr[t]);
            const float new_max = max_f(m[r], tile_max);
            const float c = m[r] == -INFINITY ? 0.0f : exp_nonpositive(m[r] - new_max);
            float sum = 0.0f;
            for (int t = 0; t < valid; ++t) {
                pr[t] = exp_nonpositive(pr[t] - new_max);
                sum += pr[t];
            }
            for (int t = valid; t < kTile; ++t) pr[t] = 0.0f;
            l[r] = l[r] * c + sum;
            m[r] = new_max;
            if (c != 1.0f) {
                float* o = sc.o.data() + static_cast<int64_t>(r) * d;
                for (int32_t i = 0; i < d; ++i) o[i] *= c;
            }
        }
        for (r = 0; r + kRows <= nrows; r += kRows) value_rows<L, kRows>(v, r, len);
        for (; r < nrows; ++r) value_rows<L, 1>(v, r, len);
    }
}

#define SPO4J_ATTEND_ITEM_PARAMS                                                                                 \
    const AttentionArgs &a, Scratch &sc, const int32_t *blocks, int32_t kv_head, int32_t begin, int32_t max_end, \
        int nrows, const int32_t *row_end, float *m, float *l, int32_t d

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f,avx2,fma"))) void attend_item_avx512(SPO4J_ATTEND_ITEM_PARAMS) {
    attend_item_body<16, 4>(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
}
__attribute__((target("avx2,fma"))) void attend_item_avx2(SPO4J_ATTEND_ITEM_PARAMS) {
    attend_item_body<8, 2>(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
}
int detected_isa() {
    static const int best = __builtin_cpu_supports("avx512f")                                 ? SPO4J_ISA_AVX512
                            : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? SPO4J_ISA_AVX2
                                                                                              : SPO4J_ISA_BASELINE;
    return best;
}
#endif
void attend_item_base(SPO4J_ATTEND_ITEM_PARAMS) {
    attend_item_body<8, 2>(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
}

void attend_item(SPO4J_ATTEND_ITEM_PARAMS) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (cpu_isa()) {
        case SPO4J_ISA_AVX512:
            return attend_item_avx512(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
        case SPO4J_ISA_AVX2:
            return attend_item_avx2(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
        default:
            break;
    }
#endif
    attend_item_base(a, sc, blocks, kv_head, begin, max_end, nrows, row_end, m, l, d);
}

}  // namespace

namespace {
std::atomic<int> g_max_isa{SPO4J_ISA_AVX512};
}

int cpu_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
    const int best = detected_isa(), cap = g_max_isa.load(std::memory_order_relaxed);
    return best < cap ? best : cap;
#else
    return SPO4J_ISA_BASELINE;
#endif
}

int set_max_cpu_isa(int isa) {
    if (isa < SPO4J_ISA_BASELINE || isa > SPO4J_ISA_AVX512)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "isa must be 0 (baseline), 1 (AVX2+FMA) or 2 (AVX-512), got %d", isa);
    g_max_isa.store(isa, std::memory_order_relaxed);
    return SPO4J_OK;
}

int64_t first_non_finite(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!is_finite_f(x[i])) return i;
    return -1;
}

int check_attention_args(const AttentionArgs& a) {
    if (a.cache == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "cache must not be null");
    if (a.num_layers < 1) return bad("numLayers must be >= 1, got %lld", a.num_layers);
    if (a.num_blocks < 1) return bad("numBlocks must be >= 1, got %lld", a.num_blocks);
    if (a.block_size < 1) return bad("blockSize must be >= 1, got %lld", a.block_size);
    if (a.kv_heads < 1) return bad("kvHeads must be >= 1, got %lld", a.kv_heads);
    if (a.head_dim < 1) return bad("headDim must be >= 1, got %lld", a.head_dim);
    if (a.head_dim > kMaxAttentionHeadDim)
        return bad("headDim must be <= %lld, got %lld", kMaxAttentionHeadDim, a.head_dim);
    if (a.layer < 0 || a.layer >= a.num_layers)
        return bad("layer %lld is outside [0, numLayers = %lld)", a.layer, a.num_layers);
    if (a.q_heads < 1 || a.q_heads % a.kv_heads != 0)
        return bad("qHeads must be a positive multiple of kvHeads = %lld, got %lld", a.kv_heads, a.q_heads);
    if (!(a.scale > 0.0f) || !is_finite_f(a.scale))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "scale must be finite and > 0, got %g", static_cast<double>(a.scale));
    if (a.num_queries < 0) return bad("numQueries must be >= 0, got %lld", a.num_queries);
    if (a.num_tables < 0) return bad("numTables must be >= 0, got %lld", a.num_tables);
    if (a.num_parts < 0) return bad("numParts must be >= 0, got %lld", a.num_parts);
    if (a.num_queries > 0) {
        if (a.q == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "q must not be null");
        if (a.out == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "out must not be null");
        if (a.query_limit == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryLimit must not be null");
        for (int32_t i = 0; i < a.num_queries; ++i)
            if (a.query_limit[i] < 0) return bad("queryLimit[%lld] = %lld must be >= 0", i, a.query_limit[i]);
    }
    if (a.table_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "tableOffsets must not be null");
    if (a.table_offsets[0] != 0) return bad("tableOffsets[0] must be 0, got %lld", a.table_offsets[0]);
    for (int32_t t = 0; t < a.num_tables; ++t)
        if (a.table_offsets[t + 1] < a.table_offsets[t])
            return bad("tableOffsets must not decrease: tableOffsets[%lld] = %lld < tableOffsets[%lld]", t + 1,
                       a.table_offsets[t + 1], t);
    const int64_t num_table_blocks = a.table_offsets[a.num_tables];
    if (num_table_blocks > 0 && a.table_blocks == nullptr)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "tableBlocks must not be null");
    for (int64_t i = 0; i < num_table_blocks; ++i)
        if (a.table_blocks[i] < 0 || a.table_blocks[i] >= a.num_blocks)
            return bad("tableBlocks[%lld] = %lld is outside [0, numBlocks = %lld)", i, a.table_blocks[i], a.num_blocks);
    if (a.part_query_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "partQueryOffsets must not be null");
    if (a.part_query_offsets[0] != 0) return bad("partQueryOffsets[0] must be 0, got %lld", a.part_query_offsets[0]);
    if (a.num_parts > 0 && (a.part_table == nullptr || a.part_begin == nullptr || a.part_end == nullptr))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "partTable, partBegin and partEnd must not be null");
    for (int32_t p = 0; p < a.num_parts; ++p) {
        const int32_t t = a.part_table[p];
        if (t < 0 || t >= a.num_tables)
            return bad("partTable[%lld] = %lld is outside [0, numTables = %lld)", p, t, a.num_tables);
        const int64_t capacity = static_cast<int64_t>(a.table_offsets[t + 1] - a.table_offsets[t]) * a.block_size;
        if (a.part_begin[p] < 0 || a.part_begin[p] > a.part_end[p])
            return bad("part %lld: partBegin = %lld must be in [0, partEnd = %lld]", p, a.part_begin[p], a.part_end[p]);
        if (a.part_end[p] > capacity)
            return bad("part %lld: partEnd = %lld is past the %lld positions its table's blocks hold", p, a.part_end[p],
                       capacity);
        if (a.part_query_offsets[p + 1] < a.part_query_offsets[p])
            return bad("partQueryOffsets must not decrease: partQueryOffsets[%lld] = %lld < partQueryOffsets[%lld]",
                       p + 1, a.part_query_offsets[p + 1], p);
    }
    const int64_t e_count = a.num_entries();
    if (e_count > 0 && a.part_queries == nullptr)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "partQueries must not be null");
    for (int64_t e = 0; e < e_count; ++e)
        if (a.part_queries[e] < 0 || a.part_queries[e] >= a.num_queries)
            return bad("partQueries[%lld] = %lld is outside [0, numQueries = %lld)", e, a.part_queries[e],
                       a.num_queries);
    // query_entries must list every entry exactly once, each under the query it belongs to.
    if (a.query_entry_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryEntryOffsets must not be null");
    if (a.query_entry_offsets[0] != 0) return bad("queryEntryOffsets[0] must be 0, got %lld", a.query_entry_offsets[0]);
    if (a.query_entry_offsets[a.num_queries] != e_count)
        return bad("queryEntryOffsets[numQueries] = %lld must equal the number of part entries, %lld",
                   a.query_entry_offsets[a.num_queries], e_count);
    if (e_count > 0 && a.query_entries == nullptr)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryEntries must not be null");
    std::vector<uint8_t> seen(static_cast<size_t>(e_count), 0);
    for (int32_t qi = 0; qi < a.num_queries; ++qi) {
        if (a.query_entry_offsets[qi + 1] < a.query_entry_offsets[qi])
            return bad("queryEntryOffsets must not decrease: queryEntryOffsets[%lld] = %lld < queryEntryOffsets[%lld]",
                       qi + 1, a.query_entry_offsets[qi + 1], qi);
        for (int32_t k = a.query_entry_offsets[qi]; k < a.query_entry_offsets[qi + 1]; ++k) {
            const int32_t e = a.query_entries[k];
            if (e < 0 || e >= e_count) return bad("queryEntries[%lld] = %lld is outside [0, %lld)", k, e, e_count);
            if (a.part_queries[e] != qi)
                return bad("queryEntries[%lld] = %lld is an entry of query %lld", k, e, a.part_queries[e]);
            if (seen[static_cast<size_t>(e)]) return bad("queryEntries lists entry %lld twice", e);
            seen[static_cast<size_t>(e)] = 1;
        }
    }
    return SPO4J_OK;
}

int prefix_attention_cpu(const AttentionArgs& a) {
    const int64_t nq = a.num_queries, hq = a.q_heads;
    const int32_t d = a.head_dim, g = a.group();
    const int64_t bad_q = first_non_finite(a.q, nq * hq * d);
    if (bad_q >= 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "q[%lld] is not finite (query %lld, head %lld)",
                    static_cast<long long>(bad_q), static_cast<long long>(bad_q / (hq * d)),
                    static_cast<long long>(bad_q / d % hq));
    if (nq == 0) return SPO4J_OK;

    // A query listed by exactly one part gets that part's state directly; the others merge from a workspace.
    const int64_t e_count = a.num_entries();
    std::vector<int64_t> ws_slot(static_cast<size_t>(e_count), -1);
    int64_t ws_entries = 0;
    for (int32_t qi = 0; qi < nq; ++qi) {
        const int32_t begin = a.query_entry_offsets[qi], end = a.query_entry_offsets[qi + 1];
        if (end - begin >= 2)
            for (int32_t k = begin; k < end; ++k) ws_slot[static_cast<size_t>(a.query_entries[k])] = ws_entries++;
    }
    std::vector<float> ws_o(static_cast<size_t>(ws_entries * hq * d));
    std::vector<float> ws_lse(static_cast<size_t>(ws_entries * hq));

    std::vector<Item> items;
    for (int32_t p = 0; p < a.num_parts; ++p) {
        const int64_t rows = static_cast<int64_t>(a.part_query_offsets[p + 1] - a.part_query_offsets[p]) * g;
        for (int32_t h = 0; h < a.kv_heads; ++h)
            for (int64_t r = 0; r < rows; r += kRowBlock) items.push_back({p, h, r, std::min(rows, r + kRowBlock)});
    }

    parallel_for(static_cast<int64_t>(items.size()), [&](int64_t idx) {
        thread_local Scratch sc;
        sc.size(d);
        const Item it = items[static_cast<size_t>(idx)];
        const int32_t* blocks = a.table_blocks + a.table_offsets[a.part_table[it.part]];
        const int32_t begin = a.part_begin[it.part];
        const int32_t e0 = a.part_query_offsets[it.part];
        const int nrows = static_cast<int>(it.row1 - it.row0);
        int32_t row_end[kRowBlock];
        int32_t max_end = begin;
        for (int r = 0; r < nrows; ++r) {
            const int64_t row = it.row0 + r;
            const int32_t qi = a.part_queries[e0 + row / g];
            const int64_t head = static_cast<int64_t>(it.kv_head) * g + row % g;
            row_end[r] = std::min(a.part_end[it.part], a.query_limit[qi]);
            max_end = std::max(max_end, row_end[r]);
            const float* qrow = a.q + (qi * hq + head) * d;
            float* qs = sc.qs.data() + static_cast<int64_t>(r) * d;
            for (int32_t i = 0; i < d; ++i) qs[i] = qrow[i] * a.scale;
            std::fill_n(sc.o.data() + static_cast<int64_t>(r) * d, d, 0.0f);
        }
        float m[kRowBlock], l[kRowBlock];
        for (int r = 0; r < nrows; ++r) {
            m[r] = -INFINITY;
            l[r] = 0.0f;
        }
        attend_item(a, sc, blocks, it.kv_head, begin, max_end, nrows, row_end, m, l, d);
        for (int r = 0; r < nrows; ++r) {
            const int64_t row = it.row0 + r;
            const int32_t entry = e0 + static_cast<int32_t>(row / g);
            const int32_t qi = a.part_queries[entry];
            const int64_t head = static_cast<int64_t>(it.kv_head) * g + row % g;
            const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
            const float lse = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
            const int64_t slot = ws_slot[static_cast<size_t>(entry)];
            float* dst = slot < 0 ? a.out + (qi * hq + head) * d : ws_o.data() + (slot * hq + head) * d;
            const float* o = sc.o.data() + static_cast<int64_t>(r) * d;
            for (int32_t i = 0; i < d; ++i) dst[i] = o[i] * inv;
            if (slot >= 0)
                ws_lse[static_cast<size_t>(slot * hq + head)] = lse;
            else if (a.lse != nullptr)
                a.lse[qi * hq + head] = lse;
        }
    });

    // Merge, and zero the queries no part lists.
    parallel_for(ceil_div(nq, 64), [&](int64_t chunk) {
        const int64_t q_end = std::min(nq, (chunk + 1) * 64);
        for (int64_t qi = chunk * 64; qi < q_end; ++qi) {
            const int32_t begin = a.query_entry_offsets[qi], end = a.query_entry_offsets[qi + 1];
            if (end - begin == 1) continue;
            for (int64_t head = 0; head < hq; ++head) {
                float* dst = a.out + (qi * hq + head) * d;
                std::fill_n(dst, d, 0.0f);
                LseMerge merge;
                for (int32_t k = begin; k < end; ++k) {
                    const int64_t slot = ws_slot[static_cast<size_t>(a.query_entries[k])];
                    float c, w;
                    merge.add(ws_lse[static_cast<size_t>(slot * hq + head)], &c, &w);
                    if (w == 0.0f) continue;
                    const float* o = ws_o.data() + (slot * hq + head) * d;
                    for (int32_t i = 0; i < d; ++i) dst[i] = dst[i] * c + w * o[i];
                }
                const float inv = merge.inverse_weight();
                for (int32_t i = 0; i < d; ++i) dst[i] *= inv;
                if (a.lse != nullptr) a.lse[qi * hq + head] = merge.lse();
            }
        }
    });
    return SPO4J_OK;
}

}  // namespace spo4j
