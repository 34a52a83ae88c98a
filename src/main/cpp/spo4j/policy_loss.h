// Fused masked clipped-ratio policy loss (SPO_SPEC §4): the per-token math, shared verbatim by the CPU
// implementation (policy_loss.cpp) and the CUDA kernels (src/main/cuda/policy_loss.cu).
//
//   kept_t = valid_t ∧ (rho >= 1 ∨ oldLogp_t < log rho)
//   r_t    = exp(clamp(logp_t − oldLogp_t, ±C)),   pg_t = max(−Â r, −Â clip(r, 1−ε_lo, 1+ε_hi)) [∧ dual clip]
//   Δ_t    = clamp(refLogp_t − logp_t, ±C_kl),     k1 = −Δ, k2 = Δ²/2, k3 = e^Δ − Δ − 1
//   loss   = Σ_t w_pg(t)·pg_t + β Σ_t w_kl(t)·k_t   with w from the aggregation mode (TOKEN_MEAN: 1/K, ...)
//   ∂loss/∂logp_t = w_pg(t)·∂pg_t + β·w_kl(t)·∂k_t, zero where not kept
//
// Gradients follow autograd's conventions for the composed torch ops: clamp passes the gradient on the
// closed interval, and where the unclipped and clipped surrogates tie the unclipped one is taken (a tie
// means r is inside the clip range, where both have the same gradient).
#pragma once

#include <cmath>
#include <cstdint>

#include "common.h"

namespace spo4j {

// The config after validation, with the derived constants the kernels need.
struct PolicyLossParams {
    float eps_low, eps_high;
    float dual_clip_c;  // 0 = off
    double log_rho;
    float log_rho_below;  // largest float < log ρ: for a float o, o < log ρ  ⟺  o <= log_rho_below (exact)
    bool use_rho;
    float log_ratio_clamp;
    bool whiten;
    float whiten_eps;
    float beta;
    int kl_estimator;
    float kl_clamp;
    bool has_ref;
    int pg_agg, kl_agg;
    float pg_norm, kl_norm;
    float max_mean_ratio;  // 0 = off
};

// Validates `config` and fills `params`; on failure returns SPO4J_ERR_INVALID_ARGUMENT with a message.
int make_policy_loss_params(const spo4j_policy_loss_config* config, bool has_ref, PolicyLossParams* params);

SPO4J_HD bool token_kept(bool valid, float old_logp, const PolicyLossParams& p) {
    return valid & (!p.use_rho | (old_logp <= p.log_rho_below));  // & and |: no branches
}

// One kept token's contributions, before aggregation weights.
struct TokenTerms {
    float pg;                              // policy-gradient surrogate
    float dpg;                             // ∂pg/∂logp
    float kl;                              // KL estimator against the reference (0 without one)
    float dkl;                             // ∂kl/∂logp
    float ratio;                           // r after the log-ratio clamp
    float k3_old;                          // r − 1 − log r
    float clip_low, clip_high, dual_clip;  // 1 or 0 (floats, not bools: bools stop GCC's vectorizer)
};

// Branch-free (selects only): the clip and mask decisions are data-dependent coin flips, and branches on
// them cost more in mispredictions than the arithmetic. Callers pass zeros for tokens that are not kept.
// kHasRef and kKl fix the KL choice at compile time (CPU vector loops need it); token_terms below picks them
// at run time.
template <bool kHasRef, int kKl>
SPO4J_HD TokenTerms token_terms_fixed(float logp, float old_logp, float ref_logp, float adv,
                                      const PolicyLossParams& p) {
    TokenTerms t;
    const float c = p.log_ratio_clamp;
    const float lr = logp - old_logp;
    const float lrc = clamp_f(lr, -c, c);
    const bool lr_passes = (lr >= -c) & (lr <= c);
    const float r = exp_bounded(lrc);
    const float lo = 1.0f - p.eps_low, hi = 1.0f + p.eps_high;
    const float unclipped = -adv * r, clipped = -adv * clamp_f(r, lo, hi);
    const bool take_unclipped = unclipped >= clipped;
    float pg = take_unclipped ? unclipped : clipped;
    float dpg = take_unclipped ? unclipped : 0.0f;  // ∂(−Â r)/∂logp = −Â r
    const float bound = -adv * p.dual_clip_c;
    const bool dual = (p.dual_clip_c > 0.0f) & (adv < 0.0f) & (bound < pg);
    t.pg = dual ? bound : pg;
    t.dpg = (dual | !lr_passes) ? 0.0f : dpg;
    t.dual_clip = dual ? 1.0f : 0.0f;
    t.ratio = r;
    t.k3_old = r - 1.0f - lrc;
    t.clip_low = ((adv < 0.0f) & (r < lo)) ? 1.0f : 0.0f;
    t.clip_high = ((adv > 0.0f) & (r > hi)) ? 1.0f : 0.0f;
    t.kl = 0.0f;
    t.dkl = 0.0f;
    if (kHasRef) {
        const float d = ref_logp - logp;
        const float dc = clamp_f(d, -p.kl_clamp, p.kl_clamp);
        const bool d_passes = (d >= -p.kl_clamp) & (d <= p.kl_clamp);
        float k, dk;
        if (kKl == SPO4J_KL_K1) {
            k = -dc;
            dk = 1.0f;
        } else if (kKl == SPO4J_KL_K2) {
            k = 0.5f * dc * dc;
            dk = -dc;
        } else {
            const float e = exp_bounded(dc);
            k = e - dc - 1.0f;
            dk = 1.0f - e;
        }
        t.kl = k;
        t.dkl = d_passes ? dk : 0.0f;
    }
    return t;
}

SPO4J_HD TokenTerms token_terms(float logp, float old_logp, float ref_logp, float adv, const PolicyLossParams& p) {
    if (!p.has_ref) return token_terms_fixed<false, SPO4J_KL_K3>(logp, old_logp, ref_logp, adv, p);
    if (p.kl_estimator == SPO4J_KL_K1) return token_terms_fixed<true, SPO4J_KL_K1>(logp, old_logp, ref_logp, adv, p);
    if (p.kl_estimator == SPO4J_KL_K2) return token_terms_fixed<true, SPO4J_KL_K2>(logp, old_logp, ref_logp, adv, p);
    return token_terms_fixed<true, SPO4J_KL_K3>(logp, old_logp, ref_logp, adv, p);
}

// Aggregation weight of one kept token of a sequence with `seq_kept` kept tokens, in a batch of
// `num_seqs` sequences and `kept` kept tokens.
SPO4J_HD double agg_weight(int mode, double norm, int64_t kept, int32_t num_seqs, int64_t seq_kept) {
    switch (mode) {
        case SPO4J_AGG_TOKEN_MEAN:
            return kept > 0 ? 1.0 / static_cast<double>(kept) : 0.0;
        case SPO4J_AGG_SEQ_MEAN_TOKEN_SUM:
            return num_seqs > 0 ? 1.0 / num_seqs : 0.0;
        case SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN:
            return (num_seqs > 0 && seq_kept > 0) ? 1.0 / (static_cast<double>(num_seqs) * seq_kept) : 0.0;
        default:
            return 1.0 / norm;
    }
}

SPO4J_HD bool agg_needs_seq_counts(int mode) { return mode == SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN; }
SPO4J_HD bool agg_needs_seq_index(int mode) {
    return mode == SPO4J_AGG_SEQ_MEAN_TOKEN_MEAN;  // the other modes' weights are the same for every token
}

// Count/mean/M2 of the kept tokens' advantages (whitening and stats), merged in a fixed order (Chan et al.).
struct Moments {
    double count = 0, mean = 0, m2 = 0;
    SPO4J_HD void add(double x) {  // Welford's update, for one value at a time
        count += 1;
        const double d = x - mean;
        mean += d / count;
        m2 += d * (x - mean);
    }
    SPO4J_HD void merge(const Moments& o) {
        if (o.count == 0) return;
        if (count == 0) {
            *this = o;
            return;
        }
        const double n = count + o.count, d = o.mean - mean;
        mean += d * o.count / n;
        m2 += o.m2 + d * d * count * o.count / n;
        count = n;
    }
    // Bessel-corrected; 0 for fewer than two values (a lone kept token whitens to 0, not NaN).
    SPO4J_HD double variance() const { return count > 1 ? m2 / (count - 1) : 0.0; }
};

// The per-call scalars that the final pass needs once the first pass has run.
struct PolicyLossScale {
    int64_t kept;
    double adv_mean, adv_inv_std;  // whitening: Â = (A − mean) · inv_std (identity when off)
    double pg_weight, kl_weight;   // token-independent weights (unused for SEQ_MEAN_TOKEN_MEAN)
};

// Sums of the second pass (one slot per chunk / block; reduced in a fixed order).
struct PolicyLossSums {
    double pg = 0, kl = 0, ratio = 0, k3_old = 0, kl_ref = 0, entropy = 0;
    int64_t clip_low = 0, clip_high = 0, dual_clip = 0;
    SPO4J_HD void merge(const PolicyLossSums& o) {
        pg += o.pg;
        kl += o.kl;
        ratio += o.ratio;
        k3_old += o.k3_old;
        kl_ref += o.kl_ref;
        entropy += o.entropy;
        clip_low += o.clip_low;
        clip_high += o.clip_high;
        dual_clip += o.dual_clip;
    }
};

// Fills the stats array from the reduced sums; returns whether the batch is skipped.
bool finish_stats(const PolicyLossParams& p, const PolicyLossScale& s, const Moments& adv_moments,
                  const PolicyLossSums& sums, bool has_entropy, double* stats);

// ---- CPU (policy_loss.cpp) ----------------------------------------------------------------------
int policy_loss_tokens_cpu(int64_t n, int32_t b, const int32_t* seq_offsets, const float* logp, const float* old_logp,
                           const float* ref_logp, const float* advantages, const uint8_t* valid,
                           const PolicyLossParams& p, float* grad_logp, double* stats);
int policy_loss_logits_cpu(int64_t n, int64_t v, int32_t b, const int32_t* seq_offsets, const void* logits,
                           int logits_dtype, const void* targets, int targets_dtype, float temperature,
                           const float* old_logp, const float* ref_logp, const float* advantages, const uint8_t* valid,
                           const PolicyLossParams& p, void* grad_logits, float* logp_out, float* entropy_out,
                           double* stats);
int token_logprobs_cpu(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                       int targets_dtype, float temperature, float* logp_out, float* entropy_out);
// grad_logits = grad_logp / T · (onehot(target) − softmax(logits / T)), row by row; may equal logits.
int token_logprobs_backward_cpu(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                                int targets_dtype, float temperature, const float* grad_logp, void* grad_logits);

// ---- CUDA (src/main/cuda/policy_loss.cu; only when built with CUDA) ------------------------------
// Same contracts as the CPU functions, with device pointers, queued on `stream` (cudaStream_t).
int policy_loss_tokens_cuda(int64_t n, int32_t b, const int32_t* seq_offsets, const float* logp, const float* old_logp,
                            const float* ref_logp, const float* advantages, const uint8_t* valid,
                            const PolicyLossParams& p, float* grad_logp, double* stats, void* stream);
int policy_loss_logits_cuda(int64_t n, int64_t v, int32_t b, const int32_t* seq_offsets, const void* logits,
                            int logits_dtype, const void* targets, int targets_dtype, float temperature,
                            const float* old_logp, const float* ref_logp, const float* advantages, const uint8_t* valid,
                            const PolicyLossParams& p, void* grad_logits, float* logp_out, float* entropy_out,
                            double* stats, void* stream);
int token_logprobs_cuda(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                        int targets_dtype, float temperature, float* logp_out, float* entropy_out, void* stream);
int token_logprobs_backward_cuda(int64_t n, int64_t v, const void* logits, int logits_dtype, const void* targets,
                                 int targets_dtype, float temperature, const float* grad_logp, void* grad_logits,
                                 void* stream);

}  // namespace spo4j
