// CPU prefix attention. Work items are (part, KV head, block of up to kRowBlock query rows), where a row is
// one query head of one query; items write disjoint outputs, so the result does not depend on the thread
// count. Inside an item, keys come in tiles of kTile positions: the tile's K rows are transposed once into
// Kt[D][kTile] and then serve every row of the item, so a part with many queries (a shared prefix) turns
// many matrix-vector products into one small matrix product and reads its keys from memory once.
// Rows keep an online softmax (running max m, sum l, unnormalised o) across tiles.
#include "prefix_attention.h"

#include <algorithm>
#include <vector>

#include "parallel.h"

namespace spo4j {

namespace {

constexpr int kTile = 32;
constexpr int kRowBlock = 16;

int bad(const char* fmt, long long a, long long b = 0, long long c = 0) {
    return fail(SPO4J_ERR_INVALID_ARGUMENT, fmt, a, b, c);
}

struct Scratch {
    std::vector<float> kt, o, qs, m, l, s;
    std::vector<const float*> vrow;
    void size(int32_t d) {
        kt.resize(static_cast<size_t>(d) * kTile);
        o.resize(static_cast<size_t>(d) * kRowBlock);
        qs.resize(static_cast<size_t>(d) * kRowBlock);
        m.resize(kRowBlock);
        l.resize(kRowBlock);
        s.resize(kTile);
        vrow.resize(kTile);
    }
};

// One row's contribution of the tile: scores s = Kt·q over the tile's `valid` positions, then the online
// softmax update of (m, l, o). Positions past `valid` are masked.
inline void tile_row(const float* __restrict kt, const float* const* vrow, int valid, int32_t d,
                     const float* __restrict q, float* __restrict s, float* __restrict o, float* m, float* l) {
    for (int t = 0; t < kTile; ++t) s[t] = 0.0f;
    for (int32_t i = 0; i < d; ++i) {
        const float qi = q[i];
        const float* __restrict krow = kt + static_cast<int64_t>(i) * kTile;
        for (int t = 0; t < kTile; ++t) s[t] += qi * krow[t];
    }
    float tile_max = -INFINITY;
    for (int t = 0; t < valid; ++t) tile_max = max_f(tile_max, s[t]);
    const float new_max = max_f(*m, tile_max);
    const float c = *m == -INFINITY ? 0.0f : exp_nonpositive(*m - new_max);
    float sum = 0.0f;
    for (int t = 0; t < valid; ++t) {
        s[t] = exp_nonpositive(s[t] - new_max);
        sum += s[t];
    }
    *l = *l * c + sum;
    *m = new_max;
    if (c != 1.0f)
        for (int32_t i = 0; i < d; ++i) o[i] *= c;
    int t = 0;
    for (; t + 4 <= valid; t += 4) {
        const float p0 = s[t], p1 = s[t + 1], p2 = s[t + 2], p3 = s[t + 3];
        const float* __restrict v0 = vrow[t];
        const float* __restrict v1 = vrow[t + 1];
        const float* __restrict v2 = vrow[t + 2];
        const float* __restrict v3 = vrow[t + 3];
        for (int32_t i = 0; i < d; ++i) o[i] += p0 * v0[i] + p1 * v1[i] + p2 * v2[i] + p3 * v3[i];
    }
    for (; t < valid; ++t) {
        const float p = s[t];
        const float* __restrict v = vrow[t];
        for (int32_t i = 0; i < d; ++i) o[i] += p * v[i];
    }
}

struct Item {
    int32_t part, kv_head;
    int64_t row0, row1;  // rows [row0, row1) of the part: row r is query entry r / g, head kv_head·g + r % g
};

}  // namespace

int64_t first_non_finite(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (!is_finite_f(x[i])) return i;
    return -1;
}

int check_attention_args(const AttentionArgs& a) {
    if (a.cache == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "cache is null");
    if (a.num_layers < 1) return bad("numLayers must be >= 1, got %lld", a.num_layers);
    if (a.num_blocks < 1) return bad("numBlocks must be >= 1, got %lld", a.num_blocks);
    if (a.block_size < 1) return bad("blockSize must be >= 1, got %lld", a.block_size);
    if (a.kv_heads < 1) return bad("kvHeads must be >= 1, got %lld", a.kv_heads);
    if (a.head_dim < 1 || a.head_dim > kMaxAttentionHeadDim)
        return bad("headDim must be in [1, %lld], got %lld", kMaxAttentionHeadDim, a.head_dim);
    if (a.layer < 0 || a.layer >= a.num_layers) return bad("layer %lld is outside [0, %lld)", a.layer, a.num_layers);
    if (a.q_heads < 1 || a.q_heads % a.kv_heads != 0)
        return bad("qHeads must be a positive multiple of kvHeads = %lld, got %lld", a.kv_heads, a.q_heads);
    if (!(a.scale > 0.0f) || !is_finite_f(a.scale))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "scale must be finite and > 0, got %g", static_cast<double>(a.scale));
    if (a.num_queries < 0) return bad("numQueries must be >= 0, got %lld", a.num_queries);
    if (a.num_tables < 0) return bad("numTables must be >= 0, got %lld", a.num_tables);
    if (a.num_parts < 0) return bad("numParts must be >= 0, got %lld", a.num_parts);
    if (a.num_queries > 0) {
        if (a.q == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "q is null");
        if (a.out == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "out is null");
        if (a.query_limit == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryLimit is null");
        for (int32_t i = 0; i < a.num_queries; ++i)
            if (a.query_limit[i] < 0) return bad("queryLimit[%lld] = %lld must be >= 0", i, a.query_limit[i]);
    }
    if (a.table_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "tableOffsets is null");
    if (a.table_offsets[0] != 0) return bad("tableOffsets[0] must be 0, got %lld", a.table_offsets[0]);
    for (int32_t t = 0; t < a.num_tables; ++t)
        if (a.table_offsets[t + 1] < a.table_offsets[t])
            return bad("tableOffsets must not decrease: tableOffsets[%lld] = %lld < tableOffsets[%lld]", t + 1,
                       a.table_offsets[t + 1], t);
    const int64_t num_table_blocks = a.table_offsets[a.num_tables];
    if (num_table_blocks > 0 && a.table_blocks == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "tableBlocks is null");
    for (int64_t i = 0; i < num_table_blocks; ++i)
        if (a.table_blocks[i] < 0 || a.table_blocks[i] >= a.num_blocks)
            return bad("tableBlocks[%lld] = %lld is outside [0, numBlocks = %lld)", i, a.table_blocks[i], a.num_blocks);
    if (a.part_query_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "partQueryOffsets is null");
    if (a.part_query_offsets[0] != 0) return bad("partQueryOffsets[0] must be 0, got %lld", a.part_query_offsets[0]);
    if (a.num_parts > 0 && (a.part_table == nullptr || a.part_begin == nullptr || a.part_end == nullptr))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "partTable, partBegin and partEnd must not be null");
    for (int32_t p = 0; p < a.num_parts; ++p) {
        const int32_t t = a.part_table[p];
        if (t < 0 || t >= a.num_tables) return bad("partTable[%lld] = %lld is outside [0, numTables = %lld)", p, t, a.num_tables);
        const int64_t capacity = static_cast<int64_t>(a.table_offsets[t + 1] - a.table_offsets[t]) * a.block_size;
        if (a.part_begin[p] < 0 || a.part_begin[p] > a.part_end[p])
            return bad("part %lld: partBegin = %lld must be in [0, partEnd = %lld]", p, a.part_begin[p], a.part_end[p]);
        if (a.part_end[p] > capacity)
            return bad("part %lld: partEnd = %lld is past the %lld positions its table's blocks hold", p, a.part_end[p], capacity);
        if (a.part_query_offsets[p + 1] < a.part_query_offsets[p])
            return bad("partQueryOffsets must not decrease: partQueryOffsets[%lld] = %lld < partQueryOffsets[%lld]", p + 1,
                       a.part_query_offsets[p + 1], p);
    }
    const int64_t e_count = a.num_entries();
    if (e_count > 0 && a.part_queries == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "partQueries is null");
    for (int64_t e = 0; e < e_count; ++e)
        if (a.part_queries[e] < 0 || a.part_queries[e] >= a.num_queries)
            return bad("partQueries[%lld] = %lld is outside [0, numQueries = %lld)", e, a.part_queries[e], a.num_queries);
    // query_entries must list every entry exactly once, each under the query it belongs to.
    if (a.query_entry_offsets == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryEntryOffsets is null");
    if (a.query_entry_offsets[0] != 0) return bad("queryEntryOffsets[0] must be 0, got %lld", a.query_entry_offsets[0]);
    if (a.query_entry_offsets[a.num_queries] != e_count)
        return bad("queryEntryOffsets[numQueries] = %lld must equal the number of part entries, %lld",
                   a.query_entry_offsets[a.num_queries], e_count);
    if (e_count > 0 && a.query_entries == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "queryEntries is null");
    std::vector<uint8_t> seen(static_cast<size_t>(e_count), 0);
    for (int32_t qi = 0; qi < a.num_queries; ++qi) {
        if (a.query_entry_offsets[qi + 1] < a.query_entry_offsets[qi])
            return bad("queryEntryOffsets must not decrease: queryEntryOffsets[%lld] = %lld < queryEntryOffsets[%lld]", qi + 1,
                       a.query_entry_offsets[qi + 1], qi);
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
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "q[%lld] is not finite (query %lld, head %lld)", static_cast<long long>(bad_q),
                    static_cast<long long>(bad_q / (hq * d)), static_cast<long long>(bad_q / d % hq));
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
            sc.m[r] = -INFINITY;
            sc.l[r] = 0.0f;
        }
        for (int32_t t0 = begin; t0 < max_end; t0 += kTile) {
            const int len = std::min(kTile, max_end - t0);
            for (int t = 0; t < kTile; ++t) {
                if (t < len) {
                    const int32_t pos = t0 + t;
                    const int32_t block = blocks[pos / a.block_size], slot = pos % a.block_size;
                    const float* k = a.cache + a.row_offset(0, block, slot, it.kv_head);
                    for (int32_t i = 0; i < d; ++i) sc.kt[static_cast<int64_t>(i) * kTile + t] = k[i];
                    sc.vrow[t] = a.cache + a.row_offset(1, block, slot, it.kv_head);
                } else {
                    for (int32_t i = 0; i < d; ++i) sc.kt[static_cast<int64_t>(i) * kTile + t] = 0.0f;
                }
            }
            for (int r = 0; r < nrows; ++r) {
                const int valid = std::min(len, row_end[r] - t0);
                if (valid <= 0) continue;
                tile_row(sc.kt.data(), sc.vrow.data(), valid, d, sc.qs.data() + static_cast<int64_t>(r) * d, sc.s.data(),
                         sc.o.data() + static_cast<int64_t>(r) * d, &sc.m[r], &sc.l[r]);
            }
        }
        for (int r = 0; r < nrows; ++r) {
            const int64_t row = it.row0 + r;
            const int32_t entry = e0 + static_cast<int32_t>(row / g);
            const int32_t qi = a.part_queries[entry];
            const int64_t head = static_cast<int64_t>(it.kv_head) * g + row % g;
            const float inv = sc.l[r] > 0.0f ? 1.0f / sc.l[r] : 0.0f;
            const float lse = sc.l[r] > 0.0f ? sc.m[r] + logf(sc.l[r]) : -INFINITY;
            const int64_t slot = ws_slot[static_cast<size_t>(entry)];
            float* dst = slot < 0 ? a.out + (qi * hq + head) * d : ws_o.data() + (slot * hq + head) * d;
            const float* o = sc.o.data() + static_cast<int64_t>(r) * d;
            for (int32_t i = 0; i < d; ++i) dst[i] = o[i] * inv;
            if (slot >= 0) ws_lse[static_cast<size_t>(slot * hq + head)] = lse;
            else if (a.lse != nullptr) a.lse[qi * hq + head] = lse;
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
