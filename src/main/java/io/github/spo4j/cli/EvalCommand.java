package io.github.spo4j.cli;

import io.github.spo4j.model.Policy;
import io.github.spo4j.tasks.Problem;
import io.github.spo4j.train.Evaluator;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code spo4j eval}: test accuracy of a model directory. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Test accuracy of a model directory: greedy pass@1, and the mean accuracy over k samples.")
public final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    TaskOptions taskOptions;

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory.")
    Path model;

    @Option(names = "--samples", defaultValue = "0", description = "k samples per problem (0: greedy only).")
    int samples;

    @Option(
            names = "--temperature",
            defaultValue = "0.35",
            description = "Temperature of the k samples (default ${DEFAULT-VALUE}, SPO's GSM8K evaluation).")
    float temperature;

    @Option(names = "--problems", defaultValue = "0", description = "Evaluate the first N test problems (0: all).")
    int problems;

    @Mixin
    ResponseLimitOption responseLimit;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the samples.")
    long seed;

    @Override
    public Integer call() throws Exception {
        return Commands.run(spec.commandLine().getErr(), () -> {
            responseLimit.check();
            TrainingTask task = taskOptions.task(Workspace.loadTokenizer(model));
            int limit = responseLimit.resolve(task);
            List<Problem> test = task.test();
            if (problems > 0 && problems < test.size()) test = test.subList(0, problems);
            try (Policy policy = Policy.load(model, deviceOptions.resolve())) {
                Evaluator.Result r =
                        Evaluator.evaluate(policy, task, test, limit, samples, temperature, seed, 512, 16, 16384);
                spec.commandLine()
                        .getOut()
                        .printf(
                                "%s on %d problems: greedy pass@1 %.1f%%%s%n",
                                model,
                                r.problems(),
                                100 * r.greedyAccuracy(),
                                samples == 0
                                        ? ""
                                        : String.format(
                                                ", mean accuracy over %d samples at T=%.2f %.1f%%",
                                                samples, temperature, 100 * r.sampledAccuracy()));
            }
            return 0;
        });
    }
}
