package io.github.spo4j.train;

import io.github.spo4j.model.Policy;
import io.github.spo4j.model.TargetBatch;
import io.github.spo4j.model.TrainingForward;
import io.github.spo4j.spo.AlgorithmConfig;
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

    /** Receives each step's loss. */
    @FunctionalInterface
    public interface Listener {
        void step(int step, double loss);
    }

    private Sft() {}

    /**
     * Trains {@code policy} in place.
     *
     * @return the mean loss of the last 10% of the steps
     */
    public static double train(Policy policy, TrainingTask task, Config config, Listener listener) {
        if (policy == null) throw new IllegalArgumentException("policy must not be null");
        if (task == null) throw new IllegalArgumentException("task must not be null");
        if (config == null) throw new IllegalArgumentException("config must not be null");
        Threads.training(policy);
        AlgorithmConfig.Optimizer schedule =
                new AlgorithmConfig.Optimizer(config.learningRate(), 0, 1.0, config.warmup(), config.steps());
        SplittableRandom rng = new SplittableRandom(Seeds.mix(config.seed(), Seeds.SFT));
        int tail = Math.max(1, config.steps() / 10);
        double tailLoss = 0;
        try (PolicyOptimizer optimizer = new PolicyOptimizer(policy, schedule)) {
            for (int step = 0; step < config.steps(); step++) {
                int[][] queries = new int[config.batchSize()][], responses = new int[config.batchSize()][];
                for (int i = 0; i < config.batchSize(); i++) {
                    var p = task.train().get(rng.nextInt(task.train().size()));
                    queries[i] = task.promptIds(p);
                    responses[i] = task.solutionIds(p);
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
                optimizer.step(1, (step + 0.5) / config.steps());
                if (step >= config.steps() - tail) tailLoss += loss / tail;
                if (listener != null) listener.step(step, loss);
            }
        }
        return tailLoss;
    }
}
