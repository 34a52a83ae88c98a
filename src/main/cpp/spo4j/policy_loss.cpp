// CPU implementation of the fused policy loss (math in policy_loss.h).
//
// Per-token entry, two passes over token chunks of fixed size:
//   1. read-only: validate the values that will be read, count kept tokens, whitening moments;
//   2. per-token terms, the gradient written once, partial sums per chunk.
// Logits entry: a row pass (online log-sum-exp in blocks: logp, entropy, validation), the per-token
// passes on those logp, then a row pass writing d loss / d logits. The rows are read twice and written
// once; nothing of size [N, V] is allocated. token_logprobs is the first row pass alone; its backward is
// the same row pass (for lse and the checks) followed by the gradient row pass.
#include "policy_loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "parallel.h"

namespace spo4j {

int make_policy_loss_params(const spo4j_policy_loss_config* c, bool has_ref, PolicyLossParams* p) {
    if (c == nullptr) return fail(SPO4J_ERR_INVALID_ARGUMENT, "config must not be null");
    auto finite = [](float x) { return std::isfinite(x); };
    if (!finite(c->eps_low) || c->eps_low < 0 || c->eps_low >= 1)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "epsLow must be in [0, 1), got %g", c->eps_low);
    if (!finite(c->eps_high) || c->eps_high < 0)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "epsHigh must be finite and >= 0, got %g", c->eps_high);
    if (!finite(c->dual_clip_c) || (c->dual_clip_c != 0 && c->dual_clip_c <= 1))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "dualClipC must be 0 (off) or > 1, got %g", c->dual_clip_c);
    if (!(c->rho > 0 && c->rho <= 1)) return fail(SPO4J_ERR_INVALID_ARGUMENT, "rho must be in (0, 1], got %g", c->rho);
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
    if (!(c->max_mean_ratio == 0 || (finite(c->max_mean_ratio) && c->max_mean_ratio > 0)))
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "maxMeanRatio must be 0 (off) or finite and > 0, got %g",
                    c->max_mean_ratio);
    p->eps_low = c->eps_low;
    p->eps_high = c->eps_high;
    p->dual_clip_c = c->dual_clip_c;
    p->use_rho = c->rho < 1.0f;
    p->log_rho = std::log(static_cast<double>(c->rho));
    p->log_rho_below = static_cast<float>(p->log_rho);
    while (static_cast<double>(p->log_rho_below) >= p->log_rho)
        p->log_rho_below = std::nextafter(p->log_rho_below, -std::numeric_limits<float>::infinity());
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

bool finish_stats(const PolicyLossParams& p, const PolicyLossScale& s, const Moments& m, const PolicyLossSums& sums,
                  bool has_entropy, double* stats) {
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

constexpr int64_t kTokenChunk = 16384;  // tokens per parallel task and per partial-sum slot
constexpr int kLaneCount = 16;          // independent float accumulators in the vectorized loops
constexpr int64_t kFlush = 1024;        // tokens per block whose lane sums are flushed into double

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
            return fail(SPO4J_ERR_INVALID_ARGUMENT,
                        "seqOffsets must be non-decreasing: seqOffsets[%d] = %d < "
                        "seqOffsets[%d] = %d",
                        i + 1, offs[i + 1], i, offs[i]);
    if (offs[b] != n)
        return fail(SPO4J_ERR_INVALID_ARGUMENT, "seqOffsets[B] must equal N = %lld, got %d", static_cast<long long>(n),
                    offs[b]);
    return SPO4J_OK;
}

// First pass over one chunk: kept count, advantage moments, and whether any value read later is NaN or
// infinite (x − x is NaN exactly then, and the masked sum spreads it). Per block of kFlush tokens a flat loop
// fills L1-resident buffers (a pure map: it vectorizes), lane loops sum them, the block's M2 is taken about
// the block's own mean from the buffer, and blocks merge with Chan's formula (exact; no per-element division
// as in Welford's update). The caller rescans a chunk only when it holds a bad value, to name the first one.
template <bool kHasValid, bool kHasRef>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
bool first_pass_chunk(int64_t begin, int64_t end, const float* __restrict logp, const float* __restrict old_logp,
                      const float* __restrict ref_logp, const float* __restrict adv, const uint8_t* __restrict valid,
                      PolicyLossParams p, int64_t* kept_out, Moments* moments_out) {
    alignas(64) float bad[kFlush], kept[kFlush], kept_adv[kFlush];
    Moments chunk;
    for (int64_t block = begin; block < end; block += kFlush) {
        const int64_t len = std::min(kFlush, end - block);
        const float* lp = logp + block;
        const float* ol = old_logp + block;
        const float* rf = kHasRef ? ref_logp + block : nullptr;
        const float* av = adv + block;
        const uint8_t* va = kHasValid ? valid + block : nullptr;
        for (int64_t i = 0; i < len; ++i) {
            const float valid_f = kHasValid ? static_cast<float>(va[i]) : 1.0f;
            float nonfinite = (lp[i] - lp[i]) + (ol[i] - ol[i]) + (av[i] - av[i]);
            if (kHasRef) nonfinite += rf[i] - rf[i];
            bad[i] = and_mask(nonfinite, valid_f != 0.0f ? 0xffffffffu : 0u);
            const bool k = token_kept(valid_f != 0.0f, ol[i], p);
            kept[i] = k ? 1.0f : 0.0f;
            kept_adv[i] = and_mask(av[i], k ? 0xffffffffu : 0u);
        }
        const int64_t padded = (len + kLaneCount - 1) / kLaneCount * kLaneCount;
        for (int64_t i = len; i < padded; ++i) bad[i] = kept[i] = kept_adv[i] = 0.0f;
        float lane_bad[kLaneCount] = {}, lane_kept[kLaneCount] = {}, lane_sum[kLaneCount] = {};
        for (int64_t i = 0; i < padded; i += kLaneCount) {
            for (int l = 0; l < kLaneCount; ++l) {
                lane_bad[l] += bad[i + l];
                lane_kept[l] += kept[i + l];
                lane_sum[l] += kept_adv[i + l];
            }
        }
        float bad_total = 0.0f;
        double count = 0.0, sum = 0.0;
        for (int l = 0; l < kLaneCount; ++l) {
            bad_total += lane_bad[l];
            count += lane_kept[l];
            sum += lane_sum[l];
        }
        if (!(bad_total == 0.0f)) return false;
        if (count == 0.0) continue;
        const float mean = static_cast<float>(sum / count);
        float lane_m2[kLaneCount] = {};
        for (int64_t i = 0; i < padded; i += kLaneCount) {
            for (int l = 0; l < kLaneCount; ++l) {
                const float d = kept_adv[i + l] - mean;
                lane_m2[l] += kept[i + l] * d * d;
            }
        }
        Moments m;
        m.count = count;
        m.mean = static_cast<double>(mean);
        for (int l = 0; l < kLaneCount; ++l) m.m2 += lane_m2[l];
        // M2 was taken about the rounded mean; Σ(x − c)² = M2 + n(c − x̄)² recovers M2 about the true mean.
        const double shift = m.mean - sum / count;
        m.m2 = std::max(0.0, m.m2 - count * shift * shift);
        m.mean = sum / count;
        chunk.merge(m);
    }
    *kept_out = static_cast<int64_t>(chunk.count);
    *moments_out = chunk;
    return true;
}

using FirstPassFn = bool (*)(int64_t, int64_t, const float*, const float*, const float*, const float*, const uint8_t*,
                             PolicyLossParams, int64_t*, Moments*);

FirstPassFn pick_first_pass(bool has_valid, bool has_ref) {
    if (has_valid) return has_ref ? &first_pass_chunk<true, true> : &first_pass_chunk<true, false>;
    return has_ref ? &first_pass_chunk<false, true> : &first_pass_chunk<false, false>;
}

struct FirstPass {
    int64_t kept = 0;
    Moments adv;
    int64_t bad_index = -1;  // first invalid value in the chunk
    const char* bad_name = nullptr;
};

// Main pass over one chunk when every token of a term has the same weight (all aggregations but
// SEQ_MEAN_TOKEN_MEAN): raw sums, scaled once by the caller. Per block of kFlush tokens, a flat loop computes
// every token's terms into stack buffers (a pure map: it vectorizes), then 16-lane loops sum the buffers and
// flush the lanes into double (64 float terms per lane between flushes keeps rounding near 1e-6 relative).
// One loop doing both defeats GCC's vectorizer. Template flags hoist the per-call choices; results do not
// depend on the vector width, so every machine and clone gives the same bits.
template <bool kHasValid, bool kHasRef, int kKl, bool kHasGrad>
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void uniform_weight_chunk(int64_t begin, int64_t end, const float* __restrict logp, const float* __restrict old_logp,
                          const float* __restrict ref_logp, const float* __restrict adv,
                          const uint8_t* __restrict valid, PolicyLossParams p, float adv_mean, float adv_inv_std,
                          float grad_pg_weight, float grad_kl_weight, float* __restrict grad,
                          PolicyLossSums* __restrict out) {
    enum { PG, KL, RATIO, K3, LOW, HIGH, DUAL, TERMS };
    alignas(64) float terms[TERMS][kFlush];
    PolicyLossSums acc;
    for (int64_t block = begin; block < end; block += kFlush) {
        const int64_t len = std::min(kFlush, end - block);
        const float* lp_in = logp + block;
        const float* old_in = old_logp + block;
        const float* ref_in = kHasRef ? ref_logp + block : nullptr;
        const float* adv_in = adv + block;
        const uint8_t* valid_in = kHasValid ? valid + block : nullptr;
        float* grad_out = kHasGrad ? grad + block : nullptr;
        for (int64_t i = 0; i < len; ++i) {
            // Every load is used and the mask is applied by AND: a token that is not kept may hold NaN padding,
            // which becomes +0 before any arithmetic; its outputs are then scaled by 0. `valid` is widened to
            // float first so that all masks have the width of the float lanes.
            const float valid_f = kHasValid ? static_cast<float>(valid_in[i]) : 1.0f;
            const float o = old_in[i];
            const bool kept = token_kept(valid_f != 0.0f, o, p);
            const uint32_t keep = kept ? 0xffffffffu : 0u;
            const float on = kept ? 1.0f : 0.0f;
            const float lp = and_mask(lp_in[i], keep), ol = and_mask(o, keep);
            const float rf = kHasRef ? and_mask(ref_in[i], keep) : 0.0f;
            const float a = and_mask((adv_in[i] - adv_mean) * adv_inv_std, keep);
            const TokenTerms tt = token_terms_fixed<kHasRef, kKl>(lp, ol, rf, a, p);
            terms[PG][i] = on * tt.pg;
            terms[KL][i] = on * tt.kl;
            terms[RATIO][i] = on * tt.ratio;
            terms[K3][i] = on * tt.k3_old;
            terms[LOW][i] = on * tt.clip_low;
            terms[HIGH][i] = on * tt.clip_high;
            terms[DUAL][i] = on * tt.dual_clip;
            if (kHasGrad) grad_out[i] = on * (grad_pg_weight * tt.dpg + grad_kl_weight * tt.dkl);
        }
        for (int64_t i = len; i < ((len + kLaneCount - 1) / kLaneCount) * kLaneCount; ++i)
            for (int k = 0; k < TERMS; ++k) terms[k][i] = 0.0f;
        double sums[TERMS];
        for (int k = 0; k < TERMS; ++k) {
            float lane[kLaneCount] = {};
            for (int64_t i = 0; i < len; i += kLaneCount)
                for (int l = 0; l < kLaneCount; ++l) lane[l] += terms[k][i + l];
            double total = 0.0;
            for (int l = 0; l < kLaneCount; ++l) total += lane[l];
            sums[k] = total;
        }
        acc.pg += sums[PG];
        acc.kl += sums[KL];
        acc.ratio += sums[RATIO];
        acc.k3_old += sums[K3];
        acc.clip_low += static_cast<int64_t>(sums[LOW]);
        acc.clip_high += static_cast<int64_t>(sums[HIGH]);
        acc.dual_clip += static_cast<int64_t>(sums[DUAL]);
    }
    acc.kl_ref = acc.kl;
    *out = acc;
}

using UniformChunkFn = void (*)(int64_t, int64_t, const float*, const float*, const float*, const float*,
                                const uint8_t*, PolicyLossParams, float, float, float, float, float*, PolicyLossSums*);

template <bool kHasValid, bool kHasRef, bool kHasGrad>
UniformChunkFn pick_kl(int kl) {
    if (!kHasRef) return &uniform_weight_chunk<kHasValid, false, SPO4J_KL_K3, kHasGrad>;
    if (kl == SPO4J_KL_K1) return &uniform_weight_chunk<kHasValid, kHasRef, SPO4J_KL_K1, kHasGrad>;
    if (kl == SPO4J_KL_K2) return &uniform_weight_chunk<kHasValid, kHasRef, SPO4J_KL_K2, kHasGrad>;
    return &uniform_weight_chunk<kHasValid, kHasRef, SPO4J_KL_K3, kHasGrad>;
}

UniformChunkFn pick_uniform_chunk(bool has_valid, bool has_ref, bool has_grad, int kl) {
    if (has_valid) {
        if (has_ref) return has_grad ? pick_kl<true, true, true>(kl) : pick_kl<true, true, false>(kl);
        return has_grad ? pick_kl<true, false, true>(kl) : pick_kl<true, false, false>(kl);
    }
    if (has_ref) return has_grad ? pick_kl<false, true, true>(kl) : pick_kl<false, true, false>(kl);
    return has_grad ? pick_kl<false, false, true>(kl) : pick_kl<false, false, false>(kl);
}

// The per-token passes on given logp (from the caller or from the logits row pass).
int policy_loss_core_cpu(int64_t n, int32_t b, const int32_t* offs, const float* logp, const float* old_logp,
                         const float* ref_logp, const float* adv, const uint8_t* valid, const PolicyLossParams& p,
                         float* grad_logp, const float* entropy, double* stats) {
    const int64_t chunks = ceil_div(n, kTokenChunk);
    std::vector<FirstPass> first(static_cast<size_t>(chunks));
    const FirstPassFn first_fn = pick_first_pass(valid != nullptr, ref_logp != nullptr);
    parallel_for(chunks, [&](int64_t c) {
        FirstPass& f = first[c];
        const int64_t begin = c * kTokenChunk, end = std::min(n, begin + kTokenChunk);
        if (first_fn(begin, end, logp, old_logp, ref_logp, adv, valid, p, &f.kept, &f.adv)) return;
        for (int64_t t = begin; t < end; ++t) {  // error path only: name the first bad value
            if (valid != nullptr && !valid[t]) continue;
            const char* bad = !is_finite_f(logp[t])                                ? "logp"
                              : !is_finite_f(old_logp[t])                          ? "oldLogp"
                              : !is_finite_f(adv[t])                               ? "advantages"
                              : (ref_logp != nullptr && !is_finite_f(ref_logp[t])) ? "refLogp"
                                                                                   : nullptr;
            if (bad != nullptr) {
                f.bad_index = t;
                f.bad_name = bad;
                return;
            }
        }
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
    if (!per_seq && entropy == nullptr) {
        const UniformChunkFn chunk_fn =
            pick_uniform_chunk(valid != nullptr, ref_logp != nullptr, grad_logp != nullptr, p.kl_estimator);
        const float mean = static_cast<float>(s.adv_mean), inv_std = static_cast<float>(s.adv_inv_std);
        const float gpg = static_cast<float>(s.pg_weight), gkl = static_cast<float>(beta * s.kl_weight);
        parallel_for(chunks, [&](int64_t c) {
            const int64_t begin = c * kTokenChunk, end = std::min(n, begin + kTokenChunk);
            chunk_fn(begin, end, logp, old_logp, ref_logp, adv, valid, p, mean, inv_std, gpg, gkl, grad_logp, &sums[c]);
            sums[c].pg *= s.pg_weight;
            sums[c].kl *= s.kl_weight;
        });
    } else {
        parallel_for(chunks, [&](int64_t c) {
            PolicyLossSums& acc = sums[c];
            const int64_t begin = c * kTokenChunk, end = std::min(n, begin + kTokenChunk);
            int32_t q = per_seq ? seq_of(offs, b, begin) : 0;
            for (int64_t t = begin; t < end; ++t) {
                if (per_seq)
                    while (offs[q + 1] <= t) ++q;
                // Every token goes through the same arithmetic; a token that is not kept gets zero inputs
                // (selected, not multiplied: padding may hold NaN) and zero weight.
                const bool kept = token_kept(valid == nullptr || valid[t], old_logp[t], p);
                const float lp = kept ? logp[t] : 0.0f, ol = kept ? old_logp[t] : 0.0f;
                const float rf = (kept && ref_logp != nullptr) ? ref_logp[t] : 0.0f;
                const float a = kept ? static_cast<float>((adv[t] - s.adv_mean) * s.adv_inv_std) : 0.0f;
                const TokenTerms tt = token_terms(lp, ol, rf, a, p);
                double wpg = s.pg_weight, wkl = s.kl_weight;
                if (per_seq) {
                    if (agg_needs_seq_index(p.pg_agg)) wpg = agg_weight(p.pg_agg, p.pg_norm, s.kept, b, seq_kept[q]);
                    if (agg_needs_seq_index(p.kl_agg)) wkl = agg_weight(p.kl_agg, p.kl_norm, s.kept, b, seq_kept[q]);
                }
                const double on = kept ? 1.0 : 0.0;
                acc.pg += on * wpg * tt.pg;
                acc.kl += on * wkl * tt.kl;
                acc.ratio += on * tt.ratio;
                acc.k3_old += on * tt.k3_old;
                acc.kl_ref += on * tt.kl;
                if (entropy != nullptr) acc.entropy += kept ? entropy[t] : 0.0f;
                acc.clip_low += kept ? static_cast<int64_t>(tt.clip_low) : 0;
                acc.clip_high += kept ? static_cast<int64_t>(tt.clip_high) : 0;
                acc.dual_clip += kept ? static_cast<int64_t>(tt.dual_clip) : 0;
                if (grad_logp != nullptr)
                    grad_logp[t] = kept ? static_cast<float>(wpg * tt.dpg + beta * wkl * tt.dkl) : 0.0f;
            }
        });
    }
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
RowStats
row_stats(const T* row, int64_t v, float inv_t, bool want_entropy) {
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
    return dtype == SPO4J_DTYPE_I64 ? static_cast<const int64_t*>(targets)[i] : static_cast<const int32_t*>(targets)[i];
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
int policy_loss_logits_typed(int64_t n, int64_t v, int32_t b, const int32_t* offs, const T* logits, const void* targets,
                             int targets_dtype, float temperature, const float* old_logp, const float* ref_logp,
                             const float* adv, const uint8_t* valid, const PolicyLossParams& p, T* grad_logits,
                             float* logp_out, float* entropy_out, double* stats) {
    // logp and entropy go to O(N) temporaries and reach the caller's buffers only once every check has
    // passed: a rejected call writes no output.
    std::vector<float> logp(static_cast<size_t>(n)), lse(static_cast<size_t>(n)), dlogp;
    std::vector<float> entropy(entropy_out != nullptr ? static_cast<size_t>(n) : 0);
    float* entropy_tmp = entropy_out != nullptr ? entropy.data() : nullptr;
    int st =
        logprob_rows(n, v, logits, targets, targets_dtype, temperature, valid, logp.data(), entropy_tmp, lse.data());
    if (st != SPO4J_OK) return st;
    if (grad_logits != nullptr) dlogp.resize(static_cast<size_t>(n));
    st = policy_loss_core_cpu(n, b, offs, logp.data(), old_logp, ref_logp, adv, valid, p,
                              grad_logits ? dlogp.data() : nullptr, entropy_tmp, stats);
    if (st != SPO4J_OK) return st;
    if (logp_out != nullptr) std::copy(logp.begin(), logp.end(), logp_out);
    if (entropy_out != nullptr) std::copy(entropy.begin(), entropy.end(), entropy_out);
    if (grad_logits == nullptr) return st;
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

// Backward of token_logprobs. Everything is validated (gradLogp, then the targets and logits of the rows
// with gradLogp != 0, whose lse goes to an O(N) temporary) before the first gradient row is written, since
// grad may be logits itself. Rows with gradLogp == 0 are zeroed without reading their logits or target.
template <class T>
int token_logprobs_backward_typed(int64_t n, int64_t v, const T* logits, const void* targets, int targets_dtype,
                                  float temperature, const float* grad_logp, T* grad) {
    if (n == 0) return SPO4J_OK;
    for (int64_t i = 0; i < n; ++i)
        if (!is_finite_f(grad_logp[i]))
            return fail(SPO4J_ERR_INVALID_ARGUMENT, "gradLogp[%lld] is not finite", static_cast<long long>(i));
    std::vector<uint8_t> nonzero(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) nonzero[i] = grad_logp[i] != 0.0f ? 1 : 0;
    std::vector<float> logp(static_cast<size_t>(n)), lse(static_cast<size_t>(n));
    const int st = logprob_rows(n, v, logits, targets, targets_dtype, temperature, nonzero.data(), logp.data(), nullptr,
                                lse.data());
    if (st != SPO4J_OK) return st;  // grad untouched
    const float inv_t = 1.0f / temperature;
    const int64_t per = rows_per_chunk(v);
    parallel_for(ceil_div(n, per), [&](int64_t c) {
        const int64_t end = std::min(n, (c + 1) * per);
        for (int64_t i = c * per; i < end; ++i) {
            const float coef = grad_logp[i] * inv_t;  // as the logits loss entry: (∂/∂logp) · (1/T)
            const int64_t tgt = coef != 0.0f ? load_target(targets, targets_dtype, i) : 0;
            row_grad(logits + i * v, grad + i * v, v, inv_t, lse[i], coef, tgt);
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

int policy_loss_logits_cpu(int64_t n, int64_t v, int32_t b, const int32_t* offs, const void* logits, int logits_dtype,
                           const void* targets, int targets_dtype, float temperature, const float* old_logp,
                           const float* ref_logp, const float* adv, const uint8_t* valid, const PolicyLossParams& p,
                           void* grad_logits, float* logp_out, float* entropy_out, double* stats) {
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
    std::vector<float> logp(static_cast<size_t>(n)), entropy(entropy_out != nullptr ? static_cast<size_t>(n) : 0);
    float* entropy_tmp = entropy_out != nullptr ? entropy.data() : nullptr;
    const int st = logits_dtype == SPO4J_DTYPE_BF16
                       ? logprob_rows(n, v, static_cast<const uint16_t*>(logits), targets, targets_dtype, temperature,
                                      nullptr, logp.data(), entropy_tmp, nullptr)
                       : logprob_rows(n, v, static_cast<const float*>(logits), targets, targets_dtype, temperature,
                                      nullptr, logp.data(), entropy_tmp, nullptr);
    if (st != SPO4J_OK) return st;  // outputs untouched
    std::copy(logp.begin(), logp.end(), logp_out);
    if (entropy_out != nullptr) std::copy(entropy.begin(), entropy.end(), entropy_out);
    return SPO4J_OK;
}

int token_logprobs_backward_cpu(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                                int targets_dtype, float temperature, const float* grad_logp, void* grad_logits) {
    if (logits_dtype == SPO4J_DTYPE_BF16)
        return token_logprobs_backward_typed(n, v, static_cast<const uint16_t*>(logits), targets, targets_dtype,
                                             temperature, grad_logp, static_cast<uint16_t*>(grad_logits));
    return token_logprobs_backward_typed(n, v, static_cast<const float*>(logits), targets, targets_dtype, temperature,
                                         grad_logp, static_cast<float*>(grad_logits));
}

}  // namespace spo4j
