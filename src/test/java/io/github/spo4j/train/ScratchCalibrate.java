package io.github.spo4j.train;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.tasks.AnswerFormat;
import io.github.spo4j.tasks.ArithmeticTask;
import io.github.spo4j.tasks.Problem;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ScratchCalibrate {
    @Test
    void run() {
        int steps = Integer.getInteger("sft.steps", 600);
        ArithmeticTask gen = new ArithmeticTask(new ArithmeticTask.Difficulty(
                Integer.getInteger("minSteps", 2), Integer.getInteger("maxSteps", 3), Integer.getInteger("maxOperand", 9),
                Integer.getInteger("maxValue", 99), System.getProperty("ops", "+-*")));
        List<Problem> train = gen.generate(Integer.getInteger("trainSize", 20000), 0, 1), test = gen.generate(200, 0, 2);
        TreeSet<Integer> cps = new TreeSet<>();
        for (Problem p : train) { (p.question() + "\n" + p.solution()).codePoints().forEach(cps::add); }
        StringBuilder a = new StringBuilder();
        for (int c : cps) a.appendCodePoint(c);
        CharTokenizer tok = new CharTokenizer(a.toString());
        TrainingTask task = new TrainingTask("arith", train, test, AnswerFormat.GSM8K, tok, "{question}\n");
        ModelConfig cfg = new ModelConfig(ModelConfig.Architecture.LLAMA, tok.vocabSize(), Integer.getInteger("hidden", 64),
                Integer.getInteger("hidden", 64) * 2, Integer.getInteger("layers", 2), 4, 2, Integer.getInteger("hidden", 64) / 4,
                1e-6, 10000.0, null, 256, true, false, 1, new int[] {2}, "float32");
        try (Policy p = Policy.random(cfg, 1)) {
            long t0 = System.nanoTime();
            for (int block = 0; block < Integer.getInteger("blocks", 4); block++) {
                Sft.train(p, task, new Sft.Config(steps, 32, Double.parseDouble(System.getProperty("sft.lr", "3e-3")), 0.05, block), null);
                double t = (System.nanoTime() - t0) / 1e9;
                Evaluator.Result r = Evaluator.evaluate(p, task, test, 64, 4, 0.6f, 0, 512, 16, 8192);
                System.out.printf("after %d sft steps (%.1fs): greedy %.3f sampled@0.6 %.3f%n", (block + 1) * steps, t, r.greedyAccuracy(), r.sampledAccuracy());
            }
            String alg = System.getProperty("alg", "");
            if (alg.isEmpty()) return;
            TrainConfig tc = TrainConfig.preset(TrainConfig.algorithmNamed(alg)).with(java.util.Map.of(
                    "lr", System.getProperty("lr", "3e-4"), "questions", System.getProperty("Q", "16"), "minibatch", System.getProperty("mb", "64"), "max-new-tokens", "64",
                    "iterations", "1000", "micro-batch", System.getProperty("micro", "64"), "warmup", System.getProperty("warmup", "0.0")), true);
            if (tc.applies("samples")) tc = tc.with("samples", "8");
            if (tc.applies("branching")) tc = tc.with("branching", "4-4-4").with("segment-tokens", "10").with("episodes", "256").with("questions", "4");
            if (tc.applies("rollouts")) tc = tc.with("rollouts", "4");
            if (tc.applies("cutpoint-interval")) tc = tc.with("cutpoint-interval", System.getProperty("K", "2"));
            TrainingTask rlTask = new TrainingTask("rl", train.subList(0, Integer.getInteger("rlTrain", train.size())), test, AnswerFormat.GSM8K, tok, "{question}\n");
            try (Trainer tr = new Trainer(rlTask, p, tc)) {
                long s0 = System.nanoTime();
                Evaluator.Result r0 = Evaluator.evaluate(tr.policy(), task, test, 64, 0, 0.6f, 0, 512, 16, 8192);
                System.out.printf("  eval greedy %.3f at start%n", r0.greedyAccuracy());
                for (int it = 0; it < Integer.getInteger("iters", 20); it++) {
                    Trainer.IterationStats s = tr.step();
                    System.out.printf("it %d tokens %d reward %.3f eps %d loss %.4f kept %.2f clip %.3f lr %.2e steps %d  %.2fs%n", s.iteration(), s.generatedTokens(), s.meanReward(), s.episodes(), s.loss(), s.keptFraction(), s.clipFraction(), s.learningRate(), s.optimizerSteps(), s.seconds());
                    if (it % 10 == 9) {
                        Evaluator.Result r = Evaluator.evaluate(tr.policy(), task, test, 64, 0, 0.6f, 0, 512, 16, 8192);
                        System.out.printf("  eval greedy %.3f  (%.1fs)%n", r.greedyAccuracy(), (System.nanoTime() - s0) / 1e9);
                    }
                }
            }
        }
    }
}
