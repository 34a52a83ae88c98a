package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.loss.AdvantageWhitening;
import io.github.spo4j.kernels.loss.Aggregation;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.loss.ProbabilityMask;
import io.github.spo4j.model.Device;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.ChainValueEstimator;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.advantage.VinePpoAdvantages;
import io.github.spo4j.spo.replay.ReplayBuffer;
import io.github.spo4j.train.distributed.Collective;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * Runs SPO_SPEC §0's iteration for one algorithm on one task:
 * <ol>
 *   <li>draw Q training questions (a permutation of the train set seeded by the run seed and the iteration);
 *   <li>sample: G responses per question (GRPO, GRPO+mask, RLOO, SPO-chain, VinePPO) through the shared-prefix
 *       {@link ChainSampler}, or one tree per question through the {@link TreeSampler} (SPO-tree);
 *   <li>π_old log-probs of every sampled response token in one batched no-grad forward at the sampling temperature;
 *   <li>advantages: group baselines, Monte-Carlo segment values ({@link ChainAdvantages}, {@link VinePpoAdvantages}
 *       with the {@link ChainValueEstimator}), or tree backup with edges through the {@link ReplayBuffer};
 *   <li>reference log-probs from the frozen initial policy (when β &gt; 0);
 *   <li>the PPO-clip update: epochs × minibatches, each accumulated over micro-batches, the fused loss kernel's
 *       gradient pushed through libtorch autograd, then clipping and AdamW on SPO's schedule.
 * </ol>
 *
 * Steps 2–5 belong to the algorithm's family, an {@code EpisodeSource} chosen once at construction (group baselines,
 * chain Monte-Carlo, or tree and replay buffer) that owns its state and its part of a checkpoint; the trainer keeps
 * what every algorithm shares: the questions, the update, the schedule and the counters.
 *
 * Everything random is keyed by the run seed and the iteration, so a run resumed from a checkpoint taken between
 * iterations continues exactly as the uninterrupted run would have.
 */
public final class Trainer implements AutoCloseable {
    private final TrainingTask task;
    private final TrainConfig config;
    private final AlgorithmConfig algo;
    private final Policy policy;
    private final Policy reference;
    private final PolicyOptimizer optimizer;
    private final KvCache pool;
    private final EpisodeSource episodeSource;
    private final IterationClock clock = new IterationClock();
    private final DataParallel parallel;
    private int iteration;
    private long generatedTokens;
    private List<Episode> lastEpisodes = List.of();

    /** What one iteration did. */
    public record IterationStats(
            int iteration,
            long iterationTokens,
            long generatedTokens,
            double meanReward,
            int responses,
            int episodes,
            double loss,
            double keptFraction,
            double clipFraction,
            double klToRef,
            double gradNorm,
            double learningRate,
            int optimizerSteps,
            int skippedMicroBatches,
            double seconds,
            Split split) {
        IterationStats withSplit(Split s) {
            return new IterationStats(
                    iteration,
                    iterationTokens,
                    generatedTokens,
                    meanReward,
                    responses,
                    episodes,
                    loss,
                    keptFraction,
                    clipFraction,
                    klToRef,
                    gradNorm,
                    learningRate,
                    optimizerSteps,
                    skippedMicroBatches,
                    seconds,
                    s);
        }
    }

    /**
     * Where an iteration's time went, in seconds: the step's phases (sampling the responses or trees, Monte-Carlo
     * rollouts and the segment values they give, π_old and reference log-probs, the training forward and backward,
     * the optimizer) and {@code other} (rewards, advantages, the replay buffer: the rest of {@code seconds}); then the
     * test-set evaluation and the checkpoint that followed the iteration (0 when none did), which are outside
     * {@code seconds}. And the tokens the training forward processed over all epochs against the unique ones (each
     * shared prompt or upper tree segment counted once per epoch), the same for the no-grad log-prob forwards. In a
     * data-parallel run the split is rank 0's: its share of the phases, and {@code communication}, its time in the
     * exchanges (gathers, sums, the gradient all-reduce, including the wait for slower ranks), and the gradient bytes
     * it all-reduced; both are 0 for one process.
     */
    public record Split(
            double sampling,
            double rollouts,
            double oldLogp,
            double refLogp,
            double forwardBackward,
            double optimizer,
            double communication,
            double other,
            double evaluation,
            double checkpoint,
            long trainTokens,
            long trainUniqueTokens,
            long logprobTokens,
            long logprobUniqueTokens,
            long allReducedBytes) {
        /** This split with the evaluation and checkpoint seconds that followed the iteration. */
        Split withFollowing(double evaluationSeconds, double checkpointSeconds) {
            return new Split(
                    sampling,
                    rollouts,
                    oldLogp,
                    refLogp,
                    forwardBackward,
                    optimizer,
                    communication,
                    other,
                    evaluationSeconds,
                    checkpointSeconds,
                    trainTokens,
                    trainUniqueTokens,
                    logprobTokens,
                    logprobUniqueTokens,
                    allReducedBytes);
        }
    }

    /**
     * How many runs of {@code policy} fit this process's cores at once: each run keeps the larger of its sampling and
     * training thread counts busy, one each for small models (under 0.5M parameters, the built-in one among them),
     * so on 2 cores two such runs go side by side instead of one leaving a core idle.
     */
    public static int runsThatFitTheCores(Policy policy) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        int perRun = Math.max(Threads.samplingThreads(policy), Threads.trainingThreads(policy));
        return Math.max(1, Threads.cores() / perRun);
    }

    /**
     * @param task the task
     * @param base the starting policy; the trainer trains a copy and keeps another, frozen, as the KL reference
     */
    public Trainer(TrainingTask task, Policy base, TrainConfig config) {
        this(task, base, config, Collective.single());
    }

    /**
     * One rank of a data-parallel run over {@code world}: every rank is built with the same task, base and config and
     * steps together. An iteration's questions are shared out by position ({@code DataParallel}), each rank samples,
     * scores and assigns advantages to its share, the episodes are gathered in rank order, and each optimizer step's
     * micro-batches are dealt out round-robin, their gradients summed by all-reduce. The global batch is then the one
     * process's batch: the same tokens, and updates equal up to the order of the gradient sums.
     *
     * @param world the ranks of the run ({@link Collective#single()} for one process); the caller closes it
     */
    public Trainer(TrainingTask task, Policy base, TrainConfig config, Collective world) {
        if (world == null) throw new IllegalArgumentException("world must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (base == null) throw new IllegalArgumentException("base must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (base.config().vocabSize() < task.tokenizer().vocabSize()) {
            throw new IllegalArgumentException(
                    "the policy's vocabulary (" + base.config().vocabSize() + ") is smaller than the tokenizer's ("
                            + task.tokenizer().vocabSize() + ")");
        }
        // libtorch's thread count is an OpenMP setting of the calling thread: a run on a thread of its own (compare's
        // runs side by side) must set it before its first op, as it would on a thread that set it before.
        Threads.training(base);
        this.task = task;
        this.config = config;
        this.algo = config.algorithm();
        policy = Policy.random(base.config(), 0, base.device());
        policy.copyFrom(base);
        reference = Policy.random(base.config(), 0, base.device());
        reference.copyFrom(base);
        policy.setPrecision(config.run().precision());
        reference.setPrecision(config.run().precision());
        optimizer = new PolicyOptimizer(policy, algo.optimizer());
        pool = policy.createKvCache(config.run().kvBlockSize(), config.run().kvBlocks());
        parallel = new DataParallel(world, clock);
        episodeSource = EpisodeSource.of(new TrainingContext(task, config, policy, reference, pool, clock, parallel));
    }

    public TrainConfig config() {
        return config;
    }

    public TrainingTask task() {
        return task;
    }

    /** The policy being trained. */
    public Policy policy() {
        return policy;
    }

    /** The ranks this trainer steps with. */
    public Collective world() {
        return parallel.world();
    }

    /** The KV pool sampling runs on; every sequence is released between iterations. */
    KvCache pool() {
        return pool;
    }

    /** Iterations completed. */
    public int iteration() {
        return iteration;
    }

    /** Tokens generated so far (responses, Monte-Carlo rollouts, tree segments). */
    public long generatedTokens() {
        return generatedTokens;
    }

    /** Whether the run has reached its token budget (when it has one) or its iteration count. */
    public boolean finished() {
        long budget = config.run().tokenBudget();
        if (budget > 0 && generatedTokens >= budget) return true;
        return iteration >= algo.optimizer().iterations();
    }

    /** Progress through the schedule in [0, 1]: tokens spent of the budget, else iterations done. */
    double progress(long tokens, int iterations) {
        long budget = config.run().tokenBudget();
        double p = budget > 0
                ? (double) tokens / budget
                : (double) iterations / algo.optimizer().iterations();
        return Math.min(1, p);
    }

    /** Runs one iteration. */
    public IterationStats step() {
        if (finished()) throw new IllegalStateException("the run is finished");
        // The run's device is current for the whole iteration: every kernel, the policy's or not, runs there.
        try (Device.Current current = policy.device().enter()) {
            return stepOnDevice();
        }
    }

    private IterationStats stepOnDevice() {
        long start = System.nanoTime();
        clock.reset();
        long tokensBefore = generatedTokens;
        EpisodeSource.Batch c = episodeSource.collect(drawQuestions(), iteration);
        lastEpisodes = c.episodes();
        generatedTokens += c.generatedTokens();
        long iterationTokens = c.generatedTokens();
        // The schedule's point for this iteration: the middle of the tokens it spent (no step at lr 0 at the start).
        double progress = config.run().tokenBudget() > 0
                ? progress((tokensBefore + generatedTokens) / 2, iteration)
                : progress(0, iteration) + 0.5 / algo.optimizer().iterations();
        Update u = update(c.episodes(), progress);
        iteration++;
        double seconds = (System.nanoTime() - start) / 1e9;
        return new IterationStats(
                iteration - 1,
                iterationTokens,
                generatedTokens,
                c.meanReward(),
                c.responses(),
                c.episodes().size(),
                u.loss,
                u.keptFraction,
                u.clipFraction,
                u.kl,
                u.gradNorm,
                PolicyOptimizer.learningRate(algo.optimizer(), progress),
                u.steps,
                u.skipped,
                seconds,
                split(seconds));
    }

    private Split split(double seconds) {
        double sampling = clock.seconds(IterationClock.Phase.SAMPLING),
                rollouts = clock.seconds(IterationClock.Phase.ROLLOUTS),
                oldLogp = clock.seconds(IterationClock.Phase.OLD_LOGP),
                refLogp = clock.seconds(IterationClock.Phase.REF_LOGP),
                forwardBackward = clock.seconds(IterationClock.Phase.FORWARD_BACKWARD),
                optimizerSeconds = clock.seconds(IterationClock.Phase.OPTIMIZER),
                communication = clock.seconds(IterationClock.Phase.COMMUNICATION);
        double other =
                seconds - sampling - rollouts - oldLogp - refLogp - forwardBackward - optimizerSeconds - communication;
        return new Split(
                sampling,
                rollouts,
                oldLogp,
                refLogp,
                forwardBackward,
                optimizerSeconds,
                communication,
                Math.max(0, other),
                0,
                0,
                clock.trainTokens(),
                clock.trainUniqueTokens(),
                clock.logprobTokens(),
                clock.logprobUniqueTokens(),
                clock.allReducedBytes());
    }

    // ---- questions and log-probs --------------------------------------------------------------------------------

    private List<Integer> drawQuestions() {
        int q = algo.batching().questionsPerIteration();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < task.train().size(); i++) order.add(i);
        List<Integer> out = new ArrayList<>(q);
        for (int round = 0; out.size() < q; round++) {
            List<Integer> perm = new ArrayList<>(order);
            Collections.shuffle(perm, new Random(Seeds.mix(config.run().seed(), Seeds.QUESTIONS, iteration, round)));
            out.addAll(perm.subList(0, Math.min(perm.size(), q - out.size())));
        }
        return out;
    }

    /**
     * Log-probs of each target given its query at {@code temperature}, {@code micro} sequences per no-grad pass, packed
     * ({@link Policy#forwardPacked}) or per sequence.
     */
    static float[][] logprobs(
            Policy model, List<int[]> queries, List<int[]> targets, float temperature, int micro, boolean packed) {
        Threads.training(model);
        float[][] out = new float[queries.size()][];
        for (int from = 0; from < queries.size(); from += micro) {
            int to = Math.min(queries.size(), from + micro);
            TargetBatch batch = TargetBatch.ofPairs(
                    queries.subList(from, to).toArray(new int[0][]),
                    targets.subList(from, to).toArray(new int[0][]));
            try (PointerScope scope = new PointerScope();
                    NoGradGuard noGrad = new NoGradGuard();
                    TrainingForward f =
                            packed ? model.forwardPacked(batch, temperature) : model.forward(batch, temperature)) {
                float[] logp = f.logpArray();
                int[] offsets = batch.seqOffsets();
                for (int b = 0; b < to - from; b++)
                    out[from + b] = Arrays.copyOfRange(logp, offsets[b], offsets[b + 1]);
            }
        }
        return out;
    }

    // ---- the update -------------------------------------------------------------------------------------------

    private record Update(
            double loss,
            double keptFraction,
            double clipFraction,
            double kl,
            double gradNorm,
            int steps,
            int skipped) {}

    private Update update(List<Episode> episodes, double progress) {
        Threads.training(policy);
        AlgorithmConfig.Batching b = algo.batching();
        int micro = config.run().microBatchSize();
        int rank = parallel.world().rank(), ranks = parallel.world().worldSize();
        boolean split = splitsMicroBatches();
        double lossSum = 0, clipSum = 0, klSum = 0, kept = 0, tokens = 0, skipped = 0;
        int calls = 0, steps = 0;
        double normSum = 0;
        List<Episode> nonEmpty = new ArrayList<>();
        for (Episode e : episodes) if (e.response().length > 0) nonEmpty.add(e);
        List<int[]> queries = new ArrayList<>(nonEmpty.size()), responses = new ArrayList<>(nonEmpty.size());
        for (Episode e : nonEmpty) {
            queries.add(e.query());
            responses.add(e.response());
        }
        for (int epoch = 0; epoch < b.epochsPerIteration() && !nonEmpty.isEmpty(); epoch++) {
            clock.countTrainingEpoch(queries, responses);
            List<Episode> order = new ArrayList<>(nonEmpty);
            Collections.shuffle(order, new Random(Seeds.mix(config.run().seed(), Seeds.SHUFFLE, iteration, epoch)));
            for (int from = 0; from < order.size(); from += b.miniBatchSize()) {
                List<Episode> mini = order.subList(from, Math.min(order.size(), from + b.miniBatchSize()));
                optimizer.zeroGrad();
                int microBatches = 0;
                for (int m = 0; m < mini.size(); m += micro, microBatches++) {
                    calls++;
                    if (!split && microBatches % ranks != rank) continue; // another rank's micro-batch
                    List<Episode> part = mini.subList(m, Math.min(mini.size(), m + micro));
                    long forwardStart = System.nanoTime();
                    PolicyLossStats s = split ? sharedLossBackward(part) : lossBackward(part);
                    clock.stop(IterationClock.Phase.FORWARD_BACKWARD, forwardStart);
                    lossSum += s.loss();
                    clipSum += s.clipFracLow() + s.clipFracHigh();
                    klSum += s.klRef();
                    kept += s.keptTokens();
                    for (Episode e : part) tokens += e.response().length;
                    if (s.skipped()) skipped++;
                }
                if (parallel.distributed()) {
                    long start = System.nanoTime();
                    clock.countAllReduced(optimizer.allReduceGradients(parallel.world()));
                    clock.stop(IterationClock.Phase.COMMUNICATION, start);
                }
                long optimizerStart = System.nanoTime();
                normSum += optimizer.step(microBatches, progress);
                clock.stop(IterationClock.Phase.OPTIMIZER, optimizerStart);
                steps++;
            }
        }
        // Split micro-batches' statistics are already the whole's, alike on every rank.
        double[] t = split
                ? new double[] {lossSum, clipSum, klSum, kept, tokens, skipped}
                : parallel.sum(lossSum, clipSum, klSum, kept, tokens, skipped);
        return new Update(
                calls == 0 ? 0 : t[0] / calls,
                t[4] == 0 ? 0 : t[3] / t[4],
                calls == 0 ? 0 : t[1] / calls,
                calls == 0 ? 0 : t[2] / calls,
                steps == 0 ? 0 : normSum / steps,
                steps,
                (int) t[5]);
    }

    private PolicyLossStats lossBackward(List<Episode> part) {
        float[][] arrays = concatenate(part);
        return forwardLoss(part, algo.loss(), arrays[0], arrays[2], arrays[1], UnaryOperator.identity());
    }

    /**
     * Whether the ranks split each micro-batch's sequences among them: with several ranks, when both aggregations
     * have normalisers that are constants of the whole micro-batch (a token mean over its kept tokens, a mean over its
     * sequences, a given constant). A mean of per-sequence token means is not, and then micro-batches are dealt out
     * whole, round-robin.
     */
    private boolean splitsMicroBatches() {
        PolicyLossConfig loss = algo.loss();
        return parallel.distributed()
                && loss.pgAggregation() != Aggregation.SEQ_MEAN_TOKEN_MEAN
                && loss.klAggregation() != Aggregation.SEQ_MEAN_TOKEN_MEAN;
    }

    /**
     * This rank's share of {@code microBatch}'s sequences through the loss, with what makes the shares add up to the
     * micro-batch computed in one process (SPO_SPEC §4): the whitening moments over the whole micro-batch's kept tokens
     * (its response tokens when none is kept), summed over the ranks before the forward; the aggregations' normalisers
     * as constants of the whole (its kept tokens, its sequences); and the mean-ratio skip decided on the whole's mean
     * ratio after it. Every rank calls this for every micro-batch, also with an empty share.
     */
    private PolicyLossStats sharedLossBackward(List<Episode> microBatch) {
        PolicyLossConfig loss = algo.loss();
        Collective world = parallel.world();
        List<Episode> part = DataParallel.share(microBatch.size(), world.rank(), world.worldSize())
                .of(microBatch);
        float[][] arrays = concatenate(part);
        float[] old = arrays[0], adv = arrays[1], ref = arrays[2];
        boolean[] kept = ProbabilityMask.mask(old, null, loss.rho());
        // Count, sum and sum of squares over the kept tokens, then over all response tokens.
        double[] m = new double[6];
        for (int t = 0; t < adv.length; t++) {
            double a = adv[t];
            if (kept[t]) {
                m[0]++;
                m[1] += a;
                m[2] += a * a;
            }
            m[3]++;
            m[4] += a;
            m[5] += a * a;
        }
        parallel.sum(m);
        int over = m[0] > 0 ? 0 : 3;
        double n = m[over], mean = n > 0 ? m[over + 1] / n : 0;
        double variance = n > 1 ? Math.max(0, (m[over + 2] - n * mean * mean) / (n - 1)) : 0;
        AdvantageWhitening.Moments moments = new AdvantageWhitening.Moments((long) n, mean, variance);
        float[] whitened = adv;
        if (loss.whiten()) {
            whitened = new float[adv.length];
            for (int t = 0; t < adv.length; t++) whitened[t] = (float) moments.whiten(adv[t], loss.whitenEps());
        }
        long keptTokens = (long) m[0];
        PolicyLossConfig shareConfig = loss.toBuilder()
                .whiten(false)
                .maxMeanRatio(0)
                .pgAggregation(Aggregation.CONSTANT_NORM)
                .pgNorm(normaliser(loss.pgAggregation(), loss.pgNorm(), keptTokens, microBatch.size()))
                .klAggregation(Aggregation.CONSTANT_NORM)
                .klNorm(normaliser(loss.klAggregation(), loss.klNorm(), keptTokens, microBatch.size()))
                .build();
        UnaryOperator<PolicyLossStats> whole = s -> wholeMicroBatch(s, moments, loss.maxMeanRatio());
        if (part.isEmpty()) return whole.apply(new PolicyLossStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, 0));
        return forwardLoss(part, shareConfig, old, ref, whitened, whole);
    }

    /** The constant that makes {@code aggregation} of a whole micro-batch a sum over its shares. */
    private static float normaliser(Aggregation aggregation, float given, long keptTokens, int sequences) {
        return switch (aggregation) {
            case TOKEN_MEAN -> Math.max(1, keptTokens);
            case SEQ_MEAN_TOKEN_SUM -> Math.max(1, sequences);
            case CONSTANT_NORM -> given;
            case SEQ_MEAN_TOKEN_MEAN -> throw new IllegalStateException("a mean of token means cannot be split");
        };
    }

    /** The whole micro-batch's statistics from this rank's share's: sums over the ranks, fractions weighted by kept. */
    private PolicyLossStats wholeMicroBatch(PolicyLossStats s, AdvantageWhitening.Moments moments, float maxMeanRatio) {
        double k = s.keptTokens();
        double[] v = {
            s.loss(),
            s.pgLoss(),
            s.klLoss(),
            k,
            s.clipFracLow() * k,
            s.clipFracHigh() * k,
            s.dualClipFrac() * k,
            s.meanRatio() * k,
            s.approxKlOld() * k,
            s.klRef() * k
        };
        parallel.sum(v);
        double kept = v[3];
        double meanRatio = kept > 0 ? v[7] / kept : 0;
        boolean skipped = maxMeanRatio > 0 && meanRatio > maxMeanRatio;
        return new PolicyLossStats(
                skipped ? 0 : v[0],
                skipped ? 0 : v[1],
                skipped ? 0 : v[2],
                (long) kept,
                kept > 0 ? v[4] / kept : 0,
                kept > 0 ? v[5] / kept : 0,
                kept > 0 ? v[6] / kept : 0,
                meanRatio,
                kept > 0 ? v[8] / kept : 0,
                kept > 0 ? v[9] / kept : 0,
                moments.mean(),
                moments.std(),
                skipped,
                0);
    }

    /** {@code part}'s π_old, advantages and reference log-probs (null without a KL term), flat in sequence order. */
    private float[][] concatenate(List<Episode> part) {
        boolean withRef = algo.loss().beta() > 0;
        int total = 0;
        for (Episode e : part) total += e.response().length;
        float[] old = new float[total], adv = new float[total], ref = withRef ? new float[total] : null;
        int at = 0;
        for (Episode e : part) {
            int len = e.response().length;
            System.arraycopy(e.oldLogp(), 0, old, at, len);
            System.arraycopy(e.advantages(), 0, adv, at, len);
            if (withRef) System.arraycopy(e.refLogp(), 0, ref, at, len);
            at += len;
        }
        return new float[][] {old, adv, ref};
    }

    private PolicyLossStats forwardLoss(
            List<Episode> part,
            PolicyLossConfig loss,
            float[] old,
            float[] ref,
            float[] adv,
            UnaryOperator<PolicyLossStats> combine) {
        int n = part.size();
        int[][] queries = new int[n][], responses = new int[n][];
        for (int i = 0; i < n; i++) {
            queries[i] = part.get(i).query();
            responses[i] = part.get(i).response();
        }
        try (PointerScope scope = new PointerScope();
                TrainingForward f = config.run().packedForward()
                        ? policy.forwardPacked(
                                TargetBatch.ofPairs(queries, responses),
                                algo.sampling().temperature())
                        : policy.forward(
                                TargetBatch.ofPairs(queries, responses),
                                algo.sampling().temperature())) {
            return f.policyLossBackward(loss, old, ref, adv, null, combine);
        }
    }

    // ---- state (checkpoints) ----------------------------------------------------------------------------------

    /** The episodes the last iteration trained on (every rank's, in rank order); empty before the first. */
    List<Episode> lastEpisodes() {
        return lastEpisodes;
    }

    /** The algorithm family's episode source (it writes its part of a checkpoint). */
    EpisodeSource episodeSource() {
        return episodeSource;
    }

    PolicyOptimizer optimizer() {
        return optimizer;
    }

    /**
     * Restores the counters of a checkpoint (the weights, the optimizer and the episode source's state are restored by
     * the caller).
     */
    void restoreCounters(int iterations, long tokens) {
        if (iteration != 0 || generatedTokens != 0) throw new IllegalStateException("restore needs a fresh trainer");
        iteration = iterations;
        generatedTokens = tokens;
    }

    /** The frozen reference policy (the starting weights). */
    Policy reference() {
        return reference;
    }

    @Override
    public void close() {
        optimizer.close();
        pool.close();
        policy.close();
        reference.close();
    }
}
