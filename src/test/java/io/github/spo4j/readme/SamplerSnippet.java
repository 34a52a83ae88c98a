package io.github.spo4j.readme;

import io.github.spo4j.kernels.sampler.SampleResult;
import io.github.spo4j.kernels.sampler.Sampler;
import io.github.spo4j.kernels.sampler.SamplerConfig;

/** README, "The sampler": one token per row. */
final class SamplerSnippet {
    private SamplerSnippet() {}

    /** Row b's token and its log-prob. */
    static float[] run(float[] logits, int vocab, long[] seqIds, int[] positions, int b) {
        // README begin
        SamplerConfig c =
                SamplerConfig.builder().temperature(0.7f).topP(0.95f).seed(42).build();
        SampleResult r = Sampler.create().sample(c, logits, vocab, seqIds, positions); // logits [B * V]
        int token = r.tokens()[b];
        float piOld = r.logprobs()[b];
        // README end
        return new float[] {token, piOld};
    }
}
