package io.github.spo4j.train;

/** Derived seeds: every random choice of a run is keyed by the run seed, a purpose, and its position in the run. */
final class Seeds {
    static final long QUESTIONS = 1,
            RESPONSES = 2,
            MONTE_CARLO = 3,
            TREES = 4,
            SHUFFLE = 5,
            REPLAY = 6,
            EVAL = 7,
            SFT = 8,
            AUDIT = 9,
            SFT_TARGETS = 10;

    private Seeds() {}

    /** A 64-bit mix of the parts (SplitMix64's finalizer over a running combination). */
    static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            h ^= p + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            h ^= h >>> 31;
        }
        return h;
    }
}
