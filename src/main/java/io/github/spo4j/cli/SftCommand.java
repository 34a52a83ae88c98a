package io.github.spo4j.cli;

import io.github.spo4j.model.Policy;
import io.github.spo4j.report.Progress;
import io.github.spo4j.train.Evaluator;
import io.github.spo4j.train.RunLock;
import io.github.spo4j.train.Sft;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spo4j sft}: the supervised warm start, saved as a model directory. */
@Command(
        name = "sft",
        mixinStandardHelpOptions = true,
        description = "Supervised warm start: trains a policy on the task's worked solutions and saves it as a model "
                + "directory (config.json, model.safetensors, tokenizer).")
public final class SftCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TaskOptions taskOptions;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Model directory to write.")
    Path out;

    @Option(
            names = "--model",
            paramLabel = "DIR",
            description = "Start from this model directory (Hugging Face or spo4j) instead of the built-in model.")
    Path model;

    @Option(names = "--steps", defaultValue = "700", description = "Optimizer steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "32", description = "Problems per step (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-3", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initialization and batches.")
    long seed;

    @Option(names = "--quiet", description = "No progress bars.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        return Commands.run(spec.commandLine().getErr(), () -> {
            Progress.setEnabled(!quiet);
            TrainingTask task = taskOptions.task(model == null ? null : Workspace.loadTokenizer(model));
            try (RunLock lock = RunLock.acquire(out, "spo4j sft");
                    Policy policy = model == null ? taskOptions.randomPolicy(task, seed) : Policy.load(model)) {
                double loss = train(policy, task, new Sft.Config(steps, batch, lr, 0.05, seed));
                Workspace.saveModel(out, policy, task.tokenizer());
                Evaluator.Result r = Evaluator.evaluate(policy, task, task.test(), 128, 0, 1f, seed, 512, 16, 16384);
                spec.commandLine()
                        .getOut()
                        .printf(
                                "sft: %d steps, final loss %.4f, greedy test accuracy %.1f%% "
                                        + "(%d problems); saved to %s%n",
                                steps, loss, 100 * r.greedyAccuracy(), r.problems(), out);
            }
            return 0;
        });
    }

    /** SFT with a progress bar. */
    static double train(Policy policy, TrainingTask task, Sft.Config config) {
        try (Progress p = Progress.start("sft", config.steps(), "steps")) {
            return Sft.train(policy, task, config, (step, loss) -> {
                p.stepTo(step + 1);
                if (step % 20 == 0) p.setExtra(String.format("loss %.3f", loss));
            });
        }
    }
}
