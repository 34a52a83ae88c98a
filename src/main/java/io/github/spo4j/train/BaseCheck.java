package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.tasks.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether RL from a base has anything to learn from: on training questions (never the test set), its greedy pass@1,
 * and of samples drawn as the RL run draws them, the share that are correct, their mean reward, and the share of
 * questions with both correct and wrong samples. A question whose samples are all wrong teaches at most the
 * answer's format (group baselines and Monte-Carlo values see no correct answer to move towards), so a base that
 * almost never answers correctly leaves the whole budget without a learning signal.
 */
public final class BaseCheck {
    private BaseCheck() {}

    /**
     * @param questions        training questions checked
     * @param samples          samples per question
     * @param greedyAccuracy   share answered correctly by greedy decoding
     * @param sampledAccuracy  share of the samples that are correct
     * @param meanReward       mean reward of the samples (format terms included)
     * @param informativeShare share of questions with both correct and wrong samples
     */
    public record Result(
            int questions,
            int samples,
            double greedyAccuracy,
            double sampledAccuracy,
            double meanReward,
            double informativeShare) {
        /** One line for a log. */
        public String describe() {
            return String.format(
                    "on %d training questions greedy pass@1 is %.1f%%; of %d samples each, %.1f%% are correct (mean"
                            + " reward %.3f) and %.0f%% of the questions have both correct and wrong ones",
                    questions,
                    100 * greedyAccuracy,
                    samples,
                    100 * sampledAccuracy,
                    meanReward,
                    100 * informativeShare);
        }
    }

    /** {@code n} problems spread evenly over {@code problems} (all of them when there are no more). */
    static List<Problem> spread(List<Problem> problems, int n) {
        int k = Math.min(n, problems.size());
        List<Problem> spread = new ArrayList<>(k);
        for (int i = 0; i < k; i++) spread.add(problems.get((int) ((long) i * problems.size() / k)));
        return spread;
    }

    /**
     * Checks {@code base} on {@code questions} training questions spread evenly over the training set, with
     * {@code samples} samples each at the RL run's {@code sampling} settings.
     */
    public static Result run(
            Policy base,
            TrainingTask task,
            AlgorithmConfig.Sampling sampling,
            int questions,
            int samples,
            long seed,
            int kvBlockSize,
            int kvBlocks) {
        if (base == null) throw new IllegalArgumentException("base must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (sampling == null) throw new IllegalArgumentException("sampling must not be null");
        if (questions < 1) throw new IllegalArgumentException("questions must be >= 1, got " + questions);
        if (samples < 2) throw new IllegalArgumentException("samples must be >= 2, got " + samples);
        List<Problem> problems = spread(task.train(), questions);
        int n = problems.size();
        List<int[]> prompts = new ArrayList<>(n);
        for (Problem p : problems) prompts.add(task.promptIds(p));
        Threads.sampling(base);
        try (KvCache pool = base.createKvCache(kvBlockSize, kvBlocks)) {
            ChainSampler sampler = new ChainSampler(base, pool);
            GenerationConfig gen = GenerationConfig.of(
                    SamplerConfig.builder()
                            .temperature(sampling.temperature())
                            .topP(sampling.topP())
                            .seed(Seeds.mix(seed, Seeds.EVAL))
                            .build(),
                    sampling.maxNewTokens(),
                    task.tokenizer().eosIds());
            List<Completion> greedy = sampler.greedy(prompts, gen);
            List<List<Completion>> groups = sampler.sample(prompts, samples, gen);
            int correct = 0, informative = 0;
            long sampledCorrect = 0;
            double rewardSum = 0;
            for (int i = 0; i < n; i++) {
                Problem p = problems.get(i);
                Completion g = greedy.get(i);
                if (task.isCorrect(p, g.tokens(), g.finishReason())) correct++;
                int right = 0;
                for (Completion c : groups.get(i)) {
                    rewardSum += task.reward(p, c.tokens(), c.finishReason());
                    if (task.isCorrect(p, c.tokens(), c.finishReason())) right++;
                }
                sampledCorrect += right;
                if (right > 0 && right < samples) informative++;
            }
            long total = (long) n * samples;
            return new Result(
                    n,
                    samples,
                    (double) correct / n,
                    (double) sampledCorrect / total,
                    rewardSum / total,
                    (double) informative / n);
        }
    }
}
