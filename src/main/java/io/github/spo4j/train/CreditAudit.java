package io.github.spo4j.train;

import io.github.spo4j.kernels.Backend;
import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.ChainSampler;
import io.github.spo4j.rollout.ChainValueEstimator;
import io.github.spo4j.rollout.Completion;
import io.github.spo4j.rollout.GenerationConfig;
import io.github.spo4j.rollout.SampledTree;
import io.github.spo4j.rollout.TreeSampler;
import io.github.spo4j.rollout.TreeShape;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.advantage.ChainAdvantageConfig;
import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.advantage.SegmentAdvantageBatch;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.advantage.VinePpoAdvantages;
import io.github.spo4j.spo.advantage.VinePpoConfig;
import io.github.spo4j.spo.data.SamplingTree;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.data.TreeEdge;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * How well each algorithm's token advantages assign credit, measured on one batch of the policy's own responses
 * against a high-precision Monte-Carlo reference.
 *
 * <p>The reference advantage of response token t is the SPO-chain advantage at the finest partition (every
 * cutpoint is a boundary, K = 1) with many rollouts per state, so for a decision token t (p_t &lt; ρ, where the
 * response could have gone another way)
 * <pre>
 *   A*_t = V(x, y_&lt;t') − V(x, y_&lt;t)     t' = the next decision token after t (at the end, V = R)
 * </pre>
 * which is Q(s_t, y_t) − V(s_t) of the token and the confident tokens that follow it. It is estimated twice from
 * independent rollouts (N/2 each) and averaged; the correlation of the two halves is reported as the reference's
 * reliability (Spearman–Brown corrected to N), the ceiling any estimator's correlation is measured against.
 *
 * <p>Each estimator then assigns its own advantages to the same responses (GRPO and RLOO from the group's rewards;
 * SPO-chain and VinePPO with their own Monte-Carlo rollouts), and is scored on the decision tokens, the only
 * tokens the probability mask trains: the Pearson correlation with A*, the fraction of clearly good or bad tokens
 * (|A*| ≥ 0.25) whose advantage has the right sign (a zero advantage counts as wrong: no credit), and the extra
 * tokens its rollouts generated per response. An estimator's rollouts are seeded by its name, so it draws the same
 * ones whatever else is audited with it.
 *
 * <p>Token credit is not yet a training step: a wrong sign on one response can cancel against the right one on
 * another. With {@link Config#gradientNoise} the audit also weighs each estimator's advantages as gradients
 * ({@link GradientNoise}): the gradient noise scale B (the questions per step at which a step is half signal), the
 * alignment of its expected gradient with the reference's, and the cosine of the two batch gradients on the same
 * responses.
 */
public final class CreditAudit {
    /** The batch and the reference. */
    public record Config(
            int questions,
            int samples,
            int referenceRollouts,
            float temperature,
            float topP,
            int maxNewTokens,
            double rho,
            long seed,
            int maxStreams,
            int kvBlockSize,
            int kvBlocks,
            boolean gradientNoise) {
        public Config {
            if (questions < 1) throw new IllegalArgumentException("questions must be >= 1, got " + questions);
            if (samples < 2) throw new IllegalArgumentException("samples must be >= 2 (a group), got " + samples);
            if (referenceRollouts < 2 || referenceRollouts % 2 != 0) {
                throw new IllegalArgumentException("referenceRollouts must be even and >= 2, got " + referenceRollouts);
            }
            if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
            if (!(rho > 0 && rho <= 1)) throw new IllegalArgumentException("rho must be in (0, 1], got " + rho);
        }

        /**
         * 32 questions × 8 samples, 64 reference rollouts, SPO_SPEC's sampling (T 0.6, top-p 0.9), ρ 0.9, with the
         * gradient noise.
         */
        public static Config defaults() {
            return new Config(32, 8, 64, 0.6f, 0.9f, 64, 0.9, 0, 512, 16, 16384, true);
        }
    }

    /**
     * An advantage estimator: {@code grpo}, {@code rloo}, {@code spo-chain:K:N} (cutpoint interval K, N rollouts per
     * boundary), {@code spo-chain:K:N:M} (and M more at the states around tied segments), {@code spo-chain:K:N:M:S}
     * (at most S segments per response, the trainer's {@code max-segments}; M may be 0), {@code vineppo:N}, or
     * {@code spo-tree:B1-B2-...:S} (its own tree per question, branching B1, B2, ... with S-token segments; its
     * episodes are the tree's edges, not the batch's responses, so it is measured only as gradients), or
     * {@code spo-tree:B1-B2-...:S:P} (segments of at most S tokens that end before an uncertain step, the most likely
     * token below probability P: {@link TreeShape#branchBelow}).
     */
    public record Estimator(
            Algorithm algorithm,
            int cutpointInterval,
            int rollouts,
            int tieRollouts,
            List<Integer> branching,
            int segmentTokens,
            double branchBelow,
            int maxSegments) {
        public Estimator {
            branching = branching == null ? List.of() : List.copyOf(branching);
        }

        public Estimator(Algorithm algorithm, int cutpointInterval, int rollouts, int tieRollouts) {
            this(algorithm, cutpointInterval, rollouts, tieRollouts, List.of(), 0, 0, 0);
        }

        public Estimator(Algorithm algorithm, int cutpointInterval, int rollouts) {
            this(algorithm, cutpointInterval, rollouts, 0);
        }

        public static Estimator parse(String spec) {
            if (spec == null) throw new IllegalArgumentException("estimator must not be null");
            String[] p = spec.strip().toLowerCase(Locale.ROOT).split(":");
            String usage =
                    "estimator must be grpo, rloo, spo-chain:K:N, spo-chain:K:N:M, spo-chain:K:N:M:S, vineppo:N or "
                            + "spo-tree:B1-B2-...:S[:P], got \"" + spec + "\"";
            try {
                switch (p[0]) {
                    case "grpo", "rloo" -> {
                        if (p.length != 1) throw new IllegalArgumentException(usage);
                        return new Estimator(TrainConfig.algorithmNamed(p[0]), 0, 0);
                    }
                    case "spo-chain" -> {
                        if (p.length < 3 || p.length > 5) throw new IllegalArgumentException(usage);
                        int tie = p.length == 4 ? positive(p[3], usage) : 0;
                        if (p.length == 5) {
                            tie = Integer.parseInt(p[3]);
                            if (tie < 0) throw new IllegalArgumentException(usage);
                        }
                        return new Estimator(
                                Algorithm.SPO_CHAIN,
                                positive(p[1], usage),
                                positive(p[2], usage),
                                tie,
                                List.of(),
                                0,
                                0,
                                p.length == 5 ? positive(p[4], usage) : 0);
                    }
                    case "vineppo" -> {
                        if (p.length != 2) throw new IllegalArgumentException(usage);
                        return new Estimator(Algorithm.VINEPPO, 0, positive(p[1], usage));
                    }
                    case "spo-tree" -> {
                        if (p.length != 3 && p.length != 4) throw new IllegalArgumentException(usage);
                        List<Integer> branching = new ArrayList<>();
                        for (String b : p[1].split("-", -1)) branching.add(positive(b, usage));
                        double branchBelow = p.length == 4 ? Double.parseDouble(p[3]) : 0;
                        if (!(branchBelow > 0 && branchBelow <= 1) && p.length == 4) {
                            throw new IllegalArgumentException(usage + ": P must be in (0, 1]");
                        }
                        return new Estimator(
                                Algorithm.SPO_TREE, 0, 0, 0, branching, positive(p[2], usage), branchBelow, 0);
                    }
                    default -> throw new IllegalArgumentException(usage);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(usage, e);
            }
        }

        private static int positive(String s, String usage) {
            int v = Integer.parseInt(s);
            if (v < 1) throw new IllegalArgumentException(usage);
            return v;
        }

        public String name() {
            return switch (algorithm) {
                case SPO_CHAIN ->
                    "spo-chain K=" + cutpointInterval + " N=" + rollouts + (tieRollouts > 0 ? " M=" + tieRollouts : "")
                            + (maxSegments > 0 ? " S=" + maxSegments : "");
                case VINEPPO -> "vineppo N=" + rollouts;
                case SPO_TREE ->
                    "spo-tree "
                            + String.join(
                                    "-", branching.stream().map(String::valueOf).toList())
                            + " x" + segmentTokens
                            + (branchBelow > 0 ? " <p" + branchBelow : "");
                default -> TrainConfig.nameOf(algorithm);
            };
        }
    }

    /**
     * One estimator's score.
     *
     * @param signAgreement the fraction of clear tokens (|A*| ≥ 0.25) whose advantage has A*'s sign
     * @param noCredit      the fraction of clear tokens given an advantage of exactly 0 (counted as wrong above)
     * @param tokensPerQuestion the tokens generated per question for its episodes: the group's responses and their
     *                      rollouts, or SPO-tree's tree
     * @param noiseScale    the gradient noise scale B of its advantages, in questions (NaN when not measured)
     * @param noiseScaleError its jackknife standard error over the questions
     * @param gradientAlignment cos(G, G*) of its expected gradient with the reference's
     * @param gradientAlignmentError its jackknife standard error
     * @param sameResponsesCosine the cosine of its batch gradient with the reference's on the same responses
     */
    public record Row(
            String estimator,
            double correlation,
            double signAgreement,
            double noCredit,
            double extraTokensPerResponse,
            double tokensPerQuestion,
            double noiseScale,
            double noiseScaleError,
            double gradientAlignment,
            double gradientAlignmentError,
            double sameResponsesCosine) {}

    /**
     * @param decisionTokens    response tokens with p_t &lt; ρ over the batch
     * @param decisionFraction  their share of all response tokens
     * @param clearTokens       decision tokens with |A*| ≥ 0.25, on which sign agreement is scored
     * @param referenceReliability Spearman–Brown reliability of the reference from its two halves
     * @param referenceTokensPerResponse tokens the reference's rollouts generated per response
     * @param referenceNoiseScale the reference's gradient noise scale B in questions (NaN when not measured)
     * @param referenceNoiseScaleError its jackknife standard error
     */
    public record Result(
            int responses,
            double meanReward,
            double meanResponseTokens,
            int decisionTokens,
            double decisionFraction,
            int clearTokens,
            double referenceReliability,
            double referenceTokensPerResponse,
            double referenceNoiseScale,
            double referenceNoiseScaleError,
            List<Row> rows) {}

    /** |A*| from which a decision token clearly mattered. */
    static final double CLEAR = 0.25;

    private CreditAudit() {}

    /**
     * Whether an audit of {@code questions} can measure the gradient noise of {@code estimators} on a policy of
     * {@code parameters}: the jackknife needs 3 questions, and the gradient sums must fit in half the heap.
     */
    public static boolean gradientNoiseMeasurable(long parameters, int estimators, int questions) {
        return questions >= 3 && gradientNoiseFits(parameters, estimators);
    }

    private static boolean gradientNoiseFits(long parameters, int estimators) {
        return GradientNoise.bytesNeeded(parameters, estimators + 1)
                <= Runtime.getRuntime().maxMemory() / 2;
    }

    public static Result run(Policy policy, TrainingTask task, Config config, List<Estimator> estimators) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (estimators == null || estimators.isEmpty())
            throw new IllegalArgumentException("estimators must not be empty");
        if (config.questions() > task.train().size()) {
            throw new IllegalArgumentException("questions must be <= the "
                    + task.train().size() + " training problems, got " + config.questions());
        }
        int g = config.samples();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < task.train().size(); i++) order.add(i);
        Collections.shuffle(order, new Random(Seeds.mix(config.seed(), Seeds.AUDIT, Seeds.QUESTIONS)));
        List<Integer> questions = order.subList(0, config.questions());
        for (Estimator e : estimators) {
            if (e.algorithm() == Algorithm.SPO_TREE && !config.gradientNoise()) {
                throw new IllegalArgumentException(
                        "estimator " + e.name() + " is measured only as gradients: turn gradientNoise on");
            }
        }
        if (config.gradientNoise()) {
            if (config.questions() < 3) {
                throw new IllegalArgumentException(
                        "questions must be >= 3 to measure the gradient noise, got " + config.questions());
            }
            if (!gradientNoiseFits(policy.parameterCount(), estimators.size())) {
                long need = GradientNoise.bytesNeeded(policy.parameterCount(), estimators.size() + 1);
                long max = Runtime.getRuntime().maxMemory();
                throw new IllegalArgumentException(String.format(
                        "gradientNoise needs %.1f GiB for %d parameters and %d estimators, over half the heap "
                                + "(%.1f GiB): turn it off or audit fewer estimators",
                        need / 1073741824.0, policy.parameterCount(), estimators.size() + 1, max / 1073741824.0));
            }
        }
        List<int[]> prompts = new ArrayList<>();
        for (int q : questions) prompts.add(task.promptIds(task.train().get(q)));

        try (KvCache pool = policy.createKvCache(config.kvBlockSize(), config.kvBlocks())) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            sampler.setMaxStreamsPerBatch(config.maxStreams());
            Threads.sampling(policy);
            List<List<Completion>> groups = sampler.sample(prompts, g, generation(task, config, Seeds.RESPONSES));
            List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
            double[] rewards = new double[questions.size() * g];
            List<Completion> flat = new ArrayList<>();
            for (int i = 0; i < questions.size(); i++) {
                for (Completion c : groups.get(i)) {
                    rewards[flat.size()] =
                            task.reward(task.train().get(questions.get(i)), c.tokens(), c.finishReason());
                    flat.add(c);
                    queries.add(prompts.get(i));
                    targets.add(c.tokens());
                }
            }
            float[][] oldLogp = Trainer.logprobs(policy, queries, targets, config.temperature(), 256, false);
            List<Trajectory> batch = new ArrayList<>(flat.size());
            for (int k = 0; k < flat.size(); k++) {
                batch.add(new Trajectory(
                        questions.get(k / g),
                        queries.get(k),
                        targets.get(k),
                        oldLogp[k],
                        rewards[k],
                        flat.get(k).finishReason()));
            }
            Threads.sampling(policy);

            // The reference: every cutpoint a boundary, two independent halves of the rollouts.
            int half = config.referenceRollouts() / 2;
            long before = sampler.generatedTokens();
            float[][] refA = chain(batch, sampler, task, config, 1, half, 0, 0, Seeds.mix(Seeds.AUDIT, 1));
            float[][] refB = chain(batch, sampler, task, config, 1, half, 0, 0, Seeds.mix(Seeds.AUDIT, 2));
            double referenceTokens = (double) (sampler.generatedTokens() - before) / batch.size();

            List<Double> a = new ArrayList<>(), b = new ArrayList<>(), reference = new ArrayList<>();
            long responseTokens = 0;
            for (int k = 0; k < batch.size(); k++) {
                Trajectory t = batch.get(k);
                responseTokens += t.responseLength();
                for (int i = 0; i < t.responseLength(); i++) {
                    if (!(t.tokenProbability(i) < config.rho())) continue;
                    a.add((double) refA[k][i]);
                    b.add((double) refB[k][i]);
                    reference.add((refA[k][i] + refB[k][i]) / 2.0);
                }
            }
            int clear = 0;
            for (double r : reference) if (Math.abs(r) >= CLEAR) clear++;
            double halves = correlation(a, b);
            double reliability = 2 * halves / (1 + halves);

            List<Row> rows = new ArrayList<>();
            float[][] referenceAdvantages = new float[batch.size()][];
            for (int k = 0; k < batch.size(); k++) {
                referenceAdvantages[k] = new float[refA[k].length];
                for (int i = 0; i < refA[k].length; i++) referenceAdvantages[k][i] = (refA[k][i] + refB[k][i]) / 2;
            }
            List<GradientNoise.Episodes> gradientSets =
                    new ArrayList<>(List.of(GradientNoise.Episodes.groups(batch, g, referenceAdvantages)));
            double responseTokensPerQuestion = (double) responseTokens / questions.size();
            for (int e = 0; e < estimators.size(); e++) {
                Estimator est = estimators.get(e);
                long stream = Seeds.mix(Seeds.AUDIT, 10, est.name().hashCode());
                if (est.algorithm() == Algorithm.SPO_TREE) {
                    TreeBatch trees = trees(policy, pool, prompts, questions, task, config, est, stream);
                    gradientSets.add(trees.episodes());
                    rows.add(new Row(
                            est.name(),
                            Double.NaN,
                            Double.NaN,
                            Double.NaN,
                            Double.NaN,
                            (double) trees.generatedTokens() / questions.size(),
                            Double.NaN,
                            Double.NaN,
                            Double.NaN,
                            Double.NaN,
                            Double.NaN));
                    continue;
                }
                long start = sampler.generatedTokens();
                float[][] adv = advantages(est, batch, rewards, g, sampler, task, config, stream);
                gradientSets.add(GradientNoise.Episodes.groups(batch, g, adv));
                double extra = (double) (sampler.generatedTokens() - start) / batch.size();
                List<Double> x = new ArrayList<>();
                for (int k = 0; k < batch.size(); k++) {
                    Trajectory t = batch.get(k);
                    for (int i = 0; i < t.responseLength(); i++)
                        if (t.tokenProbability(i) < config.rho()) x.add((double) adv[k][i]);
                }
                int right = 0, none = 0;
                for (int i = 0; i < x.size(); i++) {
                    double r = reference.get(i);
                    if (Math.abs(r) < CLEAR) continue;
                    if (Math.signum(x.get(i)) == Math.signum(r)) right++;
                    if (x.get(i) == 0) none++;
                }
                rows.add(new Row(
                        est.name(),
                        correlation(x, reference),
                        clear == 0 ? Double.NaN : (double) right / clear,
                        clear == 0 ? Double.NaN : (double) none / clear,
                        extra,
                        responseTokensPerQuestion + extra * g,
                        Double.NaN,
                        Double.NaN,
                        Double.NaN,
                        Double.NaN,
                        Double.NaN));
            }
            double referenceNoise = Double.NaN, referenceNoiseError = Double.NaN;
            if (config.gradientNoise()) {
                List<GradientNoise.Stats> stats =
                        GradientNoise.measure(policy, gradientSets, config.rho(), config.temperature());
                referenceNoise = stats.get(0).noiseScale();
                referenceNoiseError = stats.get(0).noiseScaleError();
                for (int e = 0; e < rows.size(); e++) {
                    Row r = rows.get(e);
                    GradientNoise.Stats st = stats.get(e + 1);
                    rows.set(
                            e,
                            new Row(
                                    r.estimator(),
                                    r.correlation(),
                                    r.signAgreement(),
                                    r.noCredit(),
                                    r.extraTokensPerResponse(),
                                    r.tokensPerQuestion(),
                                    st.noiseScale(),
                                    st.noiseScaleError(),
                                    st.alignment(),
                                    st.alignmentError(),
                                    st.sameResponsesCosine()));
                }
            }
            double meanReward = 0;
            for (double r : rewards) meanReward += r / rewards.length;
            return new Result(
                    batch.size(),
                    meanReward,
                    (double) responseTokens / batch.size(),
                    reference.size(),
                    responseTokens == 0 ? 0 : (double) reference.size() / responseTokens,
                    clear,
                    reliability,
                    referenceTokens,
                    referenceNoise,
                    referenceNoiseError,
                    rows);
        }
    }

    /**
     * SPO-tree on the audit's questions: its trees (tree i answers {@code questions[i]}), their edges as episodes
     * grouped by question, and the tokens the trees generated.
     */
    record TreeBatch(List<SamplingTree> trees, GradientNoise.Episodes episodes, long generatedTokens) {}

    /**
     * One tree per prompt ({@code est}'s shape, the compare's backup and truncated-leaf scoring), π_old of every
     * node given its parent's text, and every edge with its advantage, grouped by question.
     */
    static TreeBatch trees(
            Policy policy,
            KvCache pool,
            List<int[]> prompts,
            List<Integer> questions,
            TrainingTask task,
            Config config,
            Estimator est,
            long stream) {
        TreeSampler sampler = new TreeSampler(policy, pool);
        TreeShape shape = new TreeShape(
                est.branching().stream().mapToInt(Integer::intValue).toArray(), est.segmentTokens(), est.branchBelow());
        int leaves = 1;
        for (int b : shape.branching()) leaves *= b;
        int perCall = Math.max(1, config.maxStreams() / leaves);
        GenerationConfig gen = generation(task, config, stream);
        Threads.sampling(policy);
        List<SampledTree> sampled = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += perCall) {
            int to = Math.min(prompts.size(), from + perCall);
            sampled.addAll(sampler.sample(prompts.subList(from, to), from, shape, gen));
        }
        long generated = sampler.generatedTokens();
        List<int[]> queries = new ArrayList<>(), targets = new ArrayList<>();
        for (SampledTree t : sampled) {
            for (int n = 0; n < t.numNodes(); n++) {
                SampledTree.Node node = t.nodes().get(n);
                int[] above = node.parent() == SamplingTree.ROOT ? new int[0] : t.responseIds(node.parent());
                int[] query = Arrays.copyOf(t.promptIds(), t.promptIds().length + above.length);
                System.arraycopy(above, 0, query, t.promptIds().length, above.length);
                queries.add(query);
                targets.add(node.segment().tokens());
            }
        }
        float[][] oldLogp = Trainer.logprobs(policy, queries, targets, config.temperature(), 256, false);
        List<SamplingTree> trees = new ArrayList<>(sampled.size());
        for (int i = 0, row = 0; i < sampled.size(); i++) {
            SampledTree t = sampled.get(i);
            trees.add(t.toSamplingTree(
                    questions.get(i), task.trainReward(), Arrays.copyOfRange(oldLogp, row, row + t.numNodes())));
            row += t.numNodes();
        }
        AlgorithmConfig.TreeSettings settings =
                AlgorithmConfig.of(Algorithm.SPO_TREE).tree();
        List<TreeEdge> edges = new TreeAdvantages(Backend.autoHost(), settings.backup(), settings.truncatedLeaves())
                .compute(trees, 0)
                .edges();
        // Tree i answers questions[i] (the rewards look the question up): its edges become episodes
        // questionStarts[i] ..., in order.
        Map<Integer, Integer> treeOf = new HashMap<>();
        for (int i = 0; i < questions.size(); i++) treeOf.put(questions.get(i), i);
        List<List<TreeEdge>> byTree = new ArrayList<>();
        for (int i = 0; i < trees.size(); i++) byTree.add(new ArrayList<>());
        for (TreeEdge e : edges) byTree.get(treeOf.get(e.questionId())).add(e);
        List<Trajectory> episodes = new ArrayList<>(edges.size());
        List<float[]> advantages = new ArrayList<>(edges.size());
        int[] starts = new int[trees.size() + 1];
        for (int i = 0; i < trees.size(); i++) {
            starts[i] = episodes.size();
            for (TreeEdge e : byTree.get(i)) {
                episodes.add(new Trajectory(
                        questions.get(i), e.queryIds(), e.responseIds(), e.oldLogp(), 0, FinishReason.EOS));
                float[] a = new float[e.responseLength()];
                Arrays.fill(a, e.advantage());
                advantages.add(a);
            }
        }
        starts[trees.size()] = episodes.size();
        return new TreeBatch(
                trees, new GradientNoise.Episodes(episodes, starts, advantages.toArray(new float[0][])), generated);
    }

    private static float[][] advantages(
            Estimator est,
            List<Trajectory> batch,
            double[] rewards,
            int g,
            ChainSampler sampler,
            TrainingTask task,
            Config config,
            long stream) {
        float[][] out = new float[batch.size()][];
        switch (est.algorithm()) {
            case GRPO, RLOO -> {
                AlgorithmConfig.GroupSettings group =
                        AlgorithmConfig.of(est.algorithm()).group();
                for (int q = 0; q < batch.size() / g; q++) {
                    float[] r = new float[g];
                    for (int j = 0; j < g; j++) r[j] = (float) rewards[q * g + j];
                    float[] adv = group.advantages(r);
                    for (int j = 0; j < g; j++) {
                        out[q * g + j] = new float[batch.get(q * g + j).responseLength()];
                        java.util.Arrays.fill(out[q * g + j], adv[j]);
                    }
                }
            }
            case SPO_CHAIN ->
                out = chain(
                        batch,
                        sampler,
                        task,
                        config,
                        est.cutpointInterval(),
                        est.rollouts(),
                        est.tieRollouts(),
                        est.maxSegments(),
                        stream);
            case VINEPPO -> {
                ChainValueEstimator values =
                        new ChainValueEstimator(sampler, generation(task, config, stream), task.trainReward());
                SegmentAdvantageBatch r = new VinePpoAdvantages(
                                new NewlineStepPartition(task.tokenizer()::tokenTexts),
                                values,
                                new VinePpoConfig(est.rollouts(), VinePpoConfig.DEFAULT_MAX_STEPS_ESTIMATED))
                        .compute(batch);
                for (int k = 0; k < batch.size(); k++) out[k] = r.get(k).tokenAdvantages();
            }
            default -> throw new IllegalArgumentException("estimator " + est.name() + " is not auditable");
        }
        return out;
    }

    private static float[][] chain(
            List<Trajectory> batch,
            ChainSampler sampler,
            TrainingTask task,
            Config config,
            int interval,
            int rollouts,
            int tieRollouts,
            int maxSegments,
            long stream) {
        ChainValueEstimator values =
                new ChainValueEstimator(sampler, generation(task, config, stream), task.trainReward());
        SegmentAdvantageBatch r = new ChainAdvantages(
                        new CutpointPartition(config.rho(), interval, maxSegments),
                        values,
                        new ChainAdvantageConfig(rollouts, true, config.rho(), tieRollouts))
                .compute(batch);
        float[][] out = new float[batch.size()][];
        for (int k = 0; k < batch.size(); k++) out[k] = r.get(k).tokenAdvantages();
        return out;
    }

    private static GenerationConfig generation(TrainingTask task, Config c, long stream) {
        SamplerConfig sampling = SamplerConfig.builder()
                .temperature(c.temperature())
                .topP(c.topP())
                .seed(Seeds.mix(c.seed(), stream))
                .build();
        return GenerationConfig.of(sampling, c.maxNewTokens(), task.tokenizer().eosIds());
    }

    /** Pearson correlation; NaN when either side is constant or empty. */
    static double correlation(List<Double> x, List<Double> y) {
        int n = x.size();
        if (n == 0) return Double.NaN;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += x.get(i);
            my += y.get(i);
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x.get(i) - mx, dy = y.get(i) - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? Double.NaN : sxy / Math.sqrt(sxx * syy);
    }
}
