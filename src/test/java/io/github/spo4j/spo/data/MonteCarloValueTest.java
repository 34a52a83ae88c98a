package io.github.spo4j.spo.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.tasks.FinishReason;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPO_SPEC §2 "value estimate": mean reward, LENGTH scores 0, no rollouts gives 0. */
class MonteCarloValueTest {

    @Test
    void meanOfScores() {
        assertEquals(
                0.5,
                MonteCarloValue.of(List.of(
                        new RolloutOutcome(1, FinishReason.EOS),
                        new RolloutOutcome(0, FinishReason.EOS),
                        new RolloutOutcome(1, FinishReason.STOP),
                        new RolloutOutcome(0, FinishReason.STOP))),
                1e-15);
        assertEquals(
                -0.5,
                MonteCarloValue.of(
                        new double[] {-2, 1, 0, -1},
                        new FinishReason[] {FinishReason.EOS, FinishReason.EOS, FinishReason.EOS, FinishReason.STOP}),
                1e-15);
    }

    @Test
    void truncatedRolloutsScoreZero() {
        // 1 (EOS) + 0 (LENGTH, whatever its reward) + 0 (LENGTH) = 1 over 3.
        assertEquals(
                1.0 / 3,
                MonteCarloValue.of(List.of(
                        new RolloutOutcome(1, FinishReason.EOS),
                        new RolloutOutcome(1, FinishReason.LENGTH),
                        new RolloutOutcome(-2, FinishReason.LENGTH))),
                1e-15);
        assertEquals(0.0, MonteCarloValue.score(1, FinishReason.LENGTH));
        assertEquals(-2.0, MonteCarloValue.score(-2, FinishReason.STOP));
        assertEquals(0.0, new RolloutOutcome(5, FinishReason.LENGTH).score());
    }

    @Test
    void noRolloutsIsZero() {
        assertEquals(0.0, MonteCarloValue.of(List.of()));
        assertEquals(0.0, MonteCarloValue.of(new double[0], new FinishReason[0]));
    }
}
