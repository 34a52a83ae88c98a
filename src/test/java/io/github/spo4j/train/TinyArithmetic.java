package io.github.spo4j.train;

import io.github.spo4j.model.Policy;
import io.github.spo4j.tasks.AnswerFormat;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.Problem;
import java.util.List;

/**
 * The trainer tests' trivially learnable task, eight one-step problems, and its base: the built-in model (hidden 64,
 * 2 layers, seed 3) after 150 SFT steps on 2,000 such problems. Deterministic, so separate processes build the same.
 */
record TinyArithmetic(TrainingTask task, Policy base) implements AutoCloseable {
    /** The base's SFT task: 2,000 one- and two-step problems, its first 8 as the test set. */
    static TrainingTask sftTask() {
        ArithmeticTask gen = new ArithmeticTask(new ArithmeticTask.Difficulty(1, 2, 5, 30, "+-"));
        List<Problem> all = gen.generate(2000, 0, 1);
        return new TrainingTask(
                "sft",
                all,
                all.subList(0, 8),
                AnswerFormat.GSM8K,
                Workspace.charTokenizer(all, all, Workspace.BUILT_IN_PROMPT),
                Workspace.BUILT_IN_PROMPT);
    }

    static TinyArithmetic create() {
        TrainingTask sftTask = sftTask();
        List<Problem> all = sftTask.train();
        Policy base = Policy.random(Workspace.builtInModel(sftTask.tokenizer().vocabSize(), 64, 2), 3);
        Sft.train(base, sftTask, new Sft.Config(150, 32, 3e-3, 0.05, 0), null);
        List<Problem> small = all.subList(0, 8);
        return new TinyArithmetic(
                new TrainingTask(
                        "tiny", small, small, sftTask.format(), sftTask.tokenizer(), Workspace.BUILT_IN_PROMPT),
                base);
    }

    @Override
    public void close() {
        base.close();
    }
}
