package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.Policy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SFT with an accuracy target: where it stops, what it records, and that its checks leave training untouched. */
class SftTest {
    private static final Sft.Config CONFIG = new Sft.Config(120, 32, 3e-3, 0.05, 0);

    private static Policy policy(TrainingTask task) {
        return Policy.random(Workspace.builtInModel(task.tokenizer().vocabSize(), 64, 2), 3);
    }

    @Test
    void stopsAtTheFirstCheckThatReachesTheTargetAndChecksDoNotPerturbTraining() {
        TrainingTask task = TinyArithmetic.sftTask();
        int[][] probe = {task.promptIds(task.test().get(0))};
        float[][] plain;
        try (Policy p = policy(task)) {
            Sft.Result r = Sft.train(p, task, CONFIG, null, null);
            assertEquals(120, r.steps());
            assertTrue(r.checks().isEmpty());
            plain = p.logitsArray(probe);
        }
        Sft.Result full;
        try (Policy p = policy(task)) {
            full = Sft.train(p, task, CONFIG, null, new Sft.Target(1.0, 25, 32));
            assertFalse(full.reached(), "120 steps do not solve every question: " + full.checks());
            assertEquals(120, full.steps());
            // Checks after 25, 50, 75, 100 steps and one at the end.
            assertEquals(
                    List.of(25, 50, 75, 100, 120),
                    full.checks().stream().map(Sft.Check::step).toList());
            float[][] checked = p.logitsArray(probe);
            for (int i = 0; i < plain.length; i++) assertArrayEquals(plain[i], checked[i], 0f);
        }
        Sft.Check best = full.checks().get(0);
        for (Sft.Check c : full.checks()) if (c.greedyAccuracy() > best.greedyAccuracy()) best = c;
        assertTrue(best.greedyAccuracy() > 0, "some question is solved after 120 steps: " + full.checks());
        try (Policy p = policy(task)) {
            Sft.Result stopped = Sft.train(p, task, CONFIG, null, new Sft.Target(best.greedyAccuracy(), 25, 32));
            assertTrue(stopped.reached());
            assertEquals(best.step(), stopped.steps());
            assertEquals(full.checks().subList(0, full.checks().indexOf(best) + 1), stopped.checks());
        }
    }

    /**
     * The targets are drawn once per batch row from a stream of their own: targets that give back the worked solution
     * train exactly as the plain run, and other targets train on what they give.
     */
    @Test
    void theTargetsAreWhatIsFittedAndDrawnFromAStreamOfTheirOwn() {
        TrainingTask task = TinyArithmetic.sftTask();
        Sft.Config config = new Sft.Config(6, 8, 3e-3, 0.05, 0);
        int[][] probe = {task.promptIds(task.test().get(0))};
        float[][] plain, worked, other;
        try (Policy p = policy(task)) {
            Sft.train(p, task, config, null, null);
            plain = p.logitsArray(probe);
        }
        int[] calls = {0};
        try (Policy p = policy(task)) {
            Sft.train(p, task, config, null, null, (problem, rng) -> {
                calls[0]++;
                rng.nextLong(); // a draw, as a slipping target makes, does not move the batches
                return problem.solution();
            });
            worked = p.logitsArray(probe);
        }
        assertEquals(6 * 8, calls[0], "one target per batch row");
        try (Policy p = policy(task)) {
            Sft.train(p, task, config, null, null, (problem, rng) -> problem.solution() + problem.solution());
            other = p.logitsArray(probe);
        }
        assertArrayEquals(plain[0], worked[0], 0f);
        assertFalse(java.util.Arrays.equals(plain[0], other[0]), "the targets given are the ones fitted");
        try (Policy p = policy(task)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Sft.train(p, task, config, null, null, null))
                    .getMessage()
                    .contains("targets"));
        }
    }

    @Test
    void badTargetsNameTheirField() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sft.Target(0, 25, 128))
                .getMessage()
                .contains("greedyAccuracy"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sft.Target(1.5, 25, 128))
                .getMessage()
                .contains("greedyAccuracy"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sft.Target(Double.NaN, 25, 128))
                .getMessage()
                .contains("greedyAccuracy"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sft.Target(0.5, 0, 128))
                .getMessage()
                .contains("checkEvery"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sft.Target(0.5, 25, 0))
                .getMessage()
                .contains("questions"));
    }
}
