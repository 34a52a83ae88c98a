package io.github.spo4j.kernels.loss;

import io.github.spo4j.kernels.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded synthetic policy-loss inputs shared by the benchmarks (JMH and the quick side-by-side), so both time the
 * same data. A test fixture: it lives in the library's tests and reaches the benchmarks through the test jar.
 */
public final class PolicyLossInputs {
    private PolicyLossInputs() {}

    /**
     * N tokens in ragged sequences of 256..767 tokens (about 512; the last one cut at N); oldLogp = log U(0.02, 1),
     * logp and refLogp within about 0.05 of it (near on-policy: the ratio skip does not fire), Gaussian
     * advantages, 90% of tokens valid. With ρ = 0.9 about 85% of tokens are kept.
     */
    public static TokenBatch tokenBatch(int n, SplittableRandom rnd) {
        int[] offsets = raggedOffsets(n, rnd);
        float[] logp = new float[n], old = new float[n], ref = new float[n], adv = new float[n];
        boolean[] valid = new boolean[n];
        for (int t = 0; t < n; t++) {
            old[t] = (float) Math.log(0.02 + 0.98 * rnd.nextDouble());
            logp[t] = old[t] + (float) (0.05 * gaussian(rnd));
            ref[t] = logp[t] + (float) (0.05 * gaussian(rnd));
            adv[t] = (float) gaussian(rnd);
            valid[t] = rnd.nextDouble() < 0.9;
        }
        return new TokenBatch(offsets, logp, old, ref, adv, valid);
    }

    /**
     * N rows of V logits, uniform in [-4, 4] with each target's logit raised by 6..16 (target probabilities
     * spread over (0, 1), as for sampled tokens), T = 1; oldLogp and refLogp within about 0.05 of the rows'
     * log-probs; sequences, advantages and validity as {@link #tokenBatch}.
     */
    public static LogitsBatch logitsBatch(int n, int v, SplittableRandom rnd) {
        float[] logits = new float[Math.multiplyExact(n, v)];
        int[] targets = new int[n];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (8 * rnd.nextDouble() - 4);
        for (int t = 0; t < n; t++) {
            targets[t] = rnd.nextInt(v);
            logits[t * v + targets[t]] += (float) (6 + 10 * rnd.nextDouble());
        }
        float temperature = 1f;
        float[] logp = new float[n];
        PolicyLoss.create(Backend.autoHost()).tokenLogprobs(logits, v, targets, temperature, logp, null);
        TokenBatch tokens = tokenBatch(n, rnd);
        float[] old = new float[n], ref = new float[n];
        for (int t = 0; t < n; t++) {
            old[t] = logp[t] + (float) (0.05 * gaussian(rnd));
            ref[t] = logp[t] + (float) (0.05 * gaussian(rnd));
        }
        return new LogitsBatch(
                tokens.seqOffsets(), logits, v, targets, temperature, old, ref, tokens.advantages(), tokens.valid());
    }

    private static int[] raggedOffsets(int n, SplittableRandom rnd) {
        List<Integer> offs = new ArrayList<>();
        offs.add(0);
        for (int at = 0; at < n; ) {
            at = Math.min(n, at + 256 + rnd.nextInt(512));
            offs.add(at);
        }
        return offs.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller; SplittableRandom has no nextGaussian on Java 17.
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
