// Shared by the CPU and CUDA code: status/error plumbing, host-device qualifiers, bf16 conversion and a
// vectorizable exp. Nothing here knows about JNI or JavaCPP.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "spo4j_api.h"

#if defined(__CUDACC__)
#define SPO4J_HD __host__ __device__ __forceinline__
#elif defined(__GNUC__)
#define SPO4J_HD inline __attribute__((always_inline))  // the vectorizer needs the math inlined
#else
#define SPO4J_HD inline
#endif

namespace spo4j {

// Records the thread's last error message and returns `status`, so checks read `return fail(...)`.
int fail(int status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clear_error();

// bf16 is the top half of an fp32; conversion back rounds to nearest even (NaN stays NaN).
SPO4J_HD float bf16_to_float(uint16_t h) {
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
SPO4J_HD uint16_t float_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

template <class T>
SPO4J_HD float load_as_float(const T* p, int64_t i);
template <>
SPO4J_HD float load_as_float<float>(const float* p, int64_t i) {
    return p[i];
}
template <>
SPO4J_HD float load_as_float<uint16_t>(const uint16_t* p, int64_t i) {
    return bf16_to_float(p[i]);
}
template <class T>
SPO4J_HD void store_from_float(T* p, int64_t i, float v);
template <>
SPO4J_HD void store_from_float<float>(float* p, int64_t i, float v) {
    p[i] = v;
}
template <>
SPO4J_HD void store_from_float<uint16_t>(uint16_t* p, int64_t i, float v) {
    p[i] = float_to_bf16(v);
}

// exp(x) for x <= 0 in plain float arithmetic (Cody-Waite reduction + degree-6 minimax polynomial, about
// 2 ulp), written without library calls or branches so compilers vectorize loops that use it. Returns 0
// below -87 where expf would be subnormal: softmax terms that small do not change an fp32 sum.
SPO4J_HD float exp_nonpositive(float x) {
    const float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits
    float xc = x < -87.0f ? -87.0f : x;
    float t = xc * 1.44269504088896341f + kMagic;
    float n = t - kMagic;
    int32_t ti;
    memcpy(&ti, &t, 4);
    int32_t ni = ti - 0x4B400000;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t scale_bits = (ni + 127) << 23;
    float scale;
    memcpy(&scale, &scale_bits, 4);
    float y = p * scale;
    return x < -87.0f ? 0.0f : y;
}

// exp(x) for |x| <= 87 by the same reduction (saturating outside); on the device, the hardware expf.
SPO4J_HD float exp_bounded(float x) {
#if defined(__CUDA_ARCH__)
    return expf(x);
#else
    const float kMagic = 12582912.0f;
    const float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float t = xc * 1.44269504088896341f + kMagic;
    float n = t - kMagic;
    int32_t ti;
    memcpy(&ti, &t, 4);
    int32_t ni = ti - 0x4B400000;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t scale_bits = (ni + 127) << 23;
    float scale;
    memcpy(&scale, &scale_bits, 4);
    return p * scale;
#endif
}

// min/max/clamp as selects: fminf/fmaxf are library calls on the host (their NaN rules differ from the
// instructions), and inputs here are already checked to be finite.
SPO4J_HD float min_f(float a, float b) { return a < b ? a : b; }
SPO4J_HD float max_f(float a, float b) { return a > b ? a : b; }
SPO4J_HD float clamp_f(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }

// x where mask is all ones, +0 where it is zero: a select written as integer AND, so that a vectorizer sees
// an unconditional load (a select would let it sink the load into a masked one, which it then rejects).
SPO4J_HD float and_mask(float x, uint32_t mask) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    bits &= mask;
    memcpy(&x, &bits, 4);
    return x;
}

SPO4J_HD bool is_finite_f(float x) { return x - x == 0.0f; }  // false for NaN and ±inf

}  // namespace spo4j
