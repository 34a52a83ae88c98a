package io.github.spo4j.train;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.tasks.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;

/**
 * The supervised warm start: maximum likelihood of the task's worked solutions (and the EOS after them) given their
 * prompts, so that RL starts from a policy that solves some problems. Loss: the mean negative log-probability of the
 * solution tokens of a batch (T = 1); AdamW with linear warmup and decay, gradient clipping.
 */
public final class Sft {
    /**
     * @param steps        optimizer steps
     * @param batchSize    problems per step, drawn uniformly with replacement from the train set
     * @param learningRate peak learning rate
     * @param warmup       fraction of the steps spent warming up
     * @param seed         fixes the batches
     */
    public record Config(int steps, int batchSize, double learningRate, double warmup, long seed) {
        public Config {
            RunSettings.positive(steps, "steps");
            RunSettings.positive(batchSize, "batchSize");
            if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
                throw new IllegalArgumentException("learningRate must be finite and > 0, got " + learningRate);
            }
            if (!(warmup >= 0 && warmup < 1))
                throw new IllegalArgumentException("warmup must be in [0, 1), got " + warmup);
        }
    }

    /**
     * Where a step's supervised targets come from: a problem's worked solution ({@link #WORKED}), or a variant of it
     * drawn with {@code rng} (the chain task's slips, {@link io.github.spo4j.tasks.ChainTask#slippedSolution}).
     */
    @FunctionalInterface
    public interface Targets {
        Targets WORKED = (problem, rng) -> problem.solution();

        /** The solution text to fit for {@code problem} this time it is drawn. */
        String solution(Problem problem, SplittableRandom rng);
    }

    /** Receives each step's loss. */
    @FunctionalInterface
    public interface Listener {
        void step(int step, double loss);
    }

    private Sft() {}

    /**
     * Stops SFT at the first check where greedy pass@1 on training questions reaches {@code greedyAccuracy}: a base
     * caught just past the model's learning transition instead of one made by a fixed step count, whose accuracy at
     * a given step moves with the data order and the build (a sharp transition turns a few steps into tens of points).
     *
     * @param greedyAccuracy greedy pass@1 to reach, in (0, 1]
     * @param checkEvery     optimizer steps between checks
     * @param questions      training questions checked, spread evenly over the training set (never the test set)
     */
    public record Target(double greedyAccuracy, int checkEvery, int questions) {
        public Target {
            if (!(greedyAccuracy > 0 && greedyAccuracy <= 1)) {
                throw new IllegalArgumentException("greedyAccuracy must be in (0, 1], got " + greedyAccuracy);
            }
            RunSettings.positive(checkEvery, "checkEvery");
            RunSettings.positive(questions, "questions");
        }

        /**
         * Steps between checks by default. Small models learn the chain task in a sharp transition (at 12 decisions
         * greedy pass@1 went from 27% to 44% in 5 steps), so coarser checks overshoot a target below the top of it;
         * a check costs about as much as a step.
         */
        public static final int DEFAULT_CHECK_EVERY = 5;

        /** Questions checked by default: 128 put one standard error near 4 points at 50%. */
        public static final int DEFAULT_QUESTIONS = 128;

        /** {@code greedyAccuracy} checked every {@value #DEFAULT_CHECK_EVERY} steps on 128 training questions. */
        public static Target of(double greedyAccuracy) {
            return new Target(greedyAccuracy, DEFAULT_CHECK_EVERY, DEFAULT_QUESTIONS);
        }
    }

    /** One check of a {@link Target}: greedy pass@1 on its training questions after {@code step} steps. */
    public record Check(int step, double greedyAccuracy) {}

    /**
     * What an SFT run did.
     *
     * @param steps    optimizer steps taken (fewer than the config's when a target was reached)
     * @param tailLoss the mean loss of the last 10% of the config's steps, or of as many last steps taken
     * @param checks   the target's checks in order (empty without a target)
     * @param reached  whether the target was reached
     */
    public record Result(int steps, double tailLoss, List<Check> checks, boolean reached) {
        public Result {
            checks = List.copyOf(checks);
        }
    }

    /**
     * Trains {@code policy} in place.
     *
     * @return the mean loss of the last 10% of the steps
     */
    public static double train(Policy policy, TrainingTask task, Config config, Listener listener) {
        return train(policy, task, config, listener, null).tailLoss();
    }

    /**
     * Trains {@code policy} in place for the config's steps, or until {@code target} (null for none) is reached. The
     * learning-rate schedule spans the config's steps either way, so a run that stops early stops on the same
     * trajectory as one that does not.
     */
    public static Result train(Policy policy, TrainingTask task, Config config, Listener listener, Target target) {
        return train(policy, task, config, listener, target, Targets.WORKED);
    }

    /**
     * As {@link #train(Policy, TrainingTask, Config, Listener, Target)}, fitting the solutions {@code targets} draws.
     * Its draws come from a stream of their own, so the batches are those of the worked solutions' run.
     */
    public static Result train(
            Policy policy, TrainingTask task, Config config, Listener listener, Target target, Targets targets) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        if (targets == null) throw new IllegalArgumentException("targets must not be null");
        Threads.training(policy);
        AlgorithmConfig.Optimizer schedule =
                new AlgorithmConfig.Optimizer(config.learningRate(), 0, 1.0, config.warmup(), config.steps());
        SplittableRandom rng = new SplittableRandom(Seeds.mix(config.seed(), Seeds.SFT));
        SplittableRandom targetRng = new SplittableRandom(Seeds.mix(config.seed(), Seeds.SFT, Seeds.SFT_TARGETS));
        double[] tail = new double[Math.max(1, config.steps() / 10)];
        List<Check> checks = new ArrayList<>();
        boolean reached = false;
        int steps = 0;
        try (PolicyOptimizer optimizer = new PolicyOptimizer(policy, schedule);
                TargetCheck check = target == null ? null : new TargetCheck(policy, task, target)) {
            while (steps < config.steps() && !reached) {
                int[][] queries = new int[config.batchSize()][], responses = new int[config.batchSize()][];
                for (int i = 0; i < config.batchSize(); i++) {
                    var p = task.train().get(rng.nextInt(task.train().size()));
                    queries[i] = task.promptIds(p);
                    responses[i] = task.solutionIds(targets.solution(p, targetRng));
                }
                double loss;
                optimizer.zeroGrad();
                try (PointerScope scope = new PointerScope();
                        TrainingForward f = policy.forward(TargetBatch.ofPairs(queries, responses), 1f)) {
                    float[] logp = f.logpArray();
                    float[] grad = new float[logp.length];
                    double sum = 0;
                    for (int t = 0; t < logp.length; t++) {
                        sum -= logp[t];
                        grad[t] = -1f / logp.length;
                    }
                    loss = sum / logp.length;
                    f.backward(grad);
                }
                optimizer.step(1, (steps + 0.5) / config.steps());
                tail[steps % tail.length] = loss;
                if (listener != null) listener.step(steps, loss);
                steps++;
                if (check != null && steps % target.checkEvery() == 0 && steps < config.steps()) {
                    double accuracy = check.greedyAccuracy();
                    checks.add(new Check(steps, accuracy));
                    reached = accuracy >= target.greedyAccuracy();
                    Threads.training(policy);
                }
            }
            if (check != null && !reached) {
                double accuracy = check.greedyAccuracy();
                checks.add(new Check(steps, accuracy));
                reached = accuracy >= target.greedyAccuracy();
            }
        }
        int kept = Math.min(steps, tail.length);
        double tailLoss = 0;
        for (int i = 0; i < kept; i++) tailLoss += tail[i] / kept;
        return new Result(steps, tailLoss, checks, reached);
    }

    /** Greedy pass@1 of the policy on a target's training questions, over one KV pool kept for every check. */
    private static final class TargetCheck implements AutoCloseable {
        private static final int KV_BLOCK = 16;
        private final Policy policy;
        private final TrainingTask task;
        private final List<Problem> problems;
        private final int maxNewTokens;
        private final KvCache pool;

        TargetCheck(Policy policy, TrainingTask task, Target target) {
            this.policy = policy;
            this.task = task;
            this.problems = BaseCheck.spread(task.train(), target.questions());
            int longestSolution = 0, longestPrompt = 0;
            for (Problem p : problems) {
                longestSolution = Math.max(longestSolution, task.solutionIds(p).length);
                longestPrompt = Math.max(longestPrompt, task.promptIds(p).length);
            }
            this.maxNewTokens = (int) Math.ceil(1.25 * longestSolution);
            int blocksPerStream = (longestPrompt + maxNewTokens + KV_BLOCK - 1) / KV_BLOCK + 1;
            this.pool = policy.createKvCache(KV_BLOCK, problems.size() * blocksPerStream);
        }

        double greedyAccuracy() {
            return Evaluator.evaluate(policy, task, problems, maxNewTokens, 0, 1f, 0, problems.size(), pool)
                    .greedyAccuracy();
        }

        @Override
        public void close() {
            pool.close();
        }
    }
}
