// Seeded token sampling (temperature, top-k, top-p, greedy) over logits [B, V]: the per-token math, shared
// verbatim by the CPU implementation (sampler.cpp), the CUDA kernels (src/main/cuda/sampler.cu) and,
// transcribed, the Java reference (SamplerReference), so all three draw the same token.
//
// Per row b (seqId s, position p):
//   x_i   = logit_i / T                                   (fp32 division)
//   m     = max_i x_i
//   q_i   = rint(2^44 · exp((double) x_i − m))             integer mass (exp by sample_mass, ties to even)
//   order = (q desc, index asc), a strict total order; top-k keeps its first k tokens, top-p then the shortest
//           prefix with Σ q >= P = min(Z, ceil(p · Z)) (Z = the mass left by top-k; p = 1: no cut); q = 0 never kept
//   r     = floor(rand64 · Zkept / 2^64)                  rand64 = Philox4x32-10(counter, key) words 1:0
//   token = the first kept token, in index order, whose running Σ q exceeds r  (greedy: argmax x, lowest index)
//   logp  = x_tok − m − log(Σ_i exp(x_i − m)), evaluated as x_tok − m − log(Z_all · 2^-44)
//
// Masses are exact integers, so their sums do not depend on the order of summation: threads, CUDA block
// reductions and the Java reference agree exactly. sample_mass uses only IEEE +, − and × in double (no fused
// multiply-add: sampler.cpp is built with -ffp-contract=off, the CUDA code calls __dmul_rn/__dadd_rn, Java
// never fuses), so q_i is the same integer everywhere. Tokens with exp(x_i − m) < 2^-45 get mass 0 and are
// never drawn: together they hold less than V · 2^-45 of the top token's probability.
//
// The log-sum in logp uses the same masses: Z_all · 2^-44 = Σ_i (exp(x_i − m) + δ_i) with |δ_i| <= 2^-45
// (rounding, and the dropped tail), and Σ_i exp(x_i − m) >= 1, so it is off by at most V · 2^-45 relatively,
// below 4.4e-9 in logp for V < 2^19; the exp polynomial adds under 1e-15.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "common.h"

namespace spo4j {

constexpr int kSampleMassBits = 44;   // q = e · 2^44
constexpr int kSampleIndexBits = 19;  // V < 2^19: keys hold the index in their low 19 bits
constexpr int64_t kSampleMaxVocab = (int64_t{1} << kSampleIndexBits) - 1;

// Double multiply and add that the compiler may not fuse (the host file is built with -ffp-contract=off).
SPO4J_HD double smp_mul(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}
SPO4J_HD double smp_add(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dadd_rn(a, b);
#else
    return a + b;
#endif
}
SPO4J_HD float smp_div(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}
SPO4J_HD int64_t smp_bits(double x) {
    int64_t b;
    memcpy(&b, &x, 8);
    return b;
}
SPO4J_HD double smp_from_bits(int64_t b) {
    double x;
    memcpy(&x, &b, 8);
    return x;
}

// x_i = logit_i / T.
SPO4J_HD float sample_x(float logit, float temperature) { return smp_div(logit, temperature); }

// q = 2^44 · exp(d) rounded to the nearest integer (ties to even), for d = x_i − m <= 0 (d > 0 never occurs).
// exp: d = k ln2 + r with k = rint(d / ln2) and |r| <= ln2 / 2 (Cody-Waite: k · ln2_hi is exact), then the
// degree-12 Taylor polynomial of e^r by Horner (truncation error < 2e-16), then the exact scaling by 2^(44+k).
// Below d = −40, q is 0 anyway (2^44 e^-40 < 1e-4), so d is clamped there and 44 + k stays >= −14 (no
// subnormals). Adding 1.5 · 2^52 rounds to an integer held in the low mantissa bits, which read k without a
// float-to-int conversion (vectorizes on plain SSE2); adding 2^52 to y <= 2^44 does the final rounding.
SPO4J_HD uint64_t sample_mass(double d) {
    const double kRoundK = 0x1.8p52;
    const double kRoundQ = 0x1.0p52;
    const double dc = d < -40.0 ? -40.0 : d;
    const double t = smp_add(smp_mul(dc, 0x1.71547652b82fep0), kRoundK);
    const int64_t k = smp_bits(t) - smp_bits(kRoundK);
    const double kf = smp_add(t, -kRoundK);
    double r = smp_add(dc, -smp_mul(kf, 0x1.62e42feep-1));
    r = smp_add(r, -smp_mul(kf, 0x1.a39ef35793c76p-33));
    double p = 0x1.1eed8eff8d898p-29;  // 1/12!
    p = smp_add(smp_mul(p, r), 0x1.ae64567f544e4p-26);
    p = smp_add(smp_mul(p, r), 0x1.27e4fb7789f5cp-22);
    p = smp_add(smp_mul(p, r), 0x1.71de3a556c734p-19);
    p = smp_add(smp_mul(p, r), 0x1.a01a01a01a01ap-16);
    p = smp_add(smp_mul(p, r), 0x1.a01a01a01a01ap-13);
    p = smp_add(smp_mul(p, r), 0x1.6c16c16c16c17p-10);
    p = smp_add(smp_mul(p, r), 0x1.1111111111111p-7);
    p = smp_add(smp_mul(p, r), 0x1.5555555555555p-5);
    p = smp_add(smp_mul(p, r), 0x1.5555555555555p-3);
    p = smp_add(smp_mul(p, r), 0.5);
    p = smp_add(smp_mul(p, r), 1.0);
    p = smp_add(smp_mul(p, r), 1.0);
    const double scale = smp_from_bits((k + kSampleMassBits + 1023) << 52);
    const double y = smp_mul(p, scale);
    return static_cast<uint64_t>(smp_bits(smp_add(y, kRoundQ)) - smp_bits(kRoundQ));
}

// The order key of token i with mass q: larger keys come first ((q desc, index asc) as one unsigned compare).
SPO4J_HD uint64_t sample_key(uint64_t q, int64_t i) {
    return (q << kSampleIndexBits) | static_cast<uint64_t>(kSampleMaxVocab - i);
}

// ---- Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC11; Random123) ------

SPO4J_HD void philox_round(uint32_t* c, uint32_t k0, uint32_t k1) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    const uint32_t y0 = hi1 ^ c[1] ^ k0, y2 = hi0 ^ c[3] ^ k1;
    c[0] = y0;
    c[1] = lo1;
    c[2] = y2;
    c[3] = lo0;
}

// out = Philox4x32-10(counter, key): ten rounds, the key bumped by the Weyl constants between rounds.
SPO4J_HD void philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        philox_round(c, k0, k1);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

// rand64 of a token: counter (position, lo32(seqId), hi32(seqId), 0), key (lo32(seed), hi32(seed)); words 1:0.
SPO4J_HD uint64_t sample_rand64(uint64_t seed, int64_t seq_id, int32_t position) {
    const uint64_t s = static_cast<uint64_t>(seq_id);
    const uint32_t counter[4] = {static_cast<uint32_t>(position), static_cast<uint32_t>(s),
                                 static_cast<uint32_t>(s >> 32), 0u};
    const uint32_t key[2] = {static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)};
    uint32_t out[4];
    philox4x32_10(counter, key, out);
    return (static_cast<uint64_t>(out[1]) << 32) | out[0];
}

// floor(a · b / 2^64).
SPO4J_HD uint64_t sample_mulhi(uint64_t a, uint64_t b) {
#if defined(__CUDA_ARCH__)
    return __umul64hi(a, b);
#else
    return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
#endif
}

// The top-p mass target: P = min(Z, ceil(p · Z)); p >= 1 keeps everything (P = Z, not a rounded Z).
SPO4J_HD uint64_t sample_top_p_target(float top_p, uint64_t z) {
    if (top_p >= 1.0f) return z;
    const double target = ceil(smp_mul(static_cast<double>(top_p), static_cast<double>(static_cast<int64_t>(z))));
    const uint64_t t = static_cast<uint64_t>(static_cast<int64_t>(target));
    return t < z ? t : z;
}

// log p(token) = x_tok − m − log(Z_all · 2^-44).
SPO4J_HD float sample_logprob(float x_tok, float m, uint64_t z_all) {
    const double lse = log(static_cast<double>(static_cast<int64_t>(z_all))) - kSampleMassBits * 0.69314718055994530942;
    return static_cast<float>(static_cast<double>(x_tok) - static_cast<double>(m) - lse);
}

struct SampleParams {
    float temperature;  // > 0, finite
    int32_t top_k;      // 0 = off
    float top_p;        // (0, 1]
    bool greedy;
    uint64_t seed;
};

// Formats the message for a logit that is not finite or whose x = logit / T overflows (host only), so the CPU
// and CUDA paths report the same text.
int sample_bad_logit_status(int64_t row, int64_t col, float value, float temperature);

// ---- CPU (sampler.cpp) ----------------------------------------------------------------------------
// Arguments as spo4j_sampler_sample, already checked except the logits' values: every x = logit / T must be finite
// (checked here before any write).
int sample_cpu(int64_t b, int64_t v, const void* logits, int logits_dtype, const int64_t* seq_ids,
               const int32_t* positions, const SampleParams& p, int32_t* tokens, float* logprobs);

// ---- CUDA (src/main/cuda/sampler.cu; only when built with CUDA) ------------------------------------
// Same contract with device pointers, queued on `stream` (cudaStream_t); waits for the results.
int sample_cuda(int64_t b, int64_t v, const void* logits, int logits_dtype, const int64_t* seq_ids,
                const int32_t* positions, const SampleParams& p, int32_t* tokens, float* logprobs, void* stream);

}  // namespace spo4j
