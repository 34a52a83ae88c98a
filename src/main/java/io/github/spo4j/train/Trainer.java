package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.ChainValueEstimator;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.rollout.SampledTree;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.rollout.TreeShape;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.spo.replay.ReplayBuffer;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.advantage.SegmentAdvantageBatch;
import io.github.spo4j.spo.advantage.TreeAdvantageResult;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.advantage.VinePpoAdvantages;
import io.github.spo4j.tasks.Problem;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
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
    private final ChainSampler chainSampler;
    private final TreeSampler treeSampler;
    private final ReplayBuffer replay;
    private final TreeAdvantages treeAdvantages;
    private int iteration;
    private long generatedTokens;

    /** What one iteration did. */
    public record IterationStats(int iteration, long iterationTokens, long generatedTokens, double meanReward,
            int responses, int episodes, double loss, double keptFraction, double clipFraction, double klToRef,
            double gradNorm, double learningRate, int optimizerSteps, int skippedMicroBatches, double seconds) {}

    /**
     * @param task the task
     * @param base the starting policy; the trainer trains a copy and keeps another, frozen, as the KL reference
     */
    public Trainer(TrainingTask task, Policy base, TrainConfig config) {
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (base == null) throw new IllegalArgumentException("base must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (base.config().vocabSize() < task.tokenizer().vocabSize()) {
            throw new IllegalArgumentException("the policy's vocabulary (" + base.config().vocabSize()
                    + ") is smaller than the tokenizer's (" + task.tokenizer().vocabSize() + ")");
        }
        this.task = task;
        this.config = config;
        this.algo = config.algorithm();
        policy = Policy.random(base.config(), 0);
        policy.copyFrom(base);
        reference = Policy.random(base.config(), 0);
        reference.copyFrom(base);
        optimizer = new PolicyOptimizer(policy, algo.optimizer());
        pool = policy.createKvCache(config.run().kvBlockSize(), config.run().kvBlocks());
        chainSampler = new ChainSampler(policy, pool);
        chainSampler.setMaxStreamsPerBatch(config.run().maxStreams());
        treeSampler = new TreeSampler(policy, pool);
        if (algo.algorithm() == Algorithm.SPO_TREE) {
            AlgorithmConfig.TreeSettings t = algo.tree();
            replay = new ReplayBuffer(algo.batching().episodesPerIteration(), t.replayMaxAge(), t.replayPerQuestion(),
                    Seeds.mix(config.run().seed(), Seeds.REPLAY));
            treeAdvantages = new TreeAdvantages(io.github.spo4j.kernels.Backend.autoHost(), t.backup(),
                    t.truncatedLeaves());
        } else {
            replay = null;
            treeAdvantages = null;
        }
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
        double p = budget > 0 ? (double) tokens / budget : (double) iterations / algo.optimizer().iterations();
        return Math.min(1, p);
    }

    /** Runs one iteration. */
    public IterationStats step() {
        if (finished()) throw new IllegalStateException("the run is finished");
        long start = System.nanoTime();
        long tokensBefore = generatedTokens;
        List<Integer> questions = drawQuestions();
        Collected c = switch (algo.algorithm()) {
            case GRPO, GRPO_MASK, RLOO -> collectGroups(questions);
            case SPO_CHAIN, VINEPPO -> collectMonteCarlo(questions);
            case SPO_TREE -> collectTree(questions);
        };
        generatedTokens = chainSampler.generatedTokens() + treeSampler.generatedTokens() + restoredTokens;
        long iterationTokens = generatedTokens - tokensBefore;
        // The schedule's point for this iteration: the middle of the tokens it spent (no step at lr 0 at the start).
        double progress = config.run().tokenBudget() > 0
                ? progress((tokensBefore + generatedTokens) / 2, iteration)
                : progress(0, iteration) + 0.5 / algo.optimizer().iterations();
        Update u = update(c.episodes, progress);
        iteration++;
        return new IterationStats(iteration - 1, iterationTokens, generatedTokens, c.meanReward, c.responses,
                c.episodes.size(), u.loss, u.keptFraction, u.clipFraction, u.kl, u.gradNorm,
                PolicyOptimizer.learningRate(algo.optimizer(), progress), u.steps, u.skipped,
                (System.nanoTime() - start) / 1e9);
    }

    // ---- sampling and advantages ------------------------------------------------------------------------------

    private record Collected(List<Episode> episodes, double meanReward, int responses) {}

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

    private GenerationConfig generation(long stream) {
        AlgorithmConfig.Sampling s = algo.sampling();
        SamplerConfig sampling = SamplerConfig.builder().temperature(s.temperature()).topP(s.topP())
                .seed(Seeds.mix(config.run().seed(), stream, iteration)).build();
        return GenerationConfig.of(sampling, s.maxNewTokens(), task.tokenizer().eosIds());
    }

    private List<int[]> prompts(List<Integer> questions) {
        List<int[]> out = new ArrayList<>(questions.size());
        for (int q : questions) out.add(task.promptIds(task.train().get(q)));
        return out;
    }

    /** G responses per question; returns them flat, question-major, with their rewards. */
    private List<Completion> sampleGroups(List<Integer> questions, List<int[]> prompts, double[] rewards) {
        int g = algo.batching().samplesPerQuestion();
        Threads.sampling();
        List<List<Completion>> groups = chainSampler.sample(prompts, g, generation(Seeds.RESPONSES));
        List<Completion> flat = new ArrayList<>(questions.size() * g);
        for (int i = 0; i < questions.size(); i++) {
            for (int j = 0; j < g; j++) {
                Completion c = groups.get(i).get(j);
                rewards[flat.size()] = task.reward(task.train().get(questions.get(i)), c.tokens(), c.finishReason());
                flat.add(c);
            }
        }
        return flat;
    }

    private Collected collectGroups(List<Integer> questions) {
        int g = algo.batching().samplesPerQuestion();
        List<int[]> prompts = prompts(questions);
        double[] rewards = new double[questions.size() * g];
        List<Completion> responses = sampleGroups(questions, prompts, rewards);
        List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
        for (int k = 0; k < responses.size(); k++) {
            queries.add(prompts.get(k / g));
            targets.add(responses.get(k).tokens());
        }
        float[][] oldLogp = logprobs(policy, queries, targets);
        float[][] refLogp = referenceLogprobs(queries, targets);
        List<Episode> episodes = new ArrayList<>();
        for (int i = 0; i < questions.size(); i++) {
            float[] groupRewards = new float[g];
            for (int j = 0; j < g; j++) groupRewards[j] = (float) rewards[i * g + j];
            float[] adv = algo.group().advantages(groupRewards);
            for (int j = 0; j < g; j++) {
                int k = i * g + j;
                float[] a = new float[targets.get(k).length];
                Arrays.fill(a, adv[j]);
                episodes.add(new Episode(queries.get(k), targets.get(k), oldLogp[k], a, ref(refLogp, k)));
            }
        }
        return new Collected(episodes, mean(rewards), responses.size());
    }

    private Collected collectMonteCarlo(List<Integer> questions) {
        int g = algo.batching().samplesPerQuestion();
        List<int[]> prompts = prompts(questions);
        double[] rewards = new double[questions.size() * g];
        List<Completion> responses = sampleGroups(questions, prompts, rewards);
        List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
        for (int k = 0; k < responses.size(); k++) {
            queries.add(prompts.get(k / g));
            targets.add(responses.get(k).tokens());
        }
        float[][] oldLogp = logprobs(policy, queries, targets);
        List<Trajectory> batch = new ArrayList<>(responses.size());
        for (int k = 0; k < responses.size(); k++) {
            batch.add(new Trajectory(questions.get(k / g), queries.get(k), targets.get(k), oldLogp[k], rewards[k],
                    responses.get(k).finishReason()));
        }
        ChainValueEstimator estimator = new ChainValueEstimator(chainSampler, generation(Seeds.MONTE_CARLO),
                task.trainReward());
        Threads.sampling();
        SegmentAdvantageBatch advantages = algo.algorithm() == Algorithm.SPO_CHAIN
                ? new ChainAdvantages(algo.chain().partition(), estimator, algo.chain().advantages()).compute(batch)
                : new VinePpoAdvantages(new NewlineStepPartition(task.tokenizer()::tokenTexts), estimator,
                        algo.vine()).compute(batch);
        float[][] refLogp = referenceLogprobs(queries, targets);
        List<Episode> episodes = new ArrayList<>(batch.size());
        for (int k = 0; k < batch.size(); k++) {
            episodes.add(new Episode(queries.get(k), targets.get(k), oldLogp[k],
                    advantages.get(k).tokenAdvantages(), ref(refLogp, k)));
        }
        return new Collected(episodes, mean(rewards), responses.size());
    }

    private Collected collectTree(List<Integer> questions) {
        AlgorithmConfig.TreeSettings t = algo.tree();
        TreeShape shape = new TreeShape(t.branching().stream().mapToInt(Integer::intValue).toArray(),
                t.segmentTokens());
        List<int[]> prompts = prompts(questions);
        int leavesPerTree = 1;
        for (int b : shape.branching()) leavesPerTree *= b;
        int treesPerCall = Math.max(1, config.run().maxStreams() / leavesPerTree);
        Threads.sampling();
        List<SampledTree> sampled = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += treesPerCall) {
            List<int[]> chunk = prompts.subList(from, Math.min(prompts.size(), from + treesPerCall));
            sampled.addAll(treeSampler.sample(chunk, shape, generation(Seeds.mix(Seeds.TREES, from))));
        }
        // π_old of every node's segment given its parent's text, in one batched forward (SPO_SPEC §3).
        List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
        for (SampledTree tree : sampled) {
            for (int n = 0; n < tree.numNodes(); n++) {
                SampledTree.Node node = tree.nodes().get(n);
                int[] prompt = tree.promptIds();
                int[] above = node.parent() == SamplingTree.ROOT ? new int[0] : tree.responseIds(node.parent());
                int[] query = Arrays.copyOf(prompt, prompt.length + above.length);
                System.arraycopy(above, 0, query, prompt.length, above.length);
                queries.add(query);
                targets.add(node.segment().tokens());
            }
        }
        float[][] oldLogp = logprobs(policy, queries, targets);
        List<SamplingTree> trees = new ArrayList<>(sampled.size());
        double rewardSum = 0;
        int leaves = 0;
        for (int i = 0, row = 0; i < sampled.size(); i++) {
            SampledTree tree = sampled.get(i);
            float[][] nodeLogp = Arrays.copyOfRange(oldLogp, row, row + tree.numNodes());
            row += tree.numNodes();
            SamplingTree st = tree.toSamplingTree(questions.get(i), task.trainReward(), nodeLogp);
            trees.add(st);
            for (int n = 0; n < st.numNodes(); n++) {
                if (!st.isLeaf(n)) continue;
                rewardSum += task.reward(task.train().get(questions.get(i)), tree.responseIds(n),
                        tree.nodes().get(n).segment().finishReason());
                leaves++;
            }
        }
        TreeAdvantageResult result = treeAdvantages.compute(trees, iteration);
        List<TreeEdge> edges = replay.nextBatch(iteration, result.edges()).edges();
        List<int[]> edgeQueries = new ArrayList<>(edges.size()), edgeTargets = new ArrayList<>(edges.size());
        for (TreeEdge e : edges) {
            edgeQueries.add(e.queryIds());
            edgeTargets.add(e.responseIds());
        }
        float[][] refLogp = referenceLogprobs(edgeQueries, edgeTargets);
        List<Episode> episodes = new ArrayList<>(edges.size());
        for (int k = 0; k < edges.size(); k++) {
            TreeEdge e = edges.get(k);
            float[] a = new float[e.responseLength()];
            Arrays.fill(a, e.advantage());
            episodes.add(new Episode(edgeQueries.get(k), edgeTargets.get(k), e.oldLogp(), a, ref(refLogp, k)));
        }
        return new Collected(episodes, leaves == 0 ? 0 : rewardSum / leaves, leaves);
    }

    private float[][] referenceLogprobs(List<int[]> queries, List<int[]> targets) {
        return algo.loss().beta() > 0 ? logprobs(reference, queries, targets) : null;
    }

    private static float[] ref(float[][] refLogp, int k) {
        return refLogp == null ? null : refLogp[k];
    }

    /** Log-probs of each target at the sampling temperature, in no-grad micro-batches. */
    private float[][] logprobs(Policy model, List<int[]> queries, List<int[]> targets) {
        return logprobs(model, queries, targets, algo.sampling().temperature(), config.run().microBatchSize() * 4);
    }

    /** Log-probs of each target given its query at {@code temperature}, {@code micro} sequences per no-grad pass. */
    static float[][] logprobs(Policy model, List<int[]> queries, List<int[]> targets, float temperature, int micro) {
        Threads.training();
        float[][] out = new float[queries.size()][];
        for (int from = 0; from < queries.size(); from += micro) {
            int to = Math.min(queries.size(), from + micro);
            TargetBatch batch = TargetBatch.ofPairs(queries.subList(from, to).toArray(new int[0][]),
                    targets.subList(from, to).toArray(new int[0][]));
            try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard();
                    TrainingForward f = model.forward(batch, temperature)) {
                float[] logp = f.logpArray();
                int[] offsets = batch.seqOffsets();
                for (int b = 0; b < to - from; b++) out[from + b] = Arrays.copyOfRange(logp, offsets[b], offsets[b + 1]);
            }
        }
        return out;
    }

    // ---- the update -------------------------------------------------------------------------------------------

    private record Update(double loss, double keptFraction, double clipFraction, double kl, double gradNorm,
            int steps, int skipped) {}

    private Update update(List<Episode> episodes, double progress) {
        Threads.training();
        AlgorithmConfig.Batching b = algo.batching();
        int micro = config.run().microBatchSize();
        double lossSum = 0, clipSum = 0, klSum = 0, normSum = 0;
        long kept = 0, tokens = 0;
        int calls = 0, steps = 0, skipped = 0;
        List<Episode> nonEmpty = new ArrayList<>();
        for (Episode e : episodes) if (e.response().length > 0) nonEmpty.add(e);
        for (int epoch = 0; epoch < b.epochsPerIteration() && !nonEmpty.isEmpty(); epoch++) {
            List<Episode> order = new ArrayList<>(nonEmpty);
            Collections.shuffle(order, new Random(Seeds.mix(config.run().seed(), Seeds.SHUFFLE, iteration, epoch)));
            for (int from = 0; from < order.size(); from += b.miniBatchSize()) {
                List<Episode> mini = order.subList(from, Math.min(order.size(), from + b.miniBatchSize()));
                optimizer.zeroGrad();
                int microBatches = 0;
                for (int m = 0; m < mini.size(); m += micro) {
                    List<Episode> part = mini.subList(m, Math.min(mini.size(), m + micro));
                    PolicyLossStats s = lossBackward(part);
                    microBatches++;
                    calls++;
                    lossSum += s.loss();
                    clipSum += s.clipFracLow() + s.clipFracHigh();
                    klSum += s.klRef();
                    kept += s.keptTokens();
                    for (Episode e : part) tokens += e.response().length;
                    if (s.skipped()) skipped++;
                }
                normSum += optimizer.step(microBatches, progress);
                steps++;
            }
        }
        return new Update(calls == 0 ? 0 : lossSum / calls, tokens == 0 ? 0 : (double) kept / tokens,
                calls == 0 ? 0 : clipSum / calls, calls == 0 ? 0 : klSum / calls, steps == 0 ? 0 : normSum / steps,
                steps, skipped);
    }

    private PolicyLossStats lossBackward(List<Episode> part) {
        int n = part.size();
        int[][] queries = new int[n][], responses = new int[n][];
        int total = 0;
        boolean withRef = algo.loss().beta() > 0;
        for (int i = 0; i < n; i++) {
            queries[i] = part.get(i).query();
            responses[i] = part.get(i).response();
            total += responses[i].length;
        }
        float[] old = new float[total], adv = new float[total], ref = withRef ? new float[total] : null;
        for (int i = 0, at = 0; i < n; i++) {
            Episode e = part.get(i);
            int len = e.response().length;
            System.arraycopy(e.oldLogp(), 0, old, at, len);
            System.arraycopy(e.advantages(), 0, adv, at, len);
            if (withRef) System.arraycopy(e.refLogp(), 0, ref, at, len);
            at += len;
        }
        try (PointerScope scope = new PointerScope();
                TrainingForward f = policy.forward(TargetBatch.ofPairs(queries, responses),
                        algo.sampling().temperature())) {
            return f.policyLossBackward(algo.loss(), old, ref, adv, null);
        }
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return x.length == 0 ? 0 : s / x.length;
    }

    // ---- state (checkpoints) ----------------------------------------------------------------------------------

    private long restoredTokens;

    ReplayBuffer replay() {
        return replay;
    }

    PolicyOptimizer optimizer() {
        return optimizer;
    }

    /** Restores the counters of a checkpoint (the weights, optimizer and replay buffer are restored by the caller). */
    void restoreCounters(int iterations, long tokens) {
        if (iteration != 0 || generatedTokens != 0) throw new IllegalStateException("restore needs a fresh trainer");
        iteration = iterations;
        generatedTokens = tokens;
        restoredTokens = tokens;
    }

    /** The frozen reference policy (the starting weights). */
    Policy reference() {
        return reference;
    }

    ChainSampler chainSampler() {
        return chainSampler;
    }

    @Override
    public void close() {
        optimizer.close();
        pool.close();
        policy.close();
        reference.close();
    }
}
