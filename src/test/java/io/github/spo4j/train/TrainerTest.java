package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Policy;
import io.github.spo4j.spo.Algorithm;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * End to end on the built-in policy: each algorithm raises the reward of a trivially learnable task (eight one-step
 * problems, from a briefly supervised base), and a run killed between iterations resumes to the bit-identical result
 * of the uninterrupted run.
 */
class TrainerTest {
    private static TrainingTask task;
    private static Policy base;

    @BeforeAll
    static void base() {
        TinyArithmetic tiny = TinyArithmetic.create();
        task = tiny.task();
        base = tiny.base();
    }

    @AfterAll
    static void close() {
        base.close();
    }

    static TrainConfig tiny(Algorithm a) {
        TrainConfig c = TrainConfig.preset(a)
                .with(
                        Map.of(
                                "lr",
                                "5e-4",
                                "warmup",
                                "0",
                                "iterations",
                                "12",
                                "max-new-tokens",
                                "24",
                                "questions",
                                "8",
                                "minibatch",
                                "32",
                                "micro-batch",
                                "32",
                                "eval-every",
                                "0",
                                "checkpoint-every",
                                "0"),
                        true);
        if (c.applies("samples")) c = c.with("samples", "4");
        if (c.applies("rollouts")) c = c.with("rollouts", "3");
        if (c.applies("cutpoint-interval")) c = c.with("cutpoint-interval", "1");
        if (c.applies("branching"))
            c = c.with(Map.of("branching", "3-3", "segment-tokens", "6", "questions", "4", "episodes", "48"), false);
        if (a == Algorithm.SPO_CHAIN || a == Algorithm.VINEPPO) c = c.with("epochs", "1");
        return c;
    }

    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void eachAlgorithmRaisesTheRewardOfATriviallyLearnableTask(Algorithm a) {
        try (Trainer t = new Trainer(task, base, tiny(a))) {
            double first = 0, last = 0;
            int n = 0;
            while (!t.finished()) {
                Trainer.IterationStats s = t.step();
                assertTrue(Double.isFinite(s.loss()) && Double.isFinite(s.gradNorm()), s.toString());
                assertSplitAccountsForTheStep(a, t.config(), s);
                assertTrue(s.episodes() > 0 && s.iterationTokens() > 0, s.toString());
                if (s.iteration() < 3) first += s.meanReward() / 3;
                if (s.iteration() >= 9) last += s.meanReward() / 3;
                n++;
            }
            assertEquals(12, n);
            assertTrue(
                    last > first + 0.1,
                    a + ": mean reward " + first + " in the first 3 iterations, " + last + " in the last 3");
        }
    }

    /** SPO-tree branching where the policy is unsure trains like the fixed tree. */
    @Test
    void aTreeBranchingAtUncertainStepsRaisesTheReward() {
        TrainConfig c = tiny(Algorithm.SPO_TREE).with("branch-below", "0.9");
        try (Trainer t = new Trainer(task, base, c)) {
            double first = 0, last = 0;
            while (!t.finished()) {
                Trainer.IterationStats s = t.step();
                assertTrue(Double.isFinite(s.loss()) && Double.isFinite(s.gradNorm()), s.toString());
                if (s.iteration() < 3) first += s.meanReward() / 3;
                if (s.iteration() >= 9) last += s.meanReward() / 3;
            }
            assertTrue(last > first + 0.1, "mean reward " + first + " in the first 3 iterations, " + last + " last");
        }
    }

    /**
     * The phases are times within the step and add up to its seconds with "other"; each algorithm spends time where it
     * should; shared prompts and tree prefixes make fewer unique tokens than processed ones.
     */
    private static void assertSplitAccountsForTheStep(Algorithm a, TrainConfig config, Trainer.IterationStats s) {
        Trainer.Split x = s.split();
        double[] phases = {x.sampling(), x.rollouts(), x.oldLogp(), x.refLogp(), x.forwardBackward(), x.optimizer()};
        double sum = x.other();
        for (double p : phases) {
            assertTrue(p >= 0 && Double.isFinite(p), s.toString());
            sum += p;
        }
        assertEquals(s.seconds(), sum, 1e-6, s.toString());
        assertEquals(0.0, x.evaluation(), "a bare step has no evaluation");
        assertEquals(0.0, x.checkpoint(), "a bare step has no checkpoint");
        assertTrue(x.sampling() > 0 && x.oldLogp() > 0 && x.forwardBackward() > 0 && x.optimizer() > 0, s.toString());
        assertEquals(a == Algorithm.SPO_CHAIN || a == Algorithm.VINEPPO, x.rollouts() > 0, s.toString());
        assertEquals(config.algorithm().loss().beta() > 0, x.refLogp() > 0, s.toString());
        assertTrue(x.trainUniqueTokens() > 0 && x.trainUniqueTokens() < x.trainTokens(), s.toString());
        assertTrue(x.logprobUniqueTokens() > 0 && x.logprobUniqueTokens() < x.logprobTokens(), s.toString());
        // The training forward sees every episode's query and response once an epoch.
        assertEquals(0, x.trainTokens() % config.algorithm().batching().epochsPerIteration(), s.toString());
    }

    /**
     * eval-every-tokens evaluates after each iteration that passes a multiple of its tokens (and at the start and
     * end), in place of eval-every, and the schedule changes nothing of the training.
     */
    @Test
    void aTokenScheduleEvaluatesAfterEachMultipleAndLeavesTrainingAlone(@TempDir Path dir) throws IOException {
        TrainConfig byIterations = tiny(Algorithm.GRPO)
                .with(
                        Map.of("iterations", "6", "eval-every", "4", "checkpoint-every", "0", "eval-problems", "2"),
                        false);
        List<Trainer.IterationStats> expectedLog;
        try (TrainingRun run = TrainingRun.start(dir.resolve("a"), task, base, byIterations)) {
            run.run(null);
            expectedLog = run.iterationStats();
        }
        long perIteration = expectedLog.get(0).iterationTokens();
        long every = perIteration * 3 / 2; // passed by iterations 2, 3, 5 and 6 of similar size
        TrainConfig byTokens = byIterations.with("eval-every-tokens", Long.toString(every));
        try (TrainingRun run = TrainingRun.start(dir.resolve("b"), task, base, byTokens)) {
            run.run(null);
            List<Trainer.IterationStats> log = run.iterationStats();
            assertEquals(expectedLog.size(), log.size());
            for (int i = 0; i < log.size(); i++) {
                assertEquals(expectedLog.get(i).generatedTokens(), log.get(i).generatedTokens());
                assertEquals(expectedLog.get(i).loss(), log.get(i).loss());
            }
            List<TrainingRun.Evaluation> evals = run.evaluations();
            assertEquals(0, evals.get(0).generatedTokens());
            long total = log.get(log.size() - 1).generatedTokens();
            assertEquals(total, evals.get(evals.size() - 1).generatedTokens(), "the end is evaluated");
            // One evaluation per multiple passed (the end's may coincide with one), each right after passing it.
            long passed = total / every;
            int middle = evals.size() - 2;
            assertTrue(middle == passed || middle == passed - 1, evals.size() + " evaluations, " + passed + " passed");
            for (int i = 1; i < evals.size(); i++) {
                long before = evals.get(i - 1).generatedTokens();
                assertTrue(
                        evals.get(i).generatedTokens() / every > before / every || i == evals.size() - 1,
                        "evaluation " + i + " at " + evals.get(i).generatedTokens() + " passes no multiple");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(
            value = Algorithm.class,
            names = {"GRPO", "SPO_TREE", "SPO_CHAIN"})
    void aRunKilledBetweenIterationsResumesToTheSameResult(Algorithm a, @TempDir Path dir) throws IOException {
        TrainConfig c = tiny(a).with(
                        Map.of("iterations", "4", "eval-every", "2", "checkpoint-every", "2", "eval-problems", "4"),
                        false);
        String uninterrupted;
        List<TrainingRun.Evaluation> expected;
        List<Trainer.IterationStats> expectedLog;
        try (TrainingRun run = TrainingRun.start(dir.resolve("a"), task, base, c)) {
            run.run(null);
            uninterrupted = TrainingRun.fingerprint(run.trainer().policy());
            expected = run.evaluations();
            expectedLog = run.iterationStats();
        }
        try (TrainingRun run = TrainingRun.start(dir.resolve("b"), task, base, c)) {
            run.run(null, 2); // "killed" after the checkpoint of iteration 2
        }
        assertThrows(IllegalArgumentException.class, () -> TrainingRun.start(dir.resolve("b"), task, base, c));
        try (TrainingRun run = TrainingRun.resume(dir.resolve("b"), task, base, c)) {
            assertEquals(2, run.trainer().iteration());
            run.run(null);
            assertEquals(uninterrupted, TrainingRun.fingerprint(run.trainer().policy()));
            List<TrainingRun.Evaluation> got = run.evaluations();
            assertEquals(expected.size(), got.size());
            for (int i = 0; i < got.size(); i++) {
                assertEquals(expected.get(i).iteration(), got.get(i).iteration());
                assertEquals(expected.get(i).generatedTokens(), got.get(i).generatedTokens());
                assertEquals(expected.get(i).greedyAccuracy(), got.get(i).greedyAccuracy());
                // Episodes and optimizer steps so far: the iterations log's, summed before the evaluation.
                long episodes = 0, steps = 0;
                for (Trainer.IterationStats st : expectedLog) {
                    if (st.iteration() >= got.get(i).iteration()) continue;
                    episodes += st.episodes();
                    steps += st.optimizerSteps();
                }
                assertEquals(episodes, got.get(i).episodes());
                assertEquals(steps, got.get(i).optimizerSteps());
                assertEquals(expected.get(i).episodes(), got.get(i).episodes());
            }
            assertTrue(got.get(got.size() - 1).episodes() > 0
                    && got.get(got.size() - 1).optimizerSteps() > 0);
            List<Trainer.IterationStats> log = run.iterationStats();
            assertEquals(4, log.size());
            for (int i = 0; i < log.size(); i++) {
                assertEquals(i, log.get(i).iteration());
                assertEquals(expectedLog.get(i).generatedTokens(), log.get(i).generatedTokens());
                assertEquals(expectedLog.get(i).meanReward(), log.get(i).meanReward());
                assertEquals(expectedLog.get(i).loss(), log.get(i).loss());
                // Token counts are deterministic; evaluation and checkpoint time are where they happened (every 2).
                Trainer.Split want = expectedLog.get(i).split(),
                        split = log.get(i).split();
                assertEquals(want.trainTokens(), split.trainTokens());
                assertEquals(want.trainUniqueTokens(), split.trainUniqueTokens());
                assertEquals(want.logprobUniqueTokens(), split.logprobUniqueTokens());
                boolean after = i % 2 == 1;
                assertEquals(after, split.evaluation() > 0, "evaluation after iteration " + i);
                assertEquals(after, split.checkpoint() > 0, "checkpoint after iteration " + i);
            }
            assertEquals(
                    4,
                    Files.readAllLines(dir.resolve("b").resolve(TrainingRun.ITERATIONS))
                            .size());
        }
    }

    /** Packing changes only fp32 rounding: the first update's loss, statistics and weights match the unpacked run. */
    @ParameterizedTest
    @EnumSource(
            value = Algorithm.class,
            names = {"GRPO", "SPO_TREE", "SPO_CHAIN"})
    void thePackedForwardTrainsAsTheUnpackedOne(Algorithm a) {
        TrainConfig packed = tiny(a).with("packed-forward", "true");
        TrainConfig unpacked = tiny(a).with("packed-forward", "false");
        try (Trainer p = new Trainer(task, base, packed);
                Trainer u = new Trainer(task, base, unpacked)) {
            Trainer.IterationStats sp = p.step(), su = u.step();
            assertEquals(su.meanReward(), sp.meanReward(), "the same samples");
            assertEquals(su.loss(), sp.loss(), 1e-5, a + " loss");
            assertEquals(su.keptFraction(), sp.keptFraction(), 1e-6, a + " kept");
            assertEquals(su.gradNorm(), sp.gradNorm(), 1e-3 * Math.max(1, su.gradNorm()), a + " grad norm");
            assertEquals(su.split().trainUniqueTokens(), sp.split().trainUniqueTokens());
            // AdamW divides by the root of the second moment, so a weight whose gradient is at rounding level can move
            // by up to a step of lr either way; every other weight matches to 1e-5.
            var pw = p.policy().namedParameters();
            double bound = packed.algorithm().optimizer().learningRate() * su.optimizerSteps() * 1.5;
            long off = 0, total = 0;
            for (var e : u.policy().namedParameters().entrySet()) {
                float[] x = io.github.spo4j.model.Tensors.toFloats(e.getValue());
                float[] y = io.github.spo4j.model.Tensors.toFloats(pw.get(e.getKey()));
                for (int i = 0; i < x.length; i++) {
                    double d = Math.abs(x[i] - y[i]);
                    assertTrue(d <= bound, a + " " + e.getKey() + "[" + i + "] moved " + d);
                    if (d > 1e-5) off++;
                    total++;
                }
            }
            assertTrue(off < total / 100, a + ": " + off + " of " + total + " weights differ by more than 1e-5");
        }
    }

    /**
     * precision=bf16 reaches the policy and its reference and trains: the same first samples (generation stays fp32),
     * a loss near fp32's, and the reward of the trivially learnable task rises as under fp32.
     */
    @Test
    void bf16TrainingFollowsFp32() {
        TrainConfig bf16 = tiny(Algorithm.GRPO).with("precision", "bf16");
        assertEquals("bf16", bf16.knobs().get("precision"));
        assertEquals("fp32", tiny(Algorithm.GRPO).knobs().get("precision"));
        assertThrows(IllegalArgumentException.class, () -> tiny(Algorithm.GRPO).with("precision", "fp16"));
        try (Trainer h = new Trainer(task, base, bf16);
                Trainer f = new Trainer(task, base, tiny(Algorithm.GRPO))) {
            assertEquals(io.github.spo4j.model.Precision.BF16, h.policy().precision());
            Trainer.IterationStats sh = h.step(), sf = f.step();
            assertEquals(sf.meanReward(), sh.meanReward(), "the same samples");
            assertNotEquals(sf.loss(), sh.loss(), "bf16 ran");
            assertEquals(sf.loss(), sh.loss(), 0.05 * Math.max(1, Math.abs(sf.loss())), "loss");
            double first = sh.meanReward(), last = 0;
            int n = 1;
            while (!h.finished()) {
                Trainer.IterationStats s = h.step();
                assertTrue(Double.isFinite(s.loss()) && Double.isFinite(s.gradNorm()), s.toString());
                if (++n > 9) last += s.meanReward() / 3;
            }
            assertTrue(last > first + 0.1, "bf16: mean reward " + first + " first, " + last + " in the last 3");
        }
    }

    /** A checkpoint written before packed forwards existed (no packed-forward in its config) ran unpacked. */
    @Test
    void aCheckpointFromBeforePackingResumesUnpackedOnly(@TempDir Path dir) throws Exception {
        TrainConfig unpacked = tiny(Algorithm.SPO_TREE)
                .with(Map.of("iterations", "2", "checkpoint-every", "1", "packed-forward", "false"), false);
        try (TrainingRun run = TrainingRun.start(dir, task, base, unpacked)) {
            run.run(null, 1);
        }
        Path state = dir.resolve("checkpoint").resolve("state.json");
        com.google.gson.JsonObject o =
                com.google.gson.JsonParser.parseString(Files.readString(state)).getAsJsonObject();
        o.getAsJsonObject("config").remove("packed-forward");
        byte[] bytes = o.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(state, bytes);
        Files.writeString(
                dir.resolve("checkpoint").resolve("state.json.sha256"),
                java.util.HexFormat.of()
                        .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                .digest(bytes)));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainingRun.resume(dir, task, base, unpacked.with("packed-forward", "true")));
        assertTrue(e.getMessage().contains("packed-forward: \"false\" → \"true\""), e.getMessage());
        try (TrainingRun run = TrainingRun.resume(dir, task, base, unpacked)) {
            assertEquals(1, run.trainer().iteration());
            run.run(null);
            assertEquals(2, run.trainer().iteration());
        }
    }

    @Test
    void aTruncatedOrMismatchedCheckpointIsRefusedAndKept(@TempDir Path dir) throws IOException {
        TrainConfig c = tiny(Algorithm.GRPO).with(Map.of("iterations", "2", "checkpoint-every", "1"), false);
        try (TrainingRun run = TrainingRun.start(dir, task, base, c)) {
            run.run(null, 1);
        }
        TrainConfig other = c.with("lr", "1e-3");
        IllegalArgumentException bad =
                assertThrows(IllegalArgumentException.class, () -> TrainingRun.resume(dir, task, base, other));
        assertTrue(bad.getMessage().contains("lr"), bad.getMessage());

        Path weights = dir.resolve(TrainingRun.CHECKPOINT).resolve("model.safetensors");
        byte[] before = Files.readAllBytes(weights);
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(before.length / 2);
        }
        IOException e = assertThrows(IOException.class, () -> TrainingRun.resume(dir, task, base, c));
        assertTrue(
                e.getMessage().contains("model.safetensors") && e.getMessage().contains("truncated"), e.getMessage());
        assertEquals(before.length / 2, Files.size(weights), "nothing is rewritten");
    }

    @Test
    void theScheduleWarmsUpThenDecaysToZero() {
        var o = new io.github.spo4j.spo.AlgorithmConfig.Optimizer(1e-3, 0, 1, 0.1, 100);
        assertEquals(0, PolicyOptimizer.learningRate(o, 0), 1e-12);
        assertEquals(5e-4, PolicyOptimizer.learningRate(o, 0.05), 1e-12);
        assertEquals(1e-3, PolicyOptimizer.learningRate(o, 0.1), 1e-12);
        assertEquals(5e-4, PolicyOptimizer.learningRate(o, 0.55), 1e-12);
        assertEquals(0, PolicyOptimizer.learningRate(o, 1), 1e-12);
        assertArrayEquals(new double[] {0}, new double[] {PolicyOptimizer.learningRate(o, 2)}, 1e-12);
    }
}
