// CPU implementation of the fused policy loss (math in policy_loss.h).
//
// Per-token entry, two passes over token chunks of fixed size:
//   1. read-only: validate the values that will be read, count kept tokens, whitening moments;
//   2. per-token terms, the gradient written once, partial sums per chunk.
// Logits entry: a row pass (online log-sum-exp in blocks: logp, entropy, validation), the per-token
// passes on those logp, then a row pass writing d loss / d logits. The rows are read twice and written
// once; nothing of size [N, V] is allocated.
#include "policy_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parallel.h"

namespace spo4j {

int make_policy_loss_params(const spo4j_policy_loss_config* c, bool has_ref, PolicyLossParams* p) {
    if (c == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "config is null");
    auto finite = [](float x) { return std::isfinite(x); };
    if (!finite(c->eps_low) || c->eps_low < 0 || c->eps_low >= 1)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "epsLow must be in [0, 1), got %g", c->eps_low);
    if (!finite(c->eps_high) || c->eps_high < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "epsHigh must be finite and >= 0, got %g", c->eps_high);
    if (!finite(c->dual_clip_c) || (c->dual_clip_c != 0 && c->dual_clip_c <= 1))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "dualClipC must be 0 (off) or > 1, got %g", c->dual_clip_c);
    if (!(c->rho > 0 && c->rho <= 1))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "rho must be in (0, 1], got %g", c->rho);
    if (!finite(c->log_ratio_clamp) || c->log_ratio_clamp <= 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "logRatioClamp must be finite and > 0, got %g", c->log_ratio_clamp);
    if (!finite(c->whiten_eps) || c->whiten_eps < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "whitenEps must be finite and >= 0, got %g", c->whiten_eps);
    if (!finite(c->beta) || c->beta < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "beta must be finite and >= 0, got %g", c->beta);
    if (c->beta > 0 && !has_ref) return fail(SPO4J_ERR_INVALID_ARGUMENT, "refLogp is required when beta > 0");
    if (c->kl_estimator < SPO4J_KL_K1 || c->kl_estimator > SPO4J_KL_K3)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "klEstimator must be 1, 2 or 3, got %d", c->kl_estimator);
    if (!finite(c->kl_clamp) || c->kl_clamp <= 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "klClamp must be finite and > 0, got %g", c->kl_clamp);
    for (int agg : {c->pg_agg, c->kl_agg})
        if (agg < SPO4J_AGG_TOKEN_MEAN || agg > SPO4J_AGG_CONSTANT_NORM)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "aggregation must be 0..3, got %d", agg);
    if (c->pg_agg == SPO4J_AGG_CONSTANT_NORM && !(finite(c->pg_norm) && c->pg_norm > 0))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "pgNorm must be finite and > 0, got %g", c->pg_norm);
    if (c->kl_agg == SPO4J_AGG_CONSTANT_NORM && !(finite(c->kl_norm) && c->kl_norm > 0))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "klNorm must be finite and > 0, got %g", c->kl_norm);
    if (!(c->max_mean_ratio >= 0))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "maxMeanRatio must be 0 (off) or > 0, got %g", c->max_mean_ratio);
    p->eps_low = c->eps_low;
    p->eps_high = c->eps_high;
    p->dual_clip_c = c->dual_clip_c;
    p->use_rho = c->rho < 1.0f;
    p->log_rho = std::log(static_cast<double>(c->rho));
    p->log_ratio_clamp = c->log_ratio_clamp;
    p->whiten = c->whiten != 0;
    p->whiten_eps = c->whiten_eps;
    p->beta = c->beta;
    p->kl_estimator = c->kl_estimator;
    p->kl_clamp = c->kl_clamp;
    p->has_ref = has_ref;
    p->pg_agg = c->pg_agg;
    p->kl_agg = c->kl_agg;
    p->pg_norm = c->pg_norm;
    p->kl_norm = c->kl_norm;
    p->max_mean_ratio = c->max_mean_ratio;
    return SPO4J_OK;
}

bool finish_stats(const PolicyLossParams& p, const PolicyLossScale& s, const Moments& m,
                  const PolicyLossSums& sums, bool has_entropy, double* stats) {
    const double k = static_cast<double>(s.kept);
    auto mean = [&](double x) { return s.kept > 0 ? x / k : 0.0; };
    const double mean_ratio = mean(sums.ratio);
    const bool skipped = p.max_mean_ratio > 0 && mean_ratio > p.max_mean_ratio;
    stats[SPO4J_PL_PG_LOSS] = skipped ? 0.0 : sums.pg;
    stats[SPO4J_PL_KL_LOSS] = skipped ? 0.0 : sums.kl;
    stats[SPO4J_PL_LOSS] = skipped ? 0.0 : sums.pg + static_cast<double>(p.beta) * sums.kl;
    stats[SPO4J_PL_KEPT] = k;
    stats[SPO4J_PL_CLIP_FRAC_LOW] = mean(static_cast<double>(sums.clip_low));
    stats[SPO4J_PL_CLIP_FRAC_HIGH] = mean(static_cast<double>(sums.clip_high));
    stats[SPO4J_PL_DUAL_CLIP_FRAC] = mean(static_cast<double>(sums.dual_clip));
    stats[SPO4J_PL_MEAN_RATIO] = mean_ratio;
    stats[SPO4J_PL_APPROX_KL_OLD] = mean(sums.k3_old);
    stats[SPO4J_PL_KL_REF] = mean(sums.kl_ref);
    stats[SPO4J_PL_ADV_MEAN] = m.count > 0 ? m.mean : 0.0;
    stats[SPO4J_PL_ADV_STD] = std::sqrt(m.variance());
    stats[SPO4J_PL_SKIPPED] = skipped ? 1.0 : 0.0;
    stats[SPO4J_PL_ENTROPY_MEAN] = has_entropy ? mean(sums.entropy) : 0.0;
    return skipped;
}

namespace {

constexpr int64_t kTokenChunk = 16384;

// Index of the sequence holding token t: the last b with seq_offsets[b] <= t (first of equal offsets skipped).
int32_t seq_of(const int32_t* offs, int32_t b, int64_t t) {
    const int32_t* it = std::upper_bound(offs, offs + b + 1, static_cast<int32_t>(t));
    return static_cast<int32_t>(it - offs) - 1;
}

int check_offsets(int64_t n, int32_t b, const int32_t* offs) {
    if (offs == nullptr) return SPO4J_OK;
    if (offs[0] != 0) return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets[0] must be 0, got %d", offs[0]);
    for (int32_t i = 0; i < b; ++i)
        if (offs[i + 1] < offs[i])
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets must be non-decreasing: seqOffsets[%d] = %d < "
                        "seqOffsets[%d] = %d", i + 1, offs[i + 1], i, offs[i]);
    if (offs[b] != n)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets[B] must equal N = %lld, got %d",
                    static_cast<long long>(n), offs[b]);
    return SPO4J_OK;
}

struct FirstPass {
    int64_t kept = 0;
    Moments adv;
    int64_t bad_index = -1;  // first invalid value in the chunk
    const char* bad_name = nullptr;
};

// The per-token passes on given logp (from the caller or from the logits row pass).
int policy_loss_core_cpu(int64_t n, int32_t b, const int32_t* offs, const float* logp, const float* old_logp,
                         const float* ref_logp, const float* adv, const uint8_t* valid, const PolicyLossParams& p,
                         float* grad_logp, const float* entropy, double* stats) {
    const int64_t chunks = ceil_div(n, kTokenChunk);
    std::vector<FirstPass> first(static_cast<size_t>(chunks));
    parallel_for(chunks, [&](int64_t c) {
        FirstPass& f = first[c];
        const int64_t end = std::min(n, (c + 1) * kTokenChunk);
        double sum = 0.0;
        for (int64_t t = c * kTokenChunk; t < end; ++t) {
            if (valid != nullptr && !valid[t]) continue;
            const char* bad = nullptr;
            if (!is_finite_f(logp[t])) bad = "logp";
            else if (!is_finite_f(old_logp[t])) bad = "oldLogp";
            else if (!is_finite_f(adv[t])) bad = "advantages";
            else if (ref_logp != nullptr && !is_finite_f(ref_logp[t])) bad = "refLogp";
            if (bad != nullptr) {
                f.bad_index = t;
                f.bad_name = bad;
                return;
            }
            if (token_kept(true, old_logp[t], p)) {
                ++f.kept;
                sum += adv[t];
            }
        }
        // The chunk is cache-resident: a second loop gives its M2 about its own mean, merged below with
        // Chan's formula (exact, no per-element division as in Welford's update).
        if (f.kept == 0) return;
        const double mean = sum / static_cast<double>(f.kept);
        double m2 = 0.0;
        for (int64_t t = c * kTokenChunk; t < end; ++t) {
            if (token_kept(valid == nullptr || valid[t], old_logp[t], p)) {
                const double d = adv[t] - mean;
                m2 += d * d;
            }
        }
        f.adv.count = static_cast<double>(f.kept);
        f.adv.mean = mean;
        f.adv.m2 = m2;
    });
    PolicyLossScale s{};
    Moments moments;
    for (const FirstPass& f : first) {
        if (f.bad_index >= 0)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "%s[%lld] is not finite", f.bad_name,
                        static_cast<long long>(f.bad_index));
        s.kept += f.kept;
        moments.merge(f.adv);
    }
    s.adv_mean = p.whiten ? moments.mean : 0.0;
    s.adv_inv_std = p.whiten ? 1.0 / std::sqrt(moments.variance() + p.whiten_eps) : 1.0;
    s.pg_weight = agg_weight(p.pg_agg, p.pg_norm, s.kept, b, 0);
    s.kl_weight = agg_weight(p.kl_agg, p.kl_norm, s.kept, b, 0);

    // Kept tokens per sequence, for SEQ_MEAN_TOKEN_MEAN only; one sequence per task.
    std::vector<int64_t> seq_kept;
    const bool per_seq = agg_needs_seq_counts(p.pg_agg) || (p.has_ref && agg_needs_seq_counts(p.kl_agg));
    if (per_seq) {
        seq_kept.assign(static_cast<size_t>(b), 0);
        const int64_t seq_chunk = 256;
        parallel_for(ceil_div(b, seq_chunk), [&](int64_t c) {
            const int64_t end = std::min<int64_t>(b, (c + 1) * seq_chunk);
            for (int64_t q = c * seq_chunk; q < end; ++q) {
                int64_t k = 0;
                for (int64_t t = offs[q]; t < offs[q + 1]; ++t)
                    k += token_kept(valid == nullptr || valid[t], old_logp[t], p) ? 1 : 0;
                seq_kept[q] = k;
            }
        });
    }

    std::vector<PolicyLossSums> sums(static_cast<size_t>(chunks));
    const double beta = p.beta;
    parallel_for(chunks, [&](int64_t c) {
        PolicyLossSums& acc = sums[c];
        const int64_t begin = c * kTokenChunk, end = std::min(n, begin + kTokenChunk);
        int32_t q = per_seq ? seq_of(offs, b, begin) : 0;
        for (int64_t t = begin; t < end; ++t) {
            if (per_seq)
                while (offs[q + 1] <= t) ++q;
            const bool kept = token_kept(valid == nullptr || valid[t], old_logp[t], p);
            if (!kept) {
                if (grad_logp != nullptr) grad_logp[t] = 0.0f;
                continue;
            }
            const float a = static_cast<float>((adv[t] - s.adv_mean) * s.adv_inv_std);
            const TokenTerms tt = token_terms(logp[t], old_logp[t], ref_logp ? ref_logp[t] : 0.0f, a, p);
            const double wpg = per_seq && agg_needs_seq_index(p.pg_agg)
                                   ? agg_weight(p.pg_agg, p.pg_norm, s.kept, b, seq_kept[q]) : s.pg_weight;
            const double wkl = per_seq && agg_needs_seq_index(p.kl_agg)
                                   ? agg_weight(p.kl_agg, p.kl_norm, s.kept, b, seq_kept[q]) : s.kl_weight;
            acc.pg += wpg * tt.pg;
            acc.kl += wkl * tt.kl;
            acc.ratio += tt.ratio;
            acc.k3_old += tt.k3_old;
            acc.kl_ref += tt.kl;
            if (entropy != nullptr) acc.entropy += entropy[t];
            acc.clip_low += tt.clip_low;
            acc.clip_high += tt.clip_high;
            acc.dual_clip += tt.dual_clip;
            if (grad_logp != nullptr) grad_logp[t] = static_cast<float>(wpg * tt.dpg + beta * wkl * tt.dkl);
        }
    });
    PolicyLossSums total;
    for (const PolicyLossSums& x : sums) total.merge(x);
    const bool skipped = finish_stats(p, s, moments, total, entropy != nullptr, stats);
    if (skipped && grad_logp != nullptr) std::fill(grad_logp, grad_logp + n, 0.0f);
    return SPO4J_OK;
}

// ---- logits rows -----------------------------------------------------------------------------------

constexpr int64_t kVocabBlock = 2048;

struct RowStats {
    float lse;      // log Σ exp(z), z = logits / T
    float entropy;  // lse − Σ softmax(z)·z
    bool bad;       // a NaN or ±inf logit
};

// Block-wise online log-sum-exp. Within a block of up to kVocabBlock logits, 16 independent lanes take
// the max and then the sums; fixed lanes let the compiler vectorize the loops (a single running float sum
// cannot be reordered), and 16 partial sums are also more accurate than one. Blocks merge by rescaling.
// Entropy uses w' = Σ e^{z−m}(z − m), so that H = log s − w'/s: the form lse − Σ p·z would cancel two
// numbers of the size of the logits and lose the precision of the (small) entropy.
constexpr int kLanes = 16;

template <class T>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
RowStats row_stats(const T* row, int64_t v, float inv_t, bool want_entropy) {
    double total_s = 0.0, total_w = 0.0;  // Σ e^{z−M} and Σ e^{z−M}(z − M) about the running max M
    float total_m = -std::numeric_limits<float>::infinity();
    bool bad = false;
    for (int64_t start = 0; start < v; start += kVocabBlock) {
        const int64_t len = std::min(kVocabBlock, v - start), full = len - len % kLanes;
        const T* x = row + start;
        float lane_max[kLanes], lane_bad[kLanes] = {};
        for (int l = 0; l < kLanes; ++l) lane_max[l] = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < full; i += kLanes) {
            for (int l = 0; l < kLanes; ++l) {
                const float z = load_as_float(x, i + l) * inv_t;
                lane_bad[l] += z - z;  // becomes NaN at a NaN or infinite z
                lane_max[l] = z > lane_max[l] ? z : lane_max[l];
            }
        }
        for (int64_t i = full; i < len; ++i) {
            const float z = load_as_float(x, i) * inv_t;
            lane_bad[0] += z - z;
            lane_max[0] = z > lane_max[0] ? z : lane_max[0];
        }
        float m = lane_max[0], nonfinite = lane_bad[0];
        for (int l = 1; l < kLanes; ++l) {
            m = lane_max[l] > m ? lane_max[l] : m;
            nonfinite += lane_bad[l];
        }
        if (!(nonfinite == 0.0f)) {
            bad = true;
            break;
        }
        float lane_s[kLanes] = {}, lane_w[kLanes] = {};
        if (want_entropy) {
            for (int64_t i = 0; i < full; i += kLanes) {
                for (int l = 0; l < kLanes; ++l) {
                    const float d = load_as_float(x, i + l) * inv_t - m;
                    const float e = exp_nonpositive(d);
                    lane_s[l] += e;
                    lane_w[l] += e * d;
                }
            }
            for (int64_t i = full; i < len; ++i) {
                const float d = load_as_float(x, i) * inv_t - m;
                const float e = exp_nonpositive(d);
                lane_s[0] += e;
                lane_w[0] += e * d;
            }
        } else {
            for (int64_t i = 0; i < full; i += kLanes)
                for (int l = 0; l < kLanes; ++l) lane_s[l] += exp_nonpositive(load_as_float(x, i + l) * inv_t - m);
            for (int64_t i = full; i < len; ++i) lane_s[0] += exp_nonpositive(load_as_float(x, i) * inv_t - m);
        }
        double s = 0.0, w = 0.0;
        for (int l = 0; l < kLanes; ++l) {
            s += lane_s[l];
            w += lane_w[l];
        }
        if (total_s == 0.0) {  // first block (a sum over a non-empty block is >= 1)
            total_s = s;
            total_w = w;
            total_m = m;
        } else if (m > total_m) {  // rebase the running sums on the new max: (z − M) = (z − m) + (m − M)
            const double shift = static_cast<double>(total_m) - m, scale = std::exp(shift);
            total_w = (total_w + shift * total_s) * scale + w;
            total_s = total_s * scale + s;
            total_m = m;
        } else {
            const double shift = static_cast<double>(m) - total_m, scale = std::exp(shift);
            total_w += (w + shift * s) * scale;
            total_s += s * scale;
        }
    }
    RowStats r;
    r.bad = bad;
    const double log_s = std::log(total_s);
    r.lse = static_cast<float>(total_m + log_s);
    r.entropy = static_cast<float>(log_s - total_w / total_s);
    return r;
}

// grad = coef · (onehot(target) − exp(z − lse)),  coef = (∂loss/∂logp) / T.
template <class T>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void row_grad(const T* row, T* grad, int64_t v, float inv_t, float lse, float coef, int64_t target) {
    if (coef == 0.0f) {
        for (int64_t i = 0; i < v; ++i) store_from_float(grad, i, 0.0f);
        return;
    }
    // Read before the loop: with grad == row (in place) the target's logit is overwritten by it.
    const float p_target = exp_nonpositive(load_as_float(row, target) * inv_t - lse);
    for (int64_t i = 0; i < v; ++i)
        store_from_float(grad, i, -coef * exp_nonpositive(load_as_float(row, i) * inv_t - lse));
    store_from_float(grad, target, coef * (1.0f - p_target));
}

int64_t load_target(const void* targets, int dtype, int64_t i) {
    return dtype == SPO4J_DTYPE_I64 ? static_cast<const int64_t*>(targets)[i]
                                    : static_cast<const int32_t*>(targets)[i];
}

int64_t rows_per_chunk(int64_t v) { return std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(v, 1)); }

// logp (and entropy, and lse when wanted) of every row whose `valid` flag is set; validates targets/logits.
template <class T>
int logprob_rows(int64_t n, int64_t v, const T* logits, const void* targets, int targets_dtype, float temperature,
                 const uint8_t* valid, float* logp, float* entropy, float* lse) {
    const float inv_t = 1.0f / temperature;
    const int64_t per = rows_per_chunk(v), chunks = ceil_div(n, per);
    std::vector<int64_t> bad_target(static_cast<size_t>(chunks), -1), bad_logit(static_cast<size_t>(chunks), -1);
    parallel_for(chunks, [&](int64_t c) {
        const int64_t end = std::min(n, (c + 1) * per);
        for (int64_t i = c * per; i < end; ++i) {
            if (valid != nullptr && !valid[i]) {
                logp[i] = 0.0f;
                if (entropy) entropy[i] = 0.0f;
                if (lse) lse[i] = 0.0f;
                continue;
            }
            const int64_t tgt = load_target(targets, targets_dtype, i);
            if (tgt < 0 || tgt >= v) {
                bad_target[c] = i;
                return;
            }
            const T* row = logits + i * v;
            const RowStats rs = row_stats(row, v, inv_t, entropy != nullptr);
            if (rs.bad) {
                bad_logit[c] = i;
                return;
            }
            logp[i] = load_as_float(row, tgt) * inv_t - rs.lse;
            if (entropy) entropy[i] = rs.entropy;
            if (lse) lse[i] = rs.lse;
        }
    });
    for (int64_t c = 0; c < chunks; ++c) {
        if (bad_target[c] >= 0) {
            const int64_t i = bad_target[c];
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "targets[%lld] = %lld is outside [0, V = %lld)",
                        static_cast<long long>(i), static_cast<long long>(load_target(targets, targets_dtype, i)),
                        static_cast<long long>(v));
        }
        if (bad_logit[c] >= 0)
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "logits row %lld has a NaN or infinite value",
                        static_cast<long long>(bad_logit[c]));
    }
    return SPO4J_OK;
}

template <class T>
int policy_loss_logits_typed(int64_t n, int64_t v, int32_t b, const int32_t* offs, const T* logits,
                             const void* targets, int targets_dtype, float temperature, const float* old_logp,
                             const float* ref_logp, const float* adv, const uint8_t* valid,
                             const PolicyLossParams& p, T* grad_logits, float* logp_out, float* entropy_out,
                             double* stats) {
    std::vector<float> logp_tmp, lse(static_cast<size_t>(n)), dlogp;
    float* logp = logp_out;
    if (logp == nullptr) {
        logp_tmp.resize(static_cast<size_t>(n));
        logp = logp_tmp.data();
    }
    int st = logprob_rows(n, v, logits, targets, targets_dtype, temperature, valid, logp, entropy_out, lse.data());
    if (st != SPO4J_OK) return st;
    if (grad_logits != nullptr) dlogp.resize(static_cast<size_t>(n));
    st = policy_loss_core_cpu(n, b, offs, logp, old_logp, ref_logp, adv, valid, p,
                              grad_logits ? dlogp.data() : nullptr, entropy_out, stats);
    if (st != SPO4J_OK || grad_logits == nullptr) return st;
    const float inv_t = 1.0f / temperature;
    const int64_t per = rows_per_chunk(v);
    parallel_for(ceil_div(n, per), [&](int64_t c) {
        const int64_t end = std::min(n, (c + 1) * per);
        for (int64_t i = c * per; i < end; ++i) {
            const int64_t tgt = dlogp[i] != 0.0f ? load_target(targets, targets_dtype, i) : 0;
            row_grad(logits + i * v, grad_logits + i * v, v, inv_t, lse[i], dlogp[i] * inv_t, tgt);
        }
    });
    return SPO4J_OK;
}

}  // namespace

int policy_loss_tokens_cpu(int64_t n, int32_t b, const int32_t* offs, const float* logp, const float* old_logp,
                           const float* ref_logp, const float* adv, const uint8_t* valid, const PolicyLossParams& p,
                           float* grad_logp, double* stats) {
    int st = check_offsets(n, b, offs);
    if (st != SPO4J_OK) return st;
    return policy_loss_core_cpu(n, b, offs, logp, old_logp, ref_logp, adv, valid, p, grad_logp, nullptr, stats);
}

int policy_loss_logits_cpu(int64_t n, int64_t v, int32_t b, const int32_t* offs, const void* logits,
                           int logits_dtype, const void* targets, int targets_dtype, float temperature,
                           const float* old_logp, const float* ref_logp, const float* adv, const uint8_t* valid,
                           const PolicyLossParams& p, void* grad_logits, float* logp_out, float* entropy_out,
                           double* stats) {
    int st = check_offsets(n, b, offs);
    if (st != SPO4J_OK) return st;
    if (logits_dtype == SPO4J_DTYPE_BF16)
        return policy_loss_logits_typed(n, v, b, offs, static_cast<const uint16_t*>(logits), targets, targets_dtype,
                                        temperature, old_logp, ref_logp, adv, valid, p,
                                        static_cast<uint16_t*>(grad_logits), logp_out, entropy_out, stats);
    return policy_loss_logits_typed(n, v, b, offs, static_cast<const float*>(logits), targets, targets_dtype,
                                    temperature, old_logp, ref_logp, adv, valid, p, static_cast<float*>(grad_logits),
                                    logp_out, entropy_out, stats);
}

int token_logprobs_cpu(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                       int targets_dtype, float temperature, float* logp_out, float* entropy_out) {
    if (logits_dtype == SPO4J_DTYPE_BF16)
        return logprob_rows(n, v, static_cast<const uint16_t*>(logits), targets, targets_dtype, temperature,
                            nullptr, logp_out, entropy_out, nullptr);
    return logprob_rows(n, v, static_cast<const float*>(logits), targets, targets_dtype, temperature, nullptr,
                        logp_out, entropy_out, nullptr);
}

}  // namespace spo4j
