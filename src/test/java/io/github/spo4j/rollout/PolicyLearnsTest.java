package io.github.spo4j.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.junit.jupiter.api.Test;

/**
 * End to end through both forward paths: maximum likelihood through the kernel-backed training forward and AdamW
 * teaches the tiny built-in model a handful of answers, and greedy generation through the KV pool then produces them.
 */
class PolicyLearnsTest {
    @Test
    void supervisedTrainingIsVisibleInGreedyGeneration() {
        CharTokenizer tok = CharTokenizer.arithmetic();
        ModelConfig config = ModelConfig.tiny(ModelConfig.Architecture.QWEN2, tok.vocabSize(), 1, 2);
        String[][] examples = {
            {"12+7=", "19"}, {"3*4=", "12"}, {"40-8=", "32"}, {"5+5=", "10"}, {"9*9=", "81"}, {"100-1=", "99"}
        };
        int[][] prompts = new int[examples.length][];
        int[][] answers = new int[examples.length][];
        for (int i = 0; i < examples.length; i++) {
            prompts[i] = withBos(tok.encode(examples[i][0]));
            int[] a = tok.encode(examples[i][1]);
            answers[i] = Arrays.copyOf(a, a.length + 1);
            answers[i][a.length] = 2; // EOS
        }
        TargetBatch batch = TargetBatch.ofPairs(prompts, answers);
        try (Policy policy = Policy.random(config, 7)) {
            AdamW opt = new AdamW(policy.parameterVector(), new AdamWOptions(3e-3));
            double first = 0, last = 0;
            for (int step = 0; step < 150; step++) {
                try (PointerScope s = new PointerScope();
                        TrainingForward f = policy.forward(batch, 1f)) {
                    float[] logp = f.logpArray();
                    double mean = 0;
                    for (float x : logp) mean += x / logp.length;
                    if (step == 0) first = mean;
                    last = mean;
                    float[] grad = new float[logp.length];
                    Arrays.fill(grad, -1f / logp.length); // loss = −mean logp
                    opt.zero_grad();
                    f.backward(grad);
                    opt.step();
                }
            }
            assertTrue(first < -2.5, "starts near uniform: " + first);
            assertTrue(last > -0.05, "memorised: mean logp " + last);
            try (KvCache pool = policy.createKvCache(16, 64)) {
                GenerationConfig gen = GenerationConfig.of(SamplerConfig.of(1), 8, 2);
                List<Completion> out =
                        new ChainSampler(policy, pool).greedy(new ArrayList<>(Arrays.asList(prompts)), gen);
                for (int i = 0; i < examples.length; i++) {
                    assertEquals(FinishReason.EOS, out.get(i).finishReason(), examples[i][0]);
                    assertEquals(
                            examples[i][1] + tok.decode(new int[] {2}),
                            tok.decode(out.get(i).tokens()),
                            examples[i][0]);
                }
            }
        }
    }

    private static int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = 1;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
