package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.tasks.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-set accuracy: greedy pass@1 (one greedy response per problem), and optionally the mean accuracy over k
 * samples at a temperature (SPO_SPEC §5's GSM8K evaluation: 16 samples at T = 0.35). A response counts when it
 * finished (EOS) and its answer matches. Sampling uses a fixed seed, so two policies are compared on the same draws.
 */
public final class Evaluator {
    /** Accuracy on {@code problems} problems; {@code sampledAccuracy} is NaN when k = 0. */
    public record Result(int problems, double greedyAccuracy, double sampledAccuracy, int samples) {}

    private Evaluator() {}

    /**
     * @param problems     the problems (question ids are positions in this list)
     * @param maxNewTokens response length limit
     * @param samples      k; 0 for greedy only
     * @param temperature  temperature of the k samples
     * @param maxStreams   continuations decoded together
     */
    public static Result evaluate(
            Policy policy,
            TrainingTask task,
            List<Problem> problems,
            int maxNewTokens,
            int samples,
            float temperature,
            long seed,
            int maxStreams,
            int kvBlockSize,
            int kvBlocks) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        try (KvCache pool = policy.createKvCache(kvBlockSize, kvBlocks)) {
            return evaluate(policy, task, problems, maxNewTokens, samples, temperature, seed, maxStreams, pool);
        }
    }

    /**
     * {@link #evaluate(Policy, TrainingTask, List, int, int, float, long, int, int, int)} on an existing pool (a
     * trainer's, idle between iterations), which it leaves as it found it: a pool of the default size takes longer to
     * allocate and clear than a small model takes to answer the test set.
     */
    public static Result evaluate(
            Policy policy,
            TrainingTask task,
            List<Problem> problems,
            int maxNewTokens,
            int samples,
            float temperature,
            long seed,
            int maxStreams,
            KvCache pool) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (problems == null || problems.isEmpty()) throw new IllegalArgumentException("problems must not be empty");
        if (samples < 0) throw new IllegalArgumentException("samples must be >= 0, got " + samples);
        if (pool == null) throw new IllegalArgumentException("pool must not be null");
        Threads.sampling(policy);
        List<int[]> prompts = new ArrayList<>(problems.size());
        for (Problem p : problems) prompts.add(task.promptIds(p));
        ChainSampler sampler = new ChainSampler(policy, pool);
        sampler.setMaxStreamsPerBatch(maxStreams);
        GenerationConfig gen = GenerationConfig.of(
                SamplerConfig.builder()
                        .temperature(temperature)
                        .seed(Seeds.mix(seed, Seeds.EVAL))
                        .build(),
                maxNewTokens,
                task.tokenizer().eosIds());
        List<Completion> greedy = sampler.greedy(prompts, gen);
        int correct = 0;
        for (int i = 0; i < problems.size(); i++) {
            Completion c = greedy.get(i);
            if (task.isCorrect(problems.get(i), c.tokens(), c.finishReason())) correct++;
        }
        double sampled = Double.NaN;
        if (samples > 0) {
            List<List<Completion>> groups = sampler.sample(prompts, samples, gen);
            int hits = 0;
            for (int i = 0; i < problems.size(); i++) {
                for (Completion c : groups.get(i)) {
                    if (task.isCorrect(problems.get(i), c.tokens(), c.finishReason())) hits++;
                }
            }
            sampled = (double) hits / ((long) problems.size() * samples);
        }
        return new Result(problems.size(), (double) correct / problems.size(), sampled, samples);
    }
}
