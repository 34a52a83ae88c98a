package io.github.spo4j.model.io;

/**
 * IEEE 754 binary16 to fp32 (Java 17 has no {@code Float.float16ToFloat}). Every half value is exactly an
 * fp32 value: sign s, exponent e (5 bits, bias 15), mantissa m (10 bits):
 * <pre>
 *   e = 0:      (−1)^s · m · 2^−24            (zero and subnormals)
 *   0 &lt; e &lt; 31: (−1)^s · 2^(e−15) · (1 + m/1024) (fp32 exponent e + 112, mantissa m &lt;&lt; 13)
 *   e = 31:     ±inf (m = 0) or NaN (payload m &lt;&lt; 13, so quiet stays quiet)
 * </pre>
 */
final class Fp16 {
    private Fp16() {}

    static float toFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        if (exp == 0) {
            float v = mant * 0x1p-24f; // exact: mant < 2^10
            return Float.intBitsToFloat(sign | Float.floatToRawIntBits(v));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
