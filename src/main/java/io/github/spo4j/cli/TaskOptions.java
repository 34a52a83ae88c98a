package io.github.spo4j.cli;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.Tokenizer;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.train.TrainingTask;
import io.github.spo4j.train.Workspace;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The task and model options shared by {@code sft}, {@code train}, {@code eval} and {@code compare}. */
final class TaskOptions {
    @Option(
            names = "--train",
            paramLabel = "FILE",
            description = "Training problems: GSM8K jsonl (question, answer with #### final) or MATH jsonl (problem, "
                    + "solution with \\boxed{}). Default: the built-in arithmetic task.")
    Path train;

    @Option(names = "--test", paramLabel = "FILE", description = "Test problems, same form as --train.")
    Path test;

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
            description = "Built-in task: fewest operations per problem (default ${DEFAULT-VALUE}).")
    int minOps;

    @Option(
            names = "--max-ops",
            defaultValue = "3",
            description = "Built-in task: most operations per problem (default ${DEFAULT-VALUE}).")
    int maxOps;

    @Option(
            names = "--max-operand",
            defaultValue = "9",
            description = "Built-in task: largest operand (default ${DEFAULT-VALUE}).")
    int maxOperand;

    @Option(
            names = "--max-value",
            defaultValue = "99",
            description = "Built-in task: largest intermediate result (default ${DEFAULT-VALUE}).")
    int maxValue;

    @Option(
            names = "--ops",
            defaultValue = "+-*",
            description = "Built-in task: operations used (default ${DEFAULT-VALUE}).")
    String ops;

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
        if (builtIn()) {
            return Workspace.builtIn(
                    new ArithmeticTask.Difficulty(minOps, maxOps, maxOperand, maxValue, ops),
                    trainSize,
                    testSize,
                    tokenizer);
        }
        return Workspace.fromFiles(train, test, tokenizer);
    }

    /** A freshly initialized built-in policy for the task's tokenizer. */
    Policy randomPolicy(TrainingTask task, long seed) {
        ModelConfig config = Workspace.builtInModel(task.tokenizer().vocabSize(), hidden, layers);
        return Policy.random(config, seed);
    }

    /** The settings that define the task, for reports. */
    String describe() {
        if (!builtIn()) return "train " + train + ", test " + test;
        return "built-in arithmetic: " + minOps + "-" + maxOps + " operations (" + ops + "), operands <= " + maxOperand
                + ", values <= " + maxValue + ", " + trainSize + " train / " + testSize + " test problems";
    }
}
