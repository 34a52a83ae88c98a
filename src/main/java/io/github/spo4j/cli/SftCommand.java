package io.github.spo4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.io.AtomicFiles;
import io.github.spo4j.report.Progress;
import io.github.spo4j.train.Evaluator;
import io.github.spo4j.train.RunLock;
import io.github.spo4j.train.Sft;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.nio.charset.StandardCharsets;
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

    @Mixin
    DeviceOptions deviceOptions;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Model directory to write.")
    Path out;

    @Option(
            names = "--model",
            paramLabel = "DIR",
            description = "Start from this model directory (Hugging Face or spo4j) instead of the built-in model.")
    Path model;

    @Option(
            names = "--steps",
            defaultValue = "3000",
            description = "Optimizer steps; with --until, the most (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(
            names = "--until",
            paramLabel = "ACC",
            defaultValue = "0.4",
            description = "Stop at the first check (every --check-every steps) where greedy pass@1 on 128 training "
                    + "questions reaches ACC (0 to 1); the learning-rate schedule still spans --steps; 0 runs every "
                    + "step (default ${DEFAULT-VALUE}).")
    double until;

    @Option(
            names = "--check-every",
            paramLabel = "STEPS",
            defaultValue = "" + Sft.Target.DEFAULT_CHECK_EVERY,
            description = "Steps between the --until checks; fewer land closer to the target where the model learns "
                    + "in a sharp transition, each check costing about a few steps (default ${DEFAULT-VALUE}).")
    int checkEvery;

    @Option(
            names = "--slips",
            paramLabel = "RATE",
            description = "Chain task: train on worked solutions where each line's result slips, with probability "
                    + "RATE, to a neighbouring value and the chain carries on from it, so that the model is about 1 - "
                    + "RATE sure of every line it has learned (0: the worked solutions; default 0.3 for the built-in "
                    + "chain task, as compare's base, 0 for every other task).")
    Double slips;

    /** The slip rate in effect: {@code --slips}, else the task's default. */
    double slips() {
        return slips != null ? slips : taskOptions.defaultSlips();
    }

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
            Sft.Target target = target(until, "--until", checkEvery, "--check-every");
            Sft.Targets targets = taskOptions.sftTargets(slips(), "--slips");
            TrainingTask task = taskOptions.task(model == null ? null : Workspace.loadTokenizer(model));
            try (RunLock lock = RunLock.acquire(out, "spo4j sft");
                    Policy policy = model == null
                            ? taskOptions.randomPolicy(task, seed, deviceOptions.resolve())
                            : Policy.load(model, deviceOptions.resolve())) {
                Sft.Result sft = train(policy, task, new Sft.Config(steps, batch, lr, 0.05, seed), target, targets);
                Workspace.saveModel(out, policy, task.tokenizer());
                AtomicFiles.write(
                        out.resolve(OUTCOME), outcome(sft, target).toString().getBytes(StandardCharsets.UTF_8));
                Evaluator.Result r = Evaluator.evaluate(
                        policy, task, task.test(), task.fittingResponseLimit(), 0, 1f, seed, 512, 16, 16384);
                spec.commandLine()
                        .getOut()
                        .printf(
                                "sft: %d steps%s, final loss %.4f, greedy test accuracy %.1f%% (%d problems); saved "
                                        + "to %s%n",
                                sft.steps(),
                                describeStop(sft, target),
                                sft.tailLoss(),
                                100 * r.greedyAccuracy(),
                                r.problems(),
                                out);
            }
            return 0;
        });
    }

    /** Beside the weights: the steps SFT took, a one-line summary and, with a target, every check. */
    static final String OUTCOME = "sft.json";

    /** What {@link #OUTCOME} holds. */
    static JsonObject outcome(Sft.Result sft, Sft.Target target) {
        JsonObject outcome = new JsonObject();
        outcome.addProperty("steps", sft.steps());
        outcome.addProperty("summary", sft.steps() + " steps" + describeStop(sft, target));
        if (target != null) {
            outcome.addProperty("until", target.greedyAccuracy());
            outcome.addProperty("reached", sft.reached());
            JsonArray checks = new JsonArray();
            for (Sft.Check c : sft.checks()) {
                JsonObject check = new JsonObject();
                check.addProperty("step", c.step());
                check.addProperty("greedyAccuracy", c.greedyAccuracy());
                checks.add(check);
            }
            outcome.add("checks", checks);
        }
        return outcome;
    }

    /**
     * The early stop an {@code option} of value {@code until}, checked every {@code checkEvery} steps (given by
     * {@code checkOption}), asks for; null for 0 (every step).
     */
    static Sft.Target target(double until, String option, int checkEvery, String checkOption) {
        if (!(until >= 0 && until <= 1))
            throw new IllegalArgumentException(option + " must be in [0, 1], got " + until);
        if (checkEvery < 1) throw new IllegalArgumentException(checkOption + " must be >= 1, got " + checkEvery);
        return until == 0 ? null : new Sft.Target(until, checkEvery, Sft.Target.DEFAULT_QUESTIONS);
    }

    /** How a run with a target ended, for its summary line; empty without one. */
    static String describeStop(Sft.Result sft, Sft.Target target) {
        if (target == null) return "";
        Sft.Check last = sft.checks().get(sft.checks().size() - 1);
        return String.format(
                " (%s greedy pass@1 %.1f%% on %d training questions; target %.0f%%)",
                sft.reached() ? "stopped at" : "did not reach the target:",
                100 * last.greedyAccuracy(),
                target.questions(),
                100 * target.greedyAccuracy());
    }

    /** SFT of {@code targets} with a progress bar; {@code target} (null for none) may stop it early. */
    static Sft.Result train(
            Policy policy, TrainingTask task, Sft.Config config, Sft.Target target, Sft.Targets targets) {
        try (Progress p = Progress.start("sft", config.steps(), "steps")) {
            return Sft.train(
                    policy,
                    task,
                    config,
                    (step, loss) -> {
                        p.stepTo(step + 1);
                        if (step % 20 == 0) p.setExtra(String.format("loss %.3f", loss));
                    },
                    target,
                    targets);
        }
    }
}
