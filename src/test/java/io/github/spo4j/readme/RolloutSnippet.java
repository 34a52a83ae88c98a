package io.github.spo4j.readme;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.ChainValueEstimator;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.rollout.RewardFunction;
import io.github.spo4j.rollout.SampledTree;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.rollout.TreeShape;
import io.github.spo4j.spo.advantage.ValueEstimator;
import io.github.spo4j.spo.data.SamplingTree;
import java.util.List;

/** README, "Rollouts": chains, trees, a tree into the SPO core, and SPO-chain's value estimator. */
final class RolloutSnippet {
    private RolloutSnippet() {}

    record Result(List<List<Completion>> groups, List<SampledTree> trees, SamplingTree tree, ValueEstimator values) {}

    static Result run(
            Policy policy, Tokenizer tokenizer, List<int[]> prompts, long it, int questionId, RewardFunction reward) {
        Result result;
        // README begin
        try (KvCache pool = policy.createKvCache(16, 8192)) {
            GenerationConfig gen = new GenerationConfig(
                    SamplerConfig.builder().temperature(0.6f).seed(it).build(),
                    512,
                    tokenizer.eosIds(),
                    List.of("\n\n\n"),
                    tokenizer);
            List<List<Completion>> groups = new ChainSampler(policy, pool).sample(prompts, 8, gen); // π_old, finish
            List<SampledTree> trees = new TreeSampler(policy, pool).sample(prompts, TreeShape.parse("6-6-6", 30), gen);
            SamplingTree t = trees.get(0).toSamplingTree(questionId, reward); // into the SPO core
            ValueEstimator values = new ChainValueEstimator(new ChainSampler(policy, pool), gen, reward); // MC values
            result = new Result(groups, trees, t, values); // README skip
        }
        // README end
        return result;
    }
}
