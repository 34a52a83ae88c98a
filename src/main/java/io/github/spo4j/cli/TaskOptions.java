package io.github.spo4j.cli;

import io.github.spo4j.model.Device;
import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.ChainTask;
import io.github.spo4j.train.Sft;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** The task and model options shared by {@code sft}, {@code train}, {@code eval} and {@code compare}. */
final class TaskOptions {
    @Option(
            names = "--train",
            paramLabel = "FILE",
            description = "Training problems: GSM8K jsonl (question, answer with #### final) or MATH jsonl (problem, "
                    + "solution with \\boxed{}). Default: a built-in task (--task).")
    Path train;

    @Option(names = "--test", paramLabel = "FILE", description = "Test problems, same form as --train.")
    Path test;

    /** The built-in task families. */
    enum BuiltInTask {
        arithmetic,
        chain
    }

    @Option(
            names = "--task",
            paramLabel = "arithmetic|chain",
            defaultValue = "chain",
            description = "Built-in task: arithmetic (--min-ops .. --max-ops operations on numbers up to "
                    + "--max-value) or chain (--decisions operations modulo --modulus, one digit decided per line; "
                    + "default ${DEFAULT-VALUE}).")
    BuiltInTask builtInTask;

    @Option(
            names = "--decisions",
            defaultValue = "12",
            description = "Chain task: operations per problem, one decision each (default ${DEFAULT-VALUE}).")
    int decisions;

    @Option(
            names = "--modulus",
            defaultValue = "10",
            description = "Chain task: the base of its arithmetic, 3 to 36; values above 9 are written a-z, one "
                    + "character each (default ${DEFAULT-VALUE}).")
    int modulus;

    @Option(
            names = "--train-size",
            defaultValue = "20000",
            description = "Built-in task: training problems (default ${DEFAULT-VALUE}).")
    int trainSize;

    @Option(
            names = "--test-size",
            defaultValue = "400",
            description = "Built-in task: test problems (default ${DEFAULT-VALUE}).")
    int testSize;

    @Option(
            names = "--min-ops",
            defaultValue = "2",
            description = "Arithmetic task: fewest operations per problem (default ${DEFAULT-VALUE}).")
    int minOps;

    @Option(
            names = "--max-ops",
            defaultValue = "3",
            description = "Arithmetic task: most operations per problem (default ${DEFAULT-VALUE}).")
    int maxOps;

    @Option(
            names = "--max-operand",
            defaultValue = "9",
            description = "Arithmetic task: largest operand (default ${DEFAULT-VALUE}).")
    int maxOperand;

    @Option(
            names = "--max-value",
            defaultValue = "99",
            description = "Arithmetic task: largest intermediate result (default ${DEFAULT-VALUE}).")
    int maxValue;

    @Option(
            names = "--ops",
            defaultValue = "+-*",
            description = "Built-in task: operations used (default ${DEFAULT-VALUE}).")
    String ops;

    @Option(
            names = "--validation",
            paramLabel = "N",
            defaultValue = "0",
            description = "Hold the last N training problems out and evaluate on them instead of the test set, "
                    + "whose problems are then not evaluated (for tuning; default ${DEFAULT-VALUE}: the test set).")
    int validation;

    @Option(names = "--hidden", defaultValue = "64", description = "Built-in model width (default ${DEFAULT-VALUE}).")
    int hidden;

    @Option(names = "--layers", defaultValue = "2", description = "Built-in model depth (default ${DEFAULT-VALUE}).")
    int layers;

    boolean builtIn() {
        return train == null;
    }

    void check() {
        if ((train == null) != (test == null)) throw new IllegalArgumentException("--train and --test go together");
    }

    /** The task, tokenized by {@code tokenizer} (a model directory's), or by a tokenizer derived from the data. */
    TrainingTask task(Tokenizer tokenizer) throws IOException {
        check();
        if (validation < 0) throw new IllegalArgumentException("--validation must be >= 0, got " + validation);
        TrainingTask task = taskWithTest(tokenizer);
        if (validation == 0) return task;
        try {
            return task.holdOut(validation);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--validation: " + e.getMessage(), e);
        }
    }

    private TrainingTask taskWithTest(Tokenizer tokenizer) throws IOException {
        if (builtIn()) {
            return switch (builtInTask) {
                case arithmetic ->
                    Workspace.builtIn(
                            new ArithmeticTask.Difficulty(minOps, maxOps, maxOperand, maxValue, ops),
                            trainSize,
                            testSize,
                            tokenizer);
                case chain -> Workspace.builtIn(chainDifficulty(), trainSize, testSize, tokenizer);
            };
        }
        return Workspace.fromFiles(train, test, tokenizer);
    }

    /** The chain task's difficulty; a bad value's message names its option (the record names its field). */
    private ChainTask.Difficulty chainDifficulty() {
        try {
            return new ChainTask.Difficulty(decisions, modulus, ops);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            for (var option : Map.of("decisions", "--decisions", "modulus", "--modulus", "operations", "--ops")
                    .entrySet()) {
                if (message.startsWith(option.getKey() + " ")) {
                    throw new IllegalArgumentException(
                            option.getValue()
                                    + message.substring(option.getKey().length()),
                            e);
                }
            }
            throw e;
        }
    }

    /**
     * The SFT targets for a slip rate given by {@code option}: the worked solutions at 0, the chain task's slipped
     * solutions ({@link ChainTask#slippedSolution}) above it.
     */
    /**
     * The slip rate of the default regime's base. A base SFT'd on chains slipped at 0.3 is unsure of many lines (9-10
     * tokens below p 0.9 per 79-token response at 12 decisions), the regime SPO's argument is about: outcome credit
     * tracks the many-rollout reference worse there (GRPO's correlation 0.23-0.30 on the default base, 0.48 on the
     * worked solutions' base) and the most any credit could buy per episode, GRPO's gradient noise scale over the
     * reference's, is about 2 (1.1-1.2 on bases unsure of one or two lines; docs/compare/chain/gradient-noise).
     */
    static final double DEFAULT_CHAIN_SLIPS = 0.3;

    /** The SFT slip rate when none is given: {@link #DEFAULT_CHAIN_SLIPS} for the built-in chain task, else 0. */
    double defaultSlips() {
        return builtIn() && builtInTask == BuiltInTask.chain ? DEFAULT_CHAIN_SLIPS : 0;
    }

    Sft.Targets sftTargets(double slips, String option) {
        if (!(slips >= 0 && slips < 1)) throw new IllegalArgumentException(option + " must be in [0, 1), got " + slips);
        if (slips == 0) return Sft.Targets.WORKED;
        if (!builtIn() || builtInTask != BuiltInTask.chain) {
            throw new IllegalArgumentException(option + " applies to the built-in chain task only (--task chain, no "
                    + "--train); got " + (builtIn() ? "--task " + builtInTask : "--train " + train));
        }
        ChainTask chain = new ChainTask(chainDifficulty());
        return (problem, rng) -> chain.slippedSolution(problem, slips, rng);
    }

    /** A freshly initialized built-in policy for the task's tokenizer, on {@code device}. */
    Policy randomPolicy(TrainingTask task, long seed, Device device) {
        ModelConfig config = Workspace.builtInModel(task.tokenizer().vocabSize(), hidden, layers);
        return Policy.random(config, seed, device);
    }

    /** The settings that define the task, for reports. */
    String describe() {
        String evaluated =
                validation > 0 ? ", evaluated on the last " + validation + " training problems held out" : "";
        return describeData() + evaluated;
    }

    private String describeData() {
        if (!builtIn()) return "train " + train + ", test " + test;
        if (builtInTask == BuiltInTask.chain) {
            return "built-in chain: " + decisions + " operations (" + ops + ") modulo " + modulus + ", " + trainSize
                    + " train / " + testSize + " test problems";
        }
        return "built-in arithmetic: " + minOps + "-" + maxOps + " operations (" + ops + "), operands <= " + maxOperand
                + ", values <= " + maxValue + ", " + trainSize + " train / " + testSize + " test problems";
    }
}
