package io.github.spo4j.spo;

import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.spo.advantage.ChainAdvantageConfig;
import io.github.spo4j.spo.advantage.GroupAdvantages;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import io.github.spo4j.spo.advantage.VinePpoConfig;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.spo.replay.ReplayBuffer;
import java.util.List;

/**
 * Everything that defines one algorithm's run, with the reference code's defaults (SPO_SPEC §4 table and
 * the configs it cites): the loss, sampling, batch sizes, optimizer, and the advantage settings of the
 * algorithm (the others are null). {@link #of(Algorithm)} gives the presets; the {@code with...} methods
 * change one part.
 *
 * <pre>
 *   all:       ε 0.2, β 1e-4 (k3, seq-mean-token-sum), whitening, T 0.6, top-p 0.9, AdamW lr 1e-6, clip 1.0,
 *              3% warmup, 1000 iterations
 *   SPO-chain: mask ρ 0.9; cutpoints ρ 0.9 every K = 5; N = 9 rollouts; 64 questions × 8 samples, 2 epochs
 *   SPO-tree:  mask ρ 0.9; 6-6-6 tree, M = 30 tokens; 16 questions → 1024 edges; replay 8 iterations, ≤ 32 per
 *              question; 1 epoch, minibatch 128
 *   GRPO:      no mask; 64 × 8, Bessel std, eps 1e-6; 1 epoch, minibatch 128.  GRPO+mask: the same with ρ 0.9
 *   VinePPO:   no mask; newline steps, N = 9, 25 steps estimated; 512 episodes, 2 epochs, minibatch 64
 *   RLOO:      no mask; 64 × 8, leave-one-out baseline; 1 epoch, minibatch 128
 * </pre>
 *
 * @param algorithm the algorithm
 * @param loss      the policy loss (the mask is on exactly for SPO and GRPO+mask)
 * @param sampling  rollout sampling
 * @param batching  questions, samples and episodes per iteration; minibatch; epochs
 * @param optimizer optimizer and schedule
 * @param chain     SPO-chain settings, else null
 * @param tree      SPO-tree settings, else null
 * @param group     GRPO / GRPO+mask / RLOO settings, else null
 * @param vine      VinePPO settings, else null
 */
public record AlgorithmConfig(
        Algorithm algorithm,
        PolicyLossConfig loss,
        Sampling sampling,
        Batching batching,
        Optimizer optimizer,
        ChainSettings chain,
        TreeSettings tree,
        GroupSettings group,
        VinePpoConfig vine) {

    public AlgorithmConfig {
        SpoArguments.notNull(algorithm, "algorithm");
        SpoArguments.notNull(loss, "loss");
        SpoArguments.notNull(sampling, "sampling");
        SpoArguments.notNull(batching, "batching");
        SpoArguments.notNull(optimizer, "optimizer");
        requireExactly(algorithm == Algorithm.SPO_CHAIN, chain, "chain", algorithm);
        requireExactly(algorithm == Algorithm.SPO_TREE, tree, "tree", algorithm);
        requireExactly(
                algorithm == Algorithm.GRPO || algorithm == Algorithm.GRPO_MASK || algorithm == Algorithm.RLOO,
                group,
                "group",
                algorithm);
        requireExactly(algorithm == Algorithm.VINEPPO, vine, "vine", algorithm);
    }

    /** Sampling of responses, MC rollouts and tree segments (probabilities for ρ tests are taken at T). */
    public record Sampling(float temperature, float topP, int maxNewTokens, int contextTokens) {
        public Sampling {
            SpoArguments.require(
                    Float.isFinite(temperature) && temperature > 0,
                    "temperature must be finite and > 0, got " + temperature);
            SpoArguments.require(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
            SpoArguments.positive(maxNewTokens, "maxNewTokens");
            SpoArguments.positive(contextTokens, "contextTokens");
        }

        /** T 0.6, top-p 0.9, 1024 new tokens, context 2047 (Rho GSM8K). */
        public static Sampling defaults() {
            return new Sampling(0.6f, 0.9f, 1024, 2047);
        }
    }

    /**
     * @param questionsPerIteration questions drawn per iteration
     * @param samplesPerQuestion    responses per question (chain, group methods); 1 for trees
     * @param episodesPerIteration  training samples per iteration (tree edges are forced to this count)
     * @param miniBatchSize         samples per optimizer step
     * @param epochsPerIteration    passes over the iteration's samples
     */
    public record Batching(
            int questionsPerIteration,
            int samplesPerQuestion,
            int episodesPerIteration,
            int miniBatchSize,
            int epochsPerIteration) {
        public Batching {
            SpoArguments.positive(questionsPerIteration, "questionsPerIteration");
            SpoArguments.positive(samplesPerQuestion, "samplesPerQuestion");
            SpoArguments.positive(episodesPerIteration, "episodesPerIteration");
            SpoArguments.positive(miniBatchSize, "miniBatchSize");
            SpoArguments.positive(epochsPerIteration, "epochsPerIteration");
        }
    }

    /** AdamW with linear warmup, then linear decay to 0 over {@code iterations}. */
    public record Optimizer(
            double learningRate, double weightDecay, double gradientClip, double warmupFraction, int iterations) {
        public Optimizer {
            SpoArguments.require(
                    Double.isFinite(learningRate) && learningRate > 0,
                    "learningRate must be finite and > 0, got " + learningRate);
            SpoArguments.require(
                    Double.isFinite(weightDecay) && weightDecay >= 0,
                    "weightDecay must be finite and >= 0, got " + weightDecay);
            SpoArguments.require(gradientClip > 0, "gradientClip must be > 0, got " + gradientClip);
            SpoArguments.require(
                    warmupFraction >= 0 && warmupFraction < 1,
                    "warmupFraction must be in [0, 1), got " + warmupFraction);
            SpoArguments.positive(iterations, "iterations");
        }

        /** lr 1e-6, no weight decay, gradient clip 1.0, 3% warmup, 1000 iterations. */
        public static Optimizer defaults() {
            return new Optimizer(1e-6, 0, 1.0, 0.03, 1000);
        }
    }

    /** SPO-chain: where segments start, and how their values are estimated. */
    public record ChainSettings(CutpointPartition partition, ChainAdvantageConfig advantages) {
        public ChainSettings {
            SpoArguments.notNull(partition, "partition");
            SpoArguments.notNull(advantages, "advantages");
        }
    }

    /**
     * SPO-tree.
     *
     * @param branching         children sampled per node at each depth (6-6-6); its length is the tree depth
     * @param segmentTokens     M, tokens per segment below the last level
     * @param backup            value and advantage modes
     * @param truncatedLeaves   how leaves cut by the context limit are scored
     * @param replayMaxAge      iterations an edge stays in the replay buffer
     * @param replayPerQuestion edges drawn per question and iteration
     * @param branchBelow       ρ_b in [0, 1]: a segment below the last level also ends before an uncertain step, its
     *                          most likely token below this probability (not in the paper; 0: fixed M-token segments)
     */
    public record TreeSettings(
            List<Integer> branching,
            int segmentTokens,
            TreeBackupConfig backup,
            TreeAdvantages.TruncatedLeafScoring truncatedLeaves,
            int replayMaxAge,
            int replayPerQuestion,
            double branchBelow) {
        /** Fixed M-token segments. */
        public TreeSettings(
                List<Integer> branching,
                int segmentTokens,
                TreeBackupConfig backup,
                TreeAdvantages.TruncatedLeafScoring truncatedLeaves,
                int replayMaxAge,
                int replayPerQuestion) {
            this(branching, segmentTokens, backup, truncatedLeaves, replayMaxAge, replayPerQuestion, 0);
        }

        public TreeSettings {
            SpoArguments.notNull(branching, "branching");
            SpoArguments.require(!branching.isEmpty(), "branching must name at least one level");
            for (int i = 0; i < branching.size(); i++) {
                SpoArguments.require(
                        branching.get(i) != null && branching.get(i) > 0,
                        "branching[" + i + "] must be > 0, got " + branching.get(i));
            }
            branching = List.copyOf(branching);
            SpoArguments.positive(segmentTokens, "segmentTokens");
            SpoArguments.notNull(backup, "backup");
            SpoArguments.notNull(truncatedLeaves, "truncatedLeaves");
            SpoArguments.positive(replayMaxAge, "replayMaxAge");
            SpoArguments.positive(replayPerQuestion, "replayPerQuestion");
            SpoArguments.require(
                    branchBelow >= 0 && branchBelow <= 1, "branchBelow must be in [0, 1], got " + branchBelow);
        }

        /** Maximum number of edges of one tree: b0 + b0·b1 + ... (258 for 6-6-6). */
        public int maxEdges() {
            int edges = 0, level = 1;
            for (int b : branching) {
                level *= b;
                edges += level;
            }
            return edges;
        }
    }

    /** Group baselines: GRPO's normalization, or RLOO's leave-one-out mean. */
    public record GroupSettings(boolean leaveOneOut, boolean divideByStd, GroupAdvantages.StdEstimator std, float eps) {
        public GroupSettings {
            SpoArguments.notNull(std, "std");
            SpoArguments.require(Float.isFinite(eps) && eps >= 0, "eps must be finite and >= 0, got " + eps);
            SpoArguments.require(!(leaveOneOut && divideByStd), "leaveOneOut and divideByStd exclude each other");
        }

        /** The advantages of one group of rewards under these settings. */
        public float[] advantages(float[] rewards) {
            if (leaveOneOut) return GroupAdvantages.rloo(rewards);
            return divideByStd ? GroupAdvantages.grpo(rewards, std, eps) : GroupAdvantages.drGrpo(rewards);
        }
    }

    /** The preset of an algorithm. */
    public static AlgorithmConfig of(Algorithm algorithm) {
        SpoArguments.notNull(algorithm, "algorithm");
        return switch (algorithm) {
            case SPO_CHAIN -> spoChain();
            case SPO_TREE -> spoTree();
            case GRPO -> grpo();
            case GRPO_MASK -> grpoWithMask();
            case VINEPPO -> vinePpo();
            case RLOO -> rloo();
        };
    }

    /** SPO-chain, Rho GSM8K (int5, 9 rollouts). */
    public static AlgorithmConfig spoChain() {
        return new AlgorithmConfig(
                Algorithm.SPO_CHAIN,
                PolicyLossConfig.spo(),
                Sampling.defaults(),
                new Batching(64, 8, 512, 64, 2),
                Optimizer.defaults(),
                new ChainSettings(CutpointPartition.defaults(), ChainAdvantageConfig.defaults()),
                null,
                null,
                null);
    }

    /** SPO-tree 6-6-6, Rho GSM8K (M = 30, 16 trees → 1024 edges). */
    public static AlgorithmConfig spoTree() {
        return new AlgorithmConfig(
                Algorithm.SPO_TREE,
                PolicyLossConfig.spo(),
                Sampling.defaults(),
                new Batching(16, 1, 1024, 128, 1),
                Optimizer.defaults(),
                null,
                new TreeSettings(
                        List.of(6, 6, 6),
                        30,
                        TreeBackupConfig.spoTree(),
                        TreeAdvantages.TruncatedLeafScoring.ZERO,
                        ReplayBuffer.DEFAULT_MAX_AGE,
                        ReplayBuffer.DEFAULT_MAX_PER_QUESTION),
                null,
                null);
    }

    /** GRPO: group-normalized response rewards, no probability mask. */
    public static AlgorithmConfig grpo() {
        return new AlgorithmConfig(
                Algorithm.GRPO,
                PolicyLossConfig.grpo(),
                Sampling.defaults(),
                new Batching(64, 8, 512, 128, 1),
                Optimizer.defaults(),
                null,
                null,
                new GroupSettings(false, true, GroupAdvantages.StdEstimator.BESSEL, GroupAdvantages.DEFAULT_EPS),
                null);
    }

    /** GRPO with SPO's probability mask (ρ = 0.9) in the loss. */
    public static AlgorithmConfig grpoWithMask() {
        AlgorithmConfig g = grpo();
        return new AlgorithmConfig(
                Algorithm.GRPO_MASK,
                PolicyLossConfig.spo(),
                g.sampling,
                g.batching,
                g.optimizer,
                null,
                null,
                g.group,
                null);
    }

    /** VinePPO (SPO_SPEC §8): no mask, 9 rollouts per step state, 25 steps estimated. */
    public static AlgorithmConfig vinePpo() {
        return new AlgorithmConfig(
                Algorithm.VINEPPO,
                PolicyLossConfig.grpo(),
                Sampling.defaults(),
                new Batching(64, 8, 512, 64, 2),
                Optimizer.defaults(),
                null,
                null,
                null,
                VinePpoConfig.defaults());
    }

    /** RLOO: R minus the mean of the group's other rewards, no mask. */
    public static AlgorithmConfig rloo() {
        return new AlgorithmConfig(
                Algorithm.RLOO,
                PolicyLossConfig.grpo(),
                Sampling.defaults(),
                new Batching(64, 8, 512, 128, 1),
                Optimizer.defaults(),
                null,
                null,
                new GroupSettings(true, false, GroupAdvantages.StdEstimator.BESSEL, 0f),
                null);
    }

    public AlgorithmConfig withLoss(PolicyLossConfig l) {
        return new AlgorithmConfig(algorithm, l, sampling, batching, optimizer, chain, tree, group, vine);
    }

    public AlgorithmConfig withSampling(Sampling s) {
        return new AlgorithmConfig(algorithm, loss, s, batching, optimizer, chain, tree, group, vine);
    }

    public AlgorithmConfig withBatching(Batching b) {
        return new AlgorithmConfig(algorithm, loss, sampling, b, optimizer, chain, tree, group, vine);
    }

    public AlgorithmConfig withOptimizer(Optimizer o) {
        return new AlgorithmConfig(algorithm, loss, sampling, batching, o, chain, tree, group, vine);
    }

    public AlgorithmConfig withChain(ChainSettings c) {
        return new AlgorithmConfig(algorithm, loss, sampling, batching, optimizer, c, tree, group, vine);
    }

    public AlgorithmConfig withTree(TreeSettings t) {
        return new AlgorithmConfig(algorithm, loss, sampling, batching, optimizer, chain, t, group, vine);
    }

    public AlgorithmConfig withGroup(GroupSettings g) {
        return new AlgorithmConfig(algorithm, loss, sampling, batching, optimizer, chain, tree, g, vine);
    }

    public AlgorithmConfig withVine(VinePpoConfig v) {
        return new AlgorithmConfig(algorithm, loss, sampling, batching, optimizer, chain, tree, group, v);
    }

    private static void requireExactly(boolean applies, Object settings, String name, Algorithm algorithm) {
        if (applies) SpoArguments.require(settings != null, name + " settings are required for " + algorithm);
        else SpoArguments.require(settings == null, name + " settings do not apply to " + algorithm);
    }
}
