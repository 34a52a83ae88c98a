// CPU sampler: rows are independent, so chunks of rows run in parallel and every token is the same for any
// thread count. A first parallel pass only reads (every logit / T finite); outputs are written only if every row
// passed, and the error reported is the lowest bad (row, column).
//
// Within a row: max, masses (stored), then the kept set. The kept set is the prefix of the order
// (q desc, index asc) ending at a threshold key, so it is found without sorting all V keys (kept_set). The
// order is strict, so the threshold (and with it the token) does not depend on how the selection runs.
#include "sampler.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "parallel.h"

namespace spo4j {

int sample_bad_logit_status(int64_t row, int64_t col, float value, float temperature) {
    const long long r = static_cast<long long>(row), c = static_cast<long long>(col);
    if (!is_finite_f(value))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "logits[%lld, %lld] = %g is not finite (row %lld, column %lld)", r, c,
                    static_cast<double>(value), r, c);
    return fail(SPO4J_ERR_INVALID_ARGUMENT,
                "logits[%lld, %lld] = %g overflows float when divided by temperature %g (row %lld, column %lld)", r, c,
                static_cast<double>(value), static_cast<double>(temperature), r, c);
}

namespace {

struct RowScratch {
    std::vector<uint64_t> q;
    std::vector<uint64_t> keys;
};

thread_local RowScratch t_scratch;

constexpr int64_t kLogitsPerChunk = 16384;  // enough work per task to amortize the pool's hand-off

// Column of the first logit of a row whose x = logit / T is not finite (NaN, ±inf, or an overflow), or -1.
// The scan is an integer OR (vectorizes); the column is looked for only in a bad row.
template <class T>
int64_t first_bad_column(const T* row, int64_t v, float temperature) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < v; ++i) {
        const float x = sample_x(load_as_float(row, i), temperature);
        uint32_t bits;
        memcpy(&bits, &x, 4);
        bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    if (bad == 0) return -1;
    for (int64_t i = 0; i < v; ++i) {
        if (!is_finite_f(sample_x(load_as_float(row, i), temperature))) return i;
    }
    return -1;
}

// The threshold key of the kept set (every token with q > 0 and key >= it is kept) and the kept mass Zkept.
struct Kept {
    uint64_t threshold;
    uint64_t mass;
};

// Buckets of masses, in the order of q: the bit length e of q (0 for q = 0, at most 45) and the 3 bits after
// the leading one, so a bucket spans a factor of at most 2^(1/8) in q (0.09 in logit).
constexpr int kSubBits = 3;
constexpr int kBuckets = 46 << kSubBits;
inline int mass_bucket(uint64_t q) {
    if (q == 0) return 0;
    const int e = 64 - __builtin_clzll(q);
    const uint64_t sub = e > kSubBits ? q >> (e - 1 - kSubBits) : q << (kSubBits + 1 - e);
    return (e << kSubBits) | static_cast<int>(sub & ((1u << kSubBits) - 1));
}

// Collects the keys of the tokens in bucket b.
void bucket_keys(const uint64_t* q, int64_t v, int b, std::vector<uint64_t>& keys) {
    keys.clear();
    for (int64_t i = 0; i < v; ++i) {
        if (mass_bucket(q[i]) == b) keys.push_back(sample_key(q[i], i));
    }
}

// The shortest prefix of keys[0, len) in descending order whose mass, added to `cum`, reaches `target`:
// growing prefixes (64, 128, 256, ... keys) are isolated by nth_element and sorted, so a small kept part
// costs no full sort.
Kept prefix_to_target(std::vector<uint64_t>& keys, int64_t len, uint64_t cum, uint64_t target) {
    const auto desc = std::greater<uint64_t>();
    for (int64_t cur = 0, chunk = 64; cur < len; chunk *= 2) {
        const int64_t end = std::min(len, cur + chunk);
        std::nth_element(keys.begin() + cur, keys.begin() + (end - 1), keys.begin() + len, desc);
        std::sort(keys.begin() + cur, keys.begin() + end, desc);
        for (int64_t j = cur; j < end; ++j) {
            cum += keys[j] >> kSampleIndexBits;
            if (cum >= target) return Kept{keys[j], cum};
        }
        cur = end;
    }
    return Kept{keys[len - 1], cum};  // unreachable: the candidates' mass reaches the target
}

// The kept set without sorting all V keys. A histogram of counts and masses over the buckets finds the bucket
// where the count reaches k (top-k) or the mass from the top reaches P (top-p): every key in a higher bucket is
// kept, no key in a lower one is, so only the keys of that one bucket are selected among.
Kept kept_set(const uint64_t* q, int64_t v, uint64_t z, const SampleParams& p, std::vector<uint64_t>& keys) {
    const bool top_k = p.top_k > 0 && p.top_k < v;
    const bool top_p = p.top_p < 1.0f;
    if (!top_k && !top_p) return Kept{0, z};
    uint64_t count[kBuckets] = {}, mass[kBuckets] = {};
    for (int64_t i = 0; i < v; ++i) {
        const int b = mass_bucket(q[i]);
        count[b] += 1;
        mass[b] += q[i];
    }
    // Zero-mass tokens (bucket 0) come last in the order, so top-k cuts only when k < the tokens of mass > 0.
    const bool cut_k = top_k && static_cast<uint64_t>(p.top_k) < static_cast<uint64_t>(v) - count[0];
    if (!cut_k && !top_p) return Kept{0, z};
    if (!cut_k) {
        const uint64_t target = sample_top_p_target(p.top_p, z);
        uint64_t above = 0;
        int b = kBuckets - 1;
        for (; b > 1 && above + mass[b] < target; --b) above += mass[b];
        bucket_keys(q, v, b, keys);
        return prefix_to_target(keys, static_cast<int64_t>(keys.size()), above, target);
    }
    const uint64_t k = static_cast<uint64_t>(p.top_k);
    uint64_t above_count = 0, above_mass = 0;
    int bk = kBuckets - 1;
    for (; bk > 1 && above_count + count[bk] < k; --bk) {
        above_count += count[bk];
        above_mass += mass[bk];
    }
    bucket_keys(q, v, bk, keys);
    const int64_t len = static_cast<int64_t>(k - above_count);  // top-k keeps the first len keys of bucket bk
    std::nth_element(keys.begin(), keys.begin() + (len - 1), keys.end(), std::greater<uint64_t>());
    uint64_t zk = above_mass;
    for (int64_t j = 0; j < len; ++j) zk += keys[j] >> kSampleIndexBits;
    if (!top_p) return Kept{keys[len - 1], zk};
    // Top-p within the top-k set: the buckets above bk are whole, bucket bk holds only its first len keys.
    const uint64_t target = sample_top_p_target(p.top_p, zk);
    uint64_t above = 0;
    for (int b = kBuckets - 1; b > bk; --b) {
        if (above + mass[b] >= target) {
            bucket_keys(q, v, b, keys);
            return prefix_to_target(keys, static_cast<int64_t>(keys.size()), above, target);
        }
        above += mass[b];
    }
    return prefix_to_target(keys, len, above, target);
}

// Order-preserving integer image of a finite float (for a max that vectorizes as integer compares).
inline int32_t ordered_bits(float x) {
    int32_t b;
    memcpy(&b, &x, 4);
    return b ^ ((b >> 31) & 0x7fffffff);
}
inline float from_ordered_bits(int32_t k) {
    const int32_t b = k ^ ((k >> 31) & 0x7fffffff);
    float x;
    memcpy(&x, &b, 4);
    return x;
}

// The first kept token (q > 0, key >= threshold) whose running mass exceeds r. Blocks of 256 tokens whose
// kept mass keeps the running sum <= r are skipped with a plain sum (it vectorizes when nothing is cut).
int64_t draw(const uint64_t* q, int64_t v, uint64_t threshold, uint64_t r) {
    constexpr int64_t kBlock = 256;
    uint64_t cum = 0;
    int64_t base = 0;
    for (; base < v; base += kBlock) {
        const int64_t end = std::min(v, base + kBlock);
        uint64_t s = 0;
        if (threshold == 0) {
            for (int64_t i = base; i < end; ++i) s += q[i];
        } else {
            for (int64_t i = base; i < end; ++i) s += sample_key(q[i], i) >= threshold ? q[i] : 0;
        }
        if (cum + s > r) break;
        cum += s;
    }
    for (int64_t i = base; i < v; ++i) {
        if (q[i] == 0 || sample_key(q[i], i) < threshold) continue;
        cum += q[i];
        if (cum > r) return i;
    }
    return v - 1;  // unreachable: the kept mass exceeds r
}

template <class T>
void sample_row(const T* row, int64_t v, int64_t seq_id, int32_t position, const SampleParams& p, int32_t* token,
                float* logprob) {
    // max_i (l_i / T) = (max_i l_i) / T: a correctly rounded division by T > 0 is monotone.
    int32_t top = ordered_bits(load_as_float(row, 0));
    for (int64_t i = 1; i < v; ++i) {
        const int32_t k = ordered_bits(load_as_float(row, i));
        top = k > top ? k : top;
    }
    const float m = sample_x(from_ordered_bits(top), p.temperature);
    std::vector<uint64_t>& qv = t_scratch.q;
    if (qv.size() < static_cast<size_t>(v)) qv.resize(v);
    uint64_t* q = qv.data();
    const double md = static_cast<double>(m);
    uint64_t z = 0;
    for (int64_t i = 0; i < v; ++i) {
        q[i] = sample_mass(static_cast<double>(sample_x(load_as_float(row, i), p.temperature)) - md);
        z += q[i];
    }
    int64_t tok = 0;
    if (p.greedy) {
        while (sample_x(load_as_float(row, tok), p.temperature) != m) ++tok;  // the lowest index of the max
    } else {
        const Kept kept = kept_set(q, v, z, p, t_scratch.keys);
        tok = draw(q, v, kept.threshold, sample_mulhi(sample_rand64(p.seed, seq_id, position), kept.mass));
    }
    *token = static_cast<int32_t>(tok);
    if (logprob != nullptr) *logprob = sample_logprob(sample_x(load_as_float(row, tok), p.temperature), m, z);
}

template <class T>
int sample_typed(int64_t b, int64_t v, const T* logits, const int64_t* seq_ids, const int32_t* positions,
                 const SampleParams& p, int32_t* tokens, float* logprobs) {
    const int64_t rows_per_chunk = std::max<int64_t>(1, kLogitsPerChunk / v);
    const int64_t chunks = ceil_div(b, rows_per_chunk);

    // Pass 1, read-only: each chunk records its first bad logit as a flat index.
    std::vector<int64_t> bad(chunks, -1);
    parallel_for(chunks, [&](int64_t c) {
        const int64_t end = std::min(b, (c + 1) * rows_per_chunk);
        for (int64_t r = c * rows_per_chunk; r < end; ++r) {
            const int64_t col = first_bad_column(logits + r * v, v, p.temperature);
            if (col >= 0) {
                bad[c] = r * v + col;
                return;
            }
        }
    });
    for (int64_t c = 0; c < chunks; ++c) {
        if (bad[c] >= 0)
            return sample_bad_logit_status(bad[c] / v, bad[c] % v, load_as_float(logits, bad[c]), p.temperature);
    }

    // Pass 2: one token per row.
    parallel_for(chunks, [&](int64_t c) {
        const int64_t end = std::min(b, (c + 1) * rows_per_chunk);
        for (int64_t r = c * rows_per_chunk; r < end; ++r) {
            sample_row(logits + r * v, v, seq_ids[r], positions[r], p, tokens + r,
                       logprobs != nullptr ? logprobs + r : nullptr);
        }
    });
    return SPO4J_OK;
}

}  // namespace

int sample_cpu(int64_t b, int64_t v, const void* logits, int logits_dtype, const int64_t* seq_ids,
               const int32_t* positions, const SampleParams& p, int32_t* tokens, float* logprobs) {
    if (b == 0) return SPO4J_OK;
    if (logits_dtype == SPO4J_DTYPE_BF16)
        return sample_typed(b, v, static_cast<const uint16_t*>(logits), seq_ids, positions, p, tokens, logprobs);
    return sample_typed(b, v, static_cast<const float*>(logits), seq_ids, positions, p, tokens, logprobs);
}

}  // namespace spo4j
