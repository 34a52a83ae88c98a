package io.github.spo4j.cli;

import io.github.spo4j.model.Policy;
import io.github.spo4j.report.EvalPoint;
import io.github.spo4j.report.Progress;
import io.github.spo4j.train.TrainConfig;
import io.github.spo4j.train.Trainer;
import io.github.spo4j.train.TrainingRun;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.distributed.Collective;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs one training run with a progress bar, fresh or resumed, and returns its evaluations as metrics. */
final class Runs {
    private Runs() {}

    /** Writes a run's outputs while the run still holds its directory. */
    @FunctionalInterface
    interface Outputs {
        void write(List<EvalPoint> points) throws IOException;
    }

    static List<EvalPoint> run(
            String label, TrainingTask task, Policy base, TrainConfig config, Path dir, boolean resume)
            throws IOException {
        return run(label, task, base, config, dir, resume, Collective.single(), points -> {});
    }

    /** {@link #run}, then {@code outputs} before the run's directory lock is released. */
    static List<EvalPoint> run(
            String label,
            TrainingTask task,
            Policy base,
            TrainConfig config,
            Path dir,
            boolean resume,
            Collective world,
            Outputs outputs)
            throws IOException {
        // Rank 0's directory decides whether the ranks resume or start, so they all take the same path.
        boolean resuming =
                world.broadcast(new byte[] {(byte) (resume && TrainingRun.hasCheckpoint(dir) ? 1 : 0)})[0] == 1;
        long budget = config.run().tokenBudget();
        int iterations = config.algorithm().optimizer().iterations();
        try (TrainingRun run = resuming
                        ? TrainingRun.resume(dir, task, base, config, world)
                        : TrainingRun.start(dir, task, base, config, world);
                Progress progress = progress(
                        label,
                        budget > 0 ? budget : iterations,
                        budget > 0 ? "tokens" : "it",
                        budget > 0
                                ? Math.min(budget, run.trainer().generatedTokens())
                                : Math.min(iterations, run.trainer().iteration()),
                        world.rank() == 0)) {
            String[] accuracy = {""};
            run.run(new TrainingRun.Listener() {
                @Override
                public void iteration(Trainer.IterationStats s) {
                    progress.stepTo(budget > 0 ? Math.min(budget, s.generatedTokens()) : s.iteration() + 1);
                    progress.setExtra(
                            String.format("it %d, reward %.2f%s", s.iteration() + 1, s.meanReward(), accuracy[0]));
                }

                @Override
                public void evaluation(TrainingRun.Evaluation e) {
                    accuracy[0] = String.format(", test %.1f%%", 100 * e.greedyAccuracy());
                }
            });
            if (budget > 0) progress.stepTo(budget);
            String algorithm = TrainConfig.nameOf(config.algorithm().algorithm());
            List<EvalPoint> out = new ArrayList<>();
            for (TrainingRun.Evaluation e : run.evaluations()) {
                out.add(new EvalPoint(
                        algorithm,
                        config.run().seed(),
                        e.iteration(),
                        e.generatedTokens(),
                        e.wallSeconds(),
                        e.greedyAccuracy(),
                        e.sampledAccuracy(),
                        e.trainReward(),
                        e.episodes(),
                        e.optimizerSteps()));
            }
            outputs.write(out);
            return out;
        }
    }

    private static Progress progress(String label, long total, String unit, long done, boolean shown) {
        return shown ? Progress.resume(label, total, unit, done) : Progress.hidden(label, total, unit, done);
    }
}
