package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.spo.AlgorithmConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the {@link Trainer} lends its {@link EpisodeSource}: the task, the config, the policy being trained (π_old at
 * sampling time), the frozen reference and the KV pool, this rank's share of the work ({@link DataParallel}), and
 * the steps the families share (prompts, sampling streams, G responses per question, π_old and reference
 * log-probs). The trainer owns and closes the policies and the pool. The families time their phases on the
 * trainer's {@link IterationClock}.
 */
record TrainingContext(
        TrainingTask task,
        TrainConfig config,
        Policy policy,
        Policy reference,
        KvCache pool,
        IterationClock clock,
        DataParallel parallel) {
    /** One process. */
    TrainingContext(
            TrainingTask task,
            TrainConfig config,
            Policy policy,
            Policy reference,
            KvCache pool,
            IterationClock clock) {
        this(task, config, policy, reference, pool, clock, DataParallel.single(clock));
    }

    AlgorithmConfig algo() {
        return config.algorithm();
    }

    /** A chain sampler on the policy and pool, capped at the run's streams per batch. */
    ChainSampler chainSampler() {
        ChainSampler sampler = new ChainSampler(policy, pool);
        sampler.setMaxStreamsPerBatch(config.run().maxStreams());
        return sampler;
    }

    /** The sampler seed of stream {@code stream} in iteration {@code iteration}. */
    long seed(long stream, int iteration) {
        return Seeds.mix(config.run().seed(), stream, iteration);
    }

    /** The sampling settings of stream {@code stream} in iteration {@code iteration}. */
    GenerationConfig generation(long stream, int iteration) {
        AlgorithmConfig.Sampling s = algo().sampling();
        SamplerConfig sampling = SamplerConfig.builder()
                .temperature(s.temperature())
                .topP(s.topP())
                .seed(seed(stream, iteration))
                .build();
        return GenerationConfig.of(sampling, s.maxNewTokens(), task.tokenizer().eosIds());
    }

    /** The prompt token ids of train questions {@code questions}. */
    List<int[]> prompts(List<Integer> questions) {
        List<int[]> out = new ArrayList<>(questions.size());
        for (int q : questions) out.add(task.promptIds(task.train().get(q)));
        return out;
    }

    /**
     * G responses per question, flat and question-major: response k answers question k / G.
     *
     * @param queries     [Q·G] each response's prompt
     * @param targets     [Q·G] each response's tokens
     * @param completions [Q·G] the sampled responses
     * @param rewards     [Q·G] their rewards
     * @param oldLogp     [Q·G][T_k] their π_old log-probs at the sampling temperature
     */
    record Groups(
            List<int[]> queries,
            List<int[]> targets,
            List<Completion> completions,
            double[] rewards,
            float[][] oldLogp) {
        double rewardSum() {
            double s = 0;
            for (double v : rewards) s += v;
            return s;
        }
    }

    /**
     * Samples G responses per question from {@code sampler}, scores them and takes their π_old log-probs.
     * {@code questions} are positions {@code firstQuestion, firstQuestion + 1, ...} of the iteration's questions,
     * whose sampling streams they draw from.
     */
    Groups sampleGroups(ChainSampler sampler, List<Integer> questions, int firstQuestion, int iteration) {
        int g = algo().batching().samplesPerQuestion();
        List<int[]> prompts = prompts(questions);
        double[] rewards = new double[questions.size() * g];
        Threads.sampling(policy);
        long start = System.nanoTime();
        List<List<Completion>> groups =
                sampler.sample(prompts, firstQuestion, g, generation(Seeds.RESPONSES, iteration));
        clock.stop(IterationClock.Phase.SAMPLING, start);
        List<Completion> flat = new ArrayList<>(rewards.length);
        List<int[]> queries = new ArrayList<>(rewards.length), targets = new ArrayList<>(rewards.length);
        for (int i = 0; i < questions.size(); i++) {
            for (int j = 0; j < g; j++) {
                Completion c = groups.get(i).get(j);
                rewards[flat.size()] = task.reward(task.train().get(questions.get(i)), c.tokens(), c.finishReason());
                flat.add(c);
                queries.add(prompts.get(i));
                targets.add(c.tokens());
            }
        }
        return new Groups(queries, targets, flat, rewards, logprobs(queries, targets));
    }

    /** π_old: the policy's log-probs of each target given its query at the sampling temperature. */
    float[][] logprobs(List<int[]> queries, List<int[]> targets) {
        return logprobs(policy, queries, targets, IterationClock.Phase.OLD_LOGP);
    }

    /** The frozen reference's log-probs of each target, or null when the loss has no KL term (β = 0). */
    float[][] referenceLogprobs(List<int[]> queries, List<int[]> targets) {
        return algo().loss().beta() > 0 ? logprobs(reference, queries, targets, IterationClock.Phase.REF_LOGP) : null;
    }

    /**
     * The reference log-probs of the whole iteration's episodes, this rank computing its {@link DataParallel#share}
     * and gathering the others'; null when the loss has no KL term.
     */
    float[][] sharedReferenceLogprobs(List<int[]> queries, List<int[]> targets) {
        if (algo().loss().beta() <= 0) return null;
        if (!parallel.distributed()) return referenceLogprobs(queries, targets);
        DataParallel.Range mine = parallel.share(queries.size());
        return parallel.gatherRows(referenceLogprobs(mine.of(queries), mine.of(targets)));
    }

    /**
     * The iteration's batch over every rank: the ranks' episodes in rank order, the mean reward of all scored
     * responses ({@code rewardSum} of {@code responses} here), the tokens all ranks generated.
     */
    EpisodeSource.Batch globalBatch(List<Episode> episodes, double rewardSum, int responses, long generatedTokens) {
        double[] totals = parallel.sum(rewardSum, responses, generatedTokens);
        return new EpisodeSource.Batch(
                parallel.gatherEpisodes(episodes), totals[1] == 0 ? 0 : totals[0] / totals[1], (int) totals[1], (long)
                        totals[2]);
    }

    /** Row {@code k} of reference log-probs that may be absent. */
    static float[] row(float[][] refLogp, int k) {
        return refLogp == null ? null : refLogp[k];
    }

    /** {@code length} copies of {@code advantage}: a response- or edge-level advantage on every token. */
    static float[] constant(int length, float advantage) {
        float[] a = new float[length];
        Arrays.fill(a, advantage);
        return a;
    }

    private float[][] logprobs(Policy model, List<int[]> queries, List<int[]> targets, IterationClock.Phase phase) {
        long start = System.nanoTime();
        float[][] out = Trainer.logprobs(
                model,
                queries,
                targets,
                algo().sampling().temperature(),
                config.run().microBatchSize() * 4,
                config.run().packedForward());
        clock.stop(phase, start);
        clock.countLogprobForward(queries, targets);
        return out;
    }
}
