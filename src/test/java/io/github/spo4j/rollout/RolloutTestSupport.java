package io.github.spo4j.rollout;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SampleResult;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** A random tiny policy and an unshared, one-sequence-at-a-time decoder to check the samplers against. */
final class RolloutTestSupport {
    private RolloutTestSupport() {}

    /** V = 23 with EOS 2, 2 layers, GQA 4:2, context 1024: random weights put EOS at about 1/23 per token. */
    static ModelConfig config() {
        return new ModelConfig(
                ModelConfig.Architecture.LLAMA,
                23,
                32,
                48,
                2,
                4,
                2,
                8,
                1e-6,
                10000.0,
                null,
                1024,
                true,
                false,
                1,
                new int[] {2},
                "float32");
    }

    static float[] floats(Tensor t) {
        float[] out = new float[(int) t.numel()];
        new FloatPointer(t.contiguous().data_ptr_float()).capacity(out.length).get(out);
        return out;
    }

    /**
     * Decodes {@code prefix} followed by the given segments alone in a fresh pool, drawing token i of segment k
     * from stream {@code streams[k]}, and returns the tokens and log-probs it draws: what an unshared sampler would.
     * Stops each segment after {@code lengths[k]} tokens.
     */
    static Completion independent(Policy policy, int[] prefix, long[] streams, int[] lengths, SamplerConfig sampling) {
        Sampler sampler = Sampler.create(Backend.CPU);
        int total = Arrays.stream(lengths).sum();
        int[] tokens = new int[total];
        float[] lps = new float[total];
        try (KvCache pool = policy.createKvCache(16, 1 + (prefix.length + total) / 16 + 1);
                PointerScope scope = new PointerScope()) {
            int seq = pool.newSequence();
            float[] logits = floats(policy.prefill(pool, new int[] {seq}, new int[][] {prefix}));
            int k = 0;
            for (int s = 0; s < streams.length; s++) {
                for (int i = 0; i < lengths[s]; i++, k++) {
                    SampleResult r = sampler.sample(
                            sampling, logits, policy.config().vocabSize(), new long[] {streams[s]}, new int[] {
                                prefix.length + k
                            });
                    tokens[k] = r.tokens()[0];
                    lps[k] = r.logprobs()[0];
                    if (k + 1 < total) logits = floats(policy.decode(pool, new int[] {seq}, new int[] {tokens[k]}));
                }
            }
        }
        return new Completion(tokens, lps, io.github.spo4j.tasks.FinishReason.LENGTH);
    }

    static int[] tokens(int n, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(vocab - 3); // no PAD/BOS/EOS in prompts
        return t;
    }
}
