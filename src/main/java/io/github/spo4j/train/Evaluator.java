package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.tasks.Problem;
import io.github.spo4j.train.distributed.Collective;
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
        return count(policy, task, problems, 0, maxNewTokens, samples, temperature, seed, maxStreams, pool)
                .result(problems.size(), samples);
    }

    /** Correct greedy responses and correct samples of a set of problems, or of a rank's share of it. */
    record Counts(long greedyCorrect, long sampledCorrect) {
        /** Accuracies over {@code problems} problems (all ranks' shares) with {@code samples} samples each. */
        Result result(int problems, int samples) {
            double sampled = samples > 0 ? (double) sampledCorrect / ((long) problems * samples) : Double.NaN;
            return new Result(problems, (double) greedyCorrect / problems, sampled, samples);
        }

        /** The counts of all ranks of {@code world}. */
        Counts sum(Collective world) {
            double[] c = {greedyCorrect, sampledCorrect};
            world.allReduceSum(c);
            return new Counts((long) c[0], (long) c[1]);
        }
    }

    /**
     * The counts of {@code problems}, which are positions {@code first, first + 1, ...} of the whole set evaluated:
     * problem i's samples draw the streams of problem {@code first + i}, so shares of a set count what the whole does.
     */
    static Counts count(
            Policy policy,
            TrainingTask task,
            List<Problem> problems,
            int first,
            int maxNewTokens,
            int samples,
            float temperature,
            long seed,
            int maxStreams,
            KvCache pool) {
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
        long correct = 0;
        for (int i = 0; i < problems.size(); i++) {
            Completion c = greedy.get(i);
            if (task.isCorrect(problems.get(i), c.tokens(), c.finishReason())) correct++;
        }
        long hits = 0;
        if (samples > 0) {
            List<List<Completion>> groups = sampler.sample(prompts, first, samples, gen);
            for (int i = 0; i < problems.size(); i++) {
                for (Completion c : groups.get(i)) {
                    if (task.isCorrect(problems.get(i), c.tokens(), c.finishReason())) hits++;
                }
            }
        }
        return new Counts(correct, hits);
    }
}
