package io.github.spo4j.testutil;

import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.TokenBatch;
import java.util.Random;

/** Seeded random inputs for the policy loss: ragged sequences, probabilities around ρ, some invalid tokens. */
public final class PolicyLossData {
    private PolicyLossData() {}

    /** Ragged offsets for n tokens: lengths 0, 1 and longer, summing to n. */
    public static int[] raggedOffsets(int n, Random rnd) {
        java.util.List<Integer> offs = new java.util.ArrayList<>();
        offs.add(0);
        int at = 0;
        int k = 0;
        while (at < n) {
            int len = switch (k++ % 5) {
                case 0 -> 0;
                case 1 -> 1;
                default -> 1 + rnd.nextInt(Math.max(1, Math.min(n, 300)));
            };
            at = Math.min(n, at + len);
            offs.add(at);
        }
        if (offs.size() == 1) offs.add(0); // n = 0: one empty sequence
        return offs.stream().mapToInt(Integer::intValue).toArray();
    }

    public static TokenBatch tokens(int n, long seed, boolean withRef, boolean withValid) {
        Random rnd = new Random(seed);
        int[] offs = raggedOffsets(n, rnd);
        float[] old = new float[n], logp = new float[n], ref = new float[n], adv = new float[n];
        boolean[] valid = new boolean[n];
        for (int t = 0; t < n; t++) {
            old[t] = (float) Math.log(0.02 + 0.98 * rnd.nextDouble());
            logp[t] = old[t] + (float) (0.3 * rnd.nextGaussian());
            ref[t] = logp[t] + (float) (0.3 * rnd.nextGaussian());
            adv[t] = (float) rnd.nextGaussian();
            valid[t] = rnd.nextDouble() < 0.85;
        }
        return new TokenBatch(offs, logp, old, withRef ? ref : null, adv, withValid ? valid : null);
    }

    public static LogitsBatch logits(int n, int vocab, float temperature, long seed, boolean withRef) {
        Random rnd = new Random(seed);
        int[] offs = raggedOffsets(n, rnd);
        float[] logits = new float[n * vocab];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (2.0 * rnd.nextGaussian());
        int[] targets = new int[n];
        float[] old = new float[n], ref = new float[n], adv = new float[n];
        boolean[] valid = new boolean[n];
        for (int t = 0; t < n; t++) {
            targets[t] = rnd.nextInt(vocab);
            old[t] = (float) Math.log(0.02 + 0.98 * rnd.nextDouble());
            ref[t] = old[t] + (float) (0.3 * rnd.nextGaussian());
            adv[t] = (float) rnd.nextGaussian();
            valid[t] = rnd.nextDouble() < 0.85;
        }
        return new LogitsBatch(offs, logits, vocab, targets, temperature, old, withRef ? ref : null, adv, valid);
    }
}
