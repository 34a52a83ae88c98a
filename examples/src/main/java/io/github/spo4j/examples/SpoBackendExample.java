package io.github.spo4j.examples;

import io.github.spo4j.kernels.loss.LogitsBatch;
import io.github.spo4j.kernels.loss.PolicyLoss;
import io.github.spo4j.kernels.loss.PolicyLossConfig;
import io.github.spo4j.kernels.loss.PolicyLossStats;
import io.github.spo4j.kernels.tree.Forest;
import io.github.spo4j.kernels.tree.ForestBuilder;
import io.github.spo4j.kernels.tree.TreeBackup;
import io.github.spo4j.kernels.tree.TreeBackupConfig;
import io.github.spo4j.kernels.tree.TreeBackupResult;
import io.github.spo4j.spo.advantage.ChainAdvantageConfig;
import io.github.spo4j.spo.advantage.ChainAdvantages;
import io.github.spo4j.spo.advantage.SegmentAdvantageBatch;
import io.github.spo4j.spo.advantage.ValueEstimator;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.CutpointPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * An RL loop that is not spo4j's: its own task ({@link CountingTask}), its own policy and sampling
 * ({@link TabularPolicy}), its own optimizer. spo4j is the backend for the three things SPO adds:
 * <ul>
 *   <li><b>segment advantages</b>: {@link ChainAdvantages} cuts each response at its low-probability tokens
 *       ({@link CutpointPartition}) and asks this loop's own Monte-Carlo rollouts ({@link ValueEstimator}) for the
 *       value of every segment boundary (SPO-chain);
 *   <li><b>the tree backup</b>: trees of segments sampled by this loop go to {@link TreeBackup} as one
 *       {@link Forest}, which values every node from its leaves and gives each segment one advantage (SPO-tree);
 *   <li><b>the fused policy loss</b>: {@link PolicyLoss}'s logits entry turns the policy's logits, the sampled
 *       tokens, their log-probs at sampling time and the advantages into the clipped, whitened, probability-masked
 *       loss and its gradient over the logits, which the policy's Adam step consumes.
 * </ul>
 * It trains the uniform policy once with each kind of credit and exits with status 1 unless both raise the mean
 * sampled reward by at least {@link #MIN_GAIN}.
 */
public final class SpoBackendExample {
    static final int ITERATIONS = 40;
    static final int PROMPTS_PER_ITERATION = 8;
    static final int CHAIN_SAMPLES = 8; // responses per prompt for SPO-chain
    static final int ROLLOUTS = 4; // Monte-Carlo rollouts per segment boundary
    static final int[] BRANCHING = {3, 3, 3};
    static final int SEGMENT_TOKENS = 2; // tree segments; the last level runs to the end of the response
    static final int EPOCHS = 2; // loss steps per batch (the second is off-policy: the ratio clips)
    static final double LEARNING_RATE = 0.1;
    static final double MIN_GAIN = 0.3;

    private static final int V = CountingTask.VOCAB, L = CountingTask.LENGTH;

    /** SPO's loss without the KL term: this loop keeps no reference policy. */
    private final PolicyLossConfig lossConfig =
            PolicyLossConfig.spo().toBuilder().beta(0f).build();

    private final PolicyLoss loss = PolicyLoss.create();
    private final TreeBackup treeBackup = TreeBackup.create();
    private final SplittableRandom rng;
    private long generatedTokens;

    /** A training sequence: response tokens after the prompt and {@code prefix}, with one advantage per token. */
    record Sample(int prompt, int[] prefix, int[] tokens, float[] oldLogp, float[] advantages) {}

    SpoBackendExample(long seed) {
        rng = new SplittableRandom(seed);
    }

    public static void main(String[] args) {
        System.out.println("spo4j backends: policy loss " + PolicyLoss.create().backend() + ", tree backup "
                + TreeBackup.create().backend());
        double chainGain = run("SPO-chain", true);
        double treeGain = run("SPO-tree", false);
        if (chainGain < MIN_GAIN || treeGain < MIN_GAIN) {
            System.err.printf(
                    Locale.ROOT,
                    "FAILED: mean reward gains %.3f (chain) and %.3f (tree); each must be" + " >= %.2f%n",
                    chainGain,
                    treeGain,
                    MIN_GAIN);
            System.exit(1);
        }
        System.out.println("OK: both loops learned with spo4j as their backend");
    }

    /** Trains a fresh policy; returns the gain in mean sampled reward. */
    static double run(String name, boolean chain) {
        long start = System.nanoTime();
        TabularPolicy policy = new TabularPolicy(LEARNING_RATE);
        SpoBackendExample loop = new SpoBackendExample(42);
        double before = meanReward(policy, false), greedyBefore = meanReward(policy, true);
        for (int it = 0; it < ITERATIONS; it++) {
            List<Sample> batch = chain ? loop.chainBatch(policy) : loop.treeBatch(policy);
            loop.update(policy, batch);
        }
        double after = meanReward(policy, false), greedyAfter = meanReward(policy, true);
        System.out.printf(
                Locale.ROOT,
                "%-9s mean reward %.3f -> %.3f (greedy %.3f -> %.3f), %d iterations, %d" + " generated tokens, %d ms%n",
                name,
                before,
                after,
                greedyBefore,
                greedyAfter,
                ITERATIONS,
                loop.generatedTokens,
                (System.nanoTime() - start) / 1_000_000);
        return after - before;
    }

    // ---- SPO-chain: responses, cut at cutpoints, valued by this loop's rollouts -------------------------------

    List<Sample> chainBatch(TabularPolicy policy) {
        List<Trajectory> trajectories = new ArrayList<>();
        for (int q = 0; q < PROMPTS_PER_ITERATION; q++) {
            int prompt = rng.nextInt(V);
            for (int g = 0; g < CHAIN_SAMPLES; g++) {
                TabularPolicy.Piece r = sample(policy, prompt, new int[0], L);
                // The question id is the prompt digit: rollouts from a state are scored against it.
                trajectories.add(new Trajectory(
                        prompt,
                        new int[] {prompt},
                        r.tokens(),
                        r.logp(),
                        CountingTask.reward(prompt, r.tokens()),
                        FinishReason.EOS));
            }
        }
        // README begin
        ValueEstimator rollouts = (states, n) -> { // V̂ of each boundary state: n rollouts of our own policy
            double[] values = new double[states.size()];
            for (int s = 0; s < values.length; s++) values[s] = monteCarloValue(policy, states.get(s), n);
            return values;
        };
        ChainAdvantages credit = new ChainAdvantages(
                new CutpointPartition(CutpointPartition.DEFAULT_RHO, 2),
                rollouts,
                ChainAdvantageConfig.defaults().withRollouts(ROLLOUTS));
        SegmentAdvantageBatch advantages = credit.compute(trajectories); // tokenAdvantages() per trajectory
        // README end
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < trajectories.size(); i++) {
            Trajectory t = trajectories.get(i);
            samples.add(new Sample(
                    t.promptIds()[0],
                    new int[0],
                    t.responseIds(),
                    t.oldLogp(),
                    advantages.get(i).tokenAdvantages()));
        }
        return samples;
    }

    /** V̂(state): the mean reward of n continuations sampled from it. */
    private double monteCarloValue(TabularPolicy policy, StatePrefix state, int n) {
        int prompt = state.promptIds()[0];
        int[] prefix = state.responsePrefixIds();
        double sum = 0;
        for (int k = 0; k < n; k++) {
            sum += CountingTask.reward(
                    prompt, concat(prefix, sample(policy, prompt, prefix, L).tokens()));
        }
        return sum / n;
    }

    // ---- SPO-tree: trees of segments, backed up by spo4j's kernel --------------------------------------------

    private record TreeSegment(int handle, int prompt, int[] prefix, TabularPolicy.Piece piece) {}

    List<Sample> treeBatch(TabularPolicy policy) {
        ForestBuilder forest = Forest.builder();
        List<TreeSegment> segments = new ArrayList<>();
        for (int q = 0; q < PROMPTS_PER_ITERATION; q++) {
            int prompt = rng.nextInt(V);
            grow(policy, forest, segments, forest.addRoot(), prompt, new int[0], 0);
        }
        // README begin
        TreeBackupResult backup = treeBackup.backup(TreeBackupConfig.spoTree(), forest.build());
        List<Sample> samples = new ArrayList<>();
        for (TreeSegment s : segments) { // every sampled segment, as grow() added it
            float a = backup.advantage()[forest.indexOf(s.handle())];
            if (a == 0f) continue; // as SPO-tree: an edge that changes no value is dropped
            float[] advantages = new float[s.piece().tokens().length];
            Arrays.fill(advantages, a); // one advantage for the segment's tokens
            samples.add(new Sample(
                    s.prompt(), s.prefix(), s.piece().tokens(), s.piece().logp(), advantages));
        }
        // README end
        return samples;
    }

    /** Samples the children of {@code parent} (whose path is {@code prefix}) at {@code depth}, and theirs. */
    private void grow(
            TabularPolicy policy,
            ForestBuilder forest,
            List<TreeSegment> segments,
            int parent,
            int prompt,
            int[] prefix,
            int depth) {
        boolean last = depth == BRANCHING.length - 1;
        for (int b = 0; b < BRANCHING[depth]; b++) {
            TabularPolicy.Piece piece = sample(policy, prompt, prefix, last ? L : prefix.length + SEGMENT_TOKENS);
            int[] path = concat(prefix, piece.tokens());
            int node =
                    last ? forest.addLeaf(parent, (float) CountingTask.reward(prompt, path)) : forest.addChild(parent);
            segments.add(new TreeSegment(node, prompt, prefix, piece));
            if (!last) grow(policy, forest, segments, node, prompt, path, depth + 1);
        }
    }

    // ---- the update: spo4j's fused loss gives d loss / d logits ----------------------------------------------

    void update(TabularPolicy policy, List<Sample> samples) {
        if (samples.isEmpty()) return;
        int[] seqOffsets = new int[samples.size() + 1];
        for (int i = 0; i < samples.size(); i++)
            seqOffsets[i + 1] = seqOffsets[i] + samples.get(i).tokens().length;
        int n = seqOffsets[samples.size()];
        int[] targets = new int[n], states = new int[n];
        float[] oldLogp = new float[n], advantages = new float[n];
        for (int i = 0, k = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            int prev = s.prefix().length == 0 ? s.prompt() : s.prefix()[s.prefix().length - 1];
            for (int j = 0; j < s.tokens().length; j++, k++) {
                states[k] = TabularPolicy.state(prev, s.prefix().length + j);
                targets[k] = s.tokens()[j];
                oldLogp[k] = s.oldLogp()[j];
                advantages[k] = s.advantages()[j];
                prev = s.tokens()[j];
            }
        }
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
            float[] logits = new float[n * V];
            for (int k = 0; k < n; k++) {
                System.arraycopy(policy.row(states[k] % V, states[k] / V), 0, logits, k * V, V);
            }
            // README begin
            float[] gradLogits = new float[n * V]; // logits: [N, V], our policy's rows of the tokens
            PolicyLossStats stats = loss.logits(
                    lossConfig,
                    new LogitsBatch(seqOffsets, logits, V, targets, 1f, oldLogp, null, advantages, null),
                    gradLogits,
                    null,
                    null);
            if (stats.skipped()) return;
            float[][] byState = new float[TabularPolicy.STATES][]; // d loss / d logits, summed per table row
            for (int k = 0; k < n; k++) {
                if (byState[states[k]] == null) byState[states[k]] = new float[V];
                for (int t = 0; t < V; t++) byState[states[k]][t] += gradLogits[k * V + t];
            }
            policy.step(byState); // our own Adam
            // README end
        }
    }

    // ---- evaluation and helpers ------------------------------------------------------------------------------

    /** Mean reward of 40 responses to each prompt digit (greedy: one each), with a fixed seed. */
    static double meanReward(TabularPolicy policy, boolean greedy) {
        SplittableRandom eval = new SplittableRandom(7);
        int perPrompt = greedy ? 1 : 40;
        double sum = 0;
        for (int prompt = 0; prompt < V; prompt++) {
            for (int k = 0; k < perPrompt; k++) {
                sum += CountingTask.reward(
                        prompt,
                        policy.sample(prompt, new int[0], L, greedy, eval).tokens());
            }
        }
        return sum / (V * perPrompt);
    }

    private TabularPolicy.Piece sample(TabularPolicy policy, int prompt, int[] prefix, int to) {
        generatedTokens += to - prefix.length;
        return policy.sample(prompt, prefix, to, false, rng);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
