package io.github.spo4j.kernels.sampler;

import java.util.SplittableRandom;

/** Logits for the sampler tests: row kinds chosen to stress the order, the masses and the cuts. */
final class SamplerData {
    private SamplerData() {}

    /**
     * [B, V] logits, row r of kind r % 5: 0 smooth (N(0, 2.5²)); 1 peaky (one logit raised by 12); 2 coarse
     * ties (multiples of 0.5 in [-3, 3], so many equal masses); 3 with a third of the tokens masked at
     * -1e30 (mass 0) and the rest N(0, 1); 4 flat (all equal: the order is by index alone).
     */
    static float[] logits(int b, int v, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] out = new float[b * v];
        for (int r = 0; r < b; r++) {
            int kind = r % 5;
            int top = rng.nextInt(v);
            for (int i = 0; i < v; i++) {
                float x = switch (kind) {
                    case 0 -> (float) (gaussian(rng) * 2.5);
                    case 1 -> (float) gaussian(rng) + (i == top ? 12f : 0f);
                    case 2 -> (float) (0.5 * (rng.nextInt(13) - 6));
                    case 3 -> i != top && rng.nextInt(3) == 0 ? -1e30f : (float) gaussian(rng);
                    default -> 0.25f;
                };
                out[r * v + i] = x;
            }
        }
        return out;
    }

    static long[] seqIds(int b, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0x5eed);
        long[] ids = new long[b];
        for (int i = 0; i < b; i++) ids[i] = rng.nextLong();
        return ids;
    }

    static int[] positions(int b, long seed) {
        SplittableRandom rng = new SplittableRandom(seed ^ 0xb0b);
        int[] pos = new int[b];
        for (int i = 0; i < b; i++) pos[i] = rng.nextInt(1 << 20);
        return pos;
    }

    private static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble(), w = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }

    /** Every mode of the sampler at a few temperatures. */
    static SamplerConfig[] configs(long seed) {
        SamplerConfig base = SamplerConfig.of(seed);
        return new SamplerConfig[] {
            base,
            base.withTemperature(0.7f),
            base.withTemperature(1.9f),
            base.withTopK(1),
            base.withTopK(5),
            base.withTopP(0.9f),
            base.withTopP(0.3f).withTemperature(1.3f),
            base.withTopK(40).withTopP(0.95f).withTemperature(0.8f),
            base.withGreedy(true),
            base.withGreedy(true).withTemperature(0.5f)
        };
    }
}
