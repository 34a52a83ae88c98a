package io.github.spo4j.readme;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import java.io.IOException;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;

/** README, "The policy": loading, saving, one training step, and the Java-array entries. */
final class PolicySnippet {
    private PolicySnippet() {}

    /** Loads {@code modelDir}, saves a tiny model to {@code checkpointDir} and takes one step; returns its stats. */
    static PolicyLossStats train(
            Path modelDir,
            Path checkpointDir,
            int[][] queries,
            int[][] responses,
            float[] oldLogp,
            float[] refLogp,
            float[] advantages,
            boolean[] valid)
            throws IOException {
        PolicyLossStats result;
        // README begin
        Policy policy = Policy.load(modelDir); // config.json + *.safetensors (F32 / BF16 / F16, sharded)
        Policy tiny = Policy.random(ModelConfig.tiny(), 42); // HF init N(0, 0.02²), drawn in Java: same everywhere
        tiny.save(checkpointDir); // config.json + model.safetensors, each atomically

        // Training forward: teacher forcing, log-probs of the response tokens at temperature T.
        AdamW optimizer = new AdamW(policy.parameterVector(), new AdamWOptions(1e-5));
        TargetBatch batch = TargetBatch.ofPairs(queries, responses); // ragged; targets flat with seqOffsets
        try (PointerScope s = new PointerScope();
                TrainingForward f = policy.forward(batch, 0.6f)) {
            PolicyLossStats st = f.policyLossBackward(PolicyLossConfig.spo(), oldLogp, refLogp, advantages, valid);
            optimizer.step(); // parameter .grad() filled through libtorch autograd
            result = st; // README skip
        }
        // README end
        policy.close();
        tiny.close();
        return result;
    }

    /** The array entries; returns the logits of the first prompt's rows and the last decode step's logits. */
    static float[][][] arrays(Policy policy) {
        float[][] last;
        // README begin
        float[][] scores = policy.logitsArray(new int[][] {{1, 5, 9}, {1, 7}}); // [B][T_b · V]: ragged, no autograd
        try (KvCache pool = policy.createKvCache(16, 1024)) { // host memory, where the policy runs
            int[] seqs = {pool.newSequence(), pool.newSequence()};
            float[][] next = policy.prefillArray(pool, seqs, new int[][] {{1, 5, 9}, {1, 7}}); // [B][V]
            next = policy.decodeArray(pool, seqs, new int[] {4, 4}); // one more token each: [B][V]
            last = next; // README skip
        }
        // README end
        return new float[][][] {scores, last};
    }
}
