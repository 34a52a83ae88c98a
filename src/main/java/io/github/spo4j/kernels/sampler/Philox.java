package io.github.spo4j.kernels.sampler;

import io.github.spo4j.kernels.engine.Checks;

/**
 * Philox4x32-10, the counter-based generator of Salmon et al. ("Parallel random numbers: as easy as 1, 2, 3",
 * SC11; the Random123 library): a pure function of a 128-bit counter and a 64-bit key, so a draw can be
 * recomputed anywhere from its coordinates. The same function as {@code philox4x32_10} in
 * {@code sampler.h} (C++ and CUDA).
 */
public final class Philox {
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {}

    /**
     * Philox4x32-10 of one counter: ten rounds, the key bumped by the Weyl constants between rounds.
     *
     * @param counter 4 words (unsigned 32-bit values held in ints)
     * @param key     2 words
     * @return the 4 output words
     */
    public static int[] philox4x32_10(int[] counter, int[] key) {
        Checks.notNull(counter, "counter");
        Checks.notNull(key, "key");
        Checks.length(counter.length, 4, "counter");
        Checks.length(key.length, 2, "key");
        int c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
        int k0 = key[0], k1 = key[1];
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = M0 * (c0 & 0xffffffffL);
            long p1 = M1 * (c2 & 0xffffffffL);
            int y0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int y2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c0 = y0;
            c1 = (int) p1;
            c2 = y2;
            c3 = (int) p0;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /**
     * The sampler's 64 random bits for one token: counter (position, lo32(seqId), hi32(seqId), 0), key
     * (lo32(seed), hi32(seed)), output words 1 and 0 as (out[1] &lt;&lt; 32) | out[0].
     */
    public static long rand64(long seed, long seqId, int position) {
        int[] out = philox4x32_10(
                new int[] {position, (int) seqId, (int) (seqId >>> 32), 0},
                new int[] {(int) seed, (int) (seed >>> 32)});
        return ((long) out[1] << 32) | (out[0] & 0xffffffffL);
    }

    /** floor(a · b / 2^64) for unsigned a and b (Java 17 has only the signed {@code Math.multiplyHigh}). */
    public static long unsignedMultiplyHigh(long a, long b) {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }
}
