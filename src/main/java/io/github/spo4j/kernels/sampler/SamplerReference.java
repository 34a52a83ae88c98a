package io.github.spo4j.kernels.sampler;

import java.util.Arrays;

/**
 * The sampler in plain Java: the test oracle and the benchmarks' baseline. Per row b (seqId s, position p):
 *
 * <pre>
 *   x_i   = logit_i / T (float);  m = max_i x_i
 *   q_i   = rint(2^44 · exp(x_i − m))                       ({@link #mass}: an exact integer)
 *   order = (q desc, index asc); top-k keeps the first k, top-p then the shortest prefix with
 *           Σ q &gt;= min(Z, ceil(p · Z)) (Z: the mass left by top-k; p = 1 keeps all); q = 0 is never kept
 *   r     = floor(rand64 · Zkept / 2^64),  rand64 = {@link Philox#rand64}(seed, s, p)
 *   token = the first kept token in index order whose running Σ q exceeds r  (greedy: argmax x, lowest index)
 *   logp  = x_tok − m − log Σ_i exp(x_i − m)               (the full softmax: π_old of the token)
 * </pre>
 *
 * The native kernels follow the same steps with the same integers, so they draw the same tokens; this class
 * does them the obvious way (masses of the whole row, a full sort, a flag per kept token). Its log-prob sums
 * {@code Math.exp} in double; the kernels take the log-sum from the masses (within V · 2^-45, see
 * {@code sampler.h}).
 */
public final class SamplerReference {
    /** q = e · 2^MASS_BITS. */
    public static final int MASS_BITS = 44;
    /** Keys hold the index in their low INDEX_BITS bits, so V &lt; 2^19. */
    public static final int INDEX_BITS = 19;
    /** The largest vocabulary, 2^19 − 1. */
    public static final int MAX_VOCAB = (1 << INDEX_BITS) - 1;

    private SamplerReference() {}

    /**
     * One token per row.
     *
     * @param logits    [B, V] row-major, finite
     * @param vocab     V in [1, 2^19)
     * @param seqIds    [B] sequence ids
     * @param positions [B] positions
     */
    public static SampleResult sample(SamplerConfig config, float[] logits, int vocab, long[] seqIds, int[] positions) {
        Sampler.checkArrays(config, logits, vocab, seqIds, positions);
        int b = seqIds.length;
        int[] tokens = new int[b];
        float[] logprobs = new float[b];
        for (int r = 0; r < b; r++) {
            float[] row = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
            int tok = sampleRow(config, row, seqIds[r], positions[r]);
            tokens[r] = tok;
            logprobs[r] = logprob(config.temperature(), row, tok);
        }
        return new SampleResult(tokens, logprobs);
    }

    private static int sampleRow(SamplerConfig c, float[] row, long seqId, int position) {
        int v = row.length;
        float[] x = new float[v];
        float m = Float.NEGATIVE_INFINITY;
        int argmax = 0;
        for (int i = 0; i < v; i++) {
            x[i] = row[i] / c.temperature();
            if (x[i] > m) {
                m = x[i];
                argmax = i;
            }
        }
        if (c.greedy()) return argmax;
        long[] q = new long[v];
        for (int i = 0; i < v; i++) q[i] = mass((double) x[i] - (double) m);

        // The order (q desc, index asc) as one unsigned key, sign-flipped so a signed ascending sort sorts it.
        long[] keys = new long[v];
        for (int i = 0; i < v; i++) keys[i] = key(q[i], i) ^ Long.MIN_VALUE;
        Arrays.sort(keys);
        long[] order = new long[v]; // descending
        for (int j = 0; j < v; j++) order[j] = keys[v - 1 - j] ^ Long.MIN_VALUE;

        int len = c.topK() > 0 && c.topK() < v ? c.topK() : v;
        while (len > 0 && massOf(order[len - 1]) == 0) len--;
        long zk = 0;
        for (int j = 0; j < len; j++) zk += massOf(order[j]);
        if (c.topP() < 1) {
            long target = topPTarget(c.topP(), zk);
            long cum = 0;
            for (int j = 0; j < len; j++) {
                cum += massOf(order[j]);
                if (cum >= target) {
                    len = j + 1;
                    break;
                }
            }
        }
        boolean[] kept = new boolean[v];
        long zKept = 0;
        for (int j = 0; j < len; j++) {
            kept[indexOf(order[j])] = true;
            zKept += massOf(order[j]);
        }
        long r = Philox.unsignedMultiplyHigh(Philox.rand64(c.seed(), seqId, position), zKept);
        long cum = 0;
        for (int i = 0; i < v; i++) {
            if (!kept[i]) continue;
            cum += q[i];
            if (Long.compareUnsigned(cum, r) > 0) return i;
        }
        throw new IllegalStateException("no token: the kept mass " + zKept + " was not reached");
    }

    /** log softmax(row / T)[tok], in double. */
    static float logprob(float temperature, float[] row, int tok) {
        float m = Float.NEGATIVE_INFINITY;
        for (float l : row) m = Math.max(m, l / temperature);
        double s = 0;
        for (float l : row) s += Math.exp((double) (l / temperature) - m);
        return (float) ((double) (row[tok] / temperature) - m - Math.log(s));
    }

    /**
     * q = 2^44 · exp(d) rounded to the nearest integer (ties to even), for d = x − m &lt;= 0; bit for bit the
     * {@code sample_mass} of {@code sampler.h}: d = k ln2 + r (Cody-Waite), e^r by its degree-12 Taylor
     * polynomial (Horner), scaled by 2^(44 + k); d is clamped at −40, where q is 0 anyway.
     */
    public static long mass(double d) {
        final double roundK = 0x1.8p52, roundQ = 0x1.0p52;
        double dc = d < -40.0 ? -40.0 : d;
        double t = dc * 0x1.71547652b82fep0 + roundK;
        long k = Double.doubleToRawLongBits(t) - Double.doubleToRawLongBits(roundK);
        double kf = t - roundK;
        double r = dc - kf * 0x1.62e42feep-1;
        r = r - kf * 0x1.a39ef35793c76p-33;
        double p = 0x1.1eed8eff8d898p-29;
        p = p * r + 0x1.ae64567f544e4p-26;
        p = p * r + 0x1.27e4fb7789f5cp-22;
        p = p * r + 0x1.71de3a556c734p-19;
        p = p * r + 0x1.a01a01a01a01ap-16;
        p = p * r + 0x1.a01a01a01a01ap-13;
        p = p * r + 0x1.6c16c16c16c17p-10;
        p = p * r + 0x1.1111111111111p-7;
        p = p * r + 0x1.5555555555555p-5;
        p = p * r + 0x1.5555555555555p-3;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        double scale = Double.longBitsToDouble((k + MASS_BITS + 1023) << 52);
        double y = p * scale;
        return Double.doubleToRawLongBits(y + roundQ) - Double.doubleToRawLongBits(roundQ);
    }

    /** P = min(Z, ceil(p · Z)); Z itself for p = 1. */
    static long topPTarget(float topP, long z) {
        if (topP >= 1) return z;
        long t = (long) Math.ceil((double) topP * (double) z);
        return Math.min(t, z);
    }

    /** The unsigned order key: larger keys come first in (q desc, index asc). */
    static long key(long q, int index) {
        return (q << INDEX_BITS) | (MAX_VOCAB - index);
    }

    private static long massOf(long key) {
        return key >>> INDEX_BITS;
    }

    private static int indexOf(long key) {
        return MAX_VOCAB - (int) (key & MAX_VOCAB);
    }
}
