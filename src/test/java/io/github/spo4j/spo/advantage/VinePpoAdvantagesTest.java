package io.github.spo4j.spo.advantage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.spo4j.spo.data.ChainTestData;
import io.github.spo4j.spo.data.Segment;
import io.github.spo4j.spo.data.TokenTextDecoder;
import io.github.spo4j.spo.data.Trajectory;
import io.github.spo4j.spo.partition.NewlineStepPartition;
import io.github.spo4j.tasks.FinishReason;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** VinePPO step advantages (SPO_SPEC §8) by hand. */
class VinePpoAdvantagesTest {

    /**
     * Response "x\ny\nz\n#### 5" in tokens "x" | "\ny" | "\nz" | "\n####" | " 5": steps "x", "\ny", "\nz\n#### 5",
     * token steps 0, 1, 2, 2, 2. States: the prompt (after 0 steps), y_<1 (after step 0), y_<2 (after step 1).
     */
    private static final String[] PIECES = {"x", "\ny", "\nz", "\n####", " 5"};

    private static final TokenTextDecoder DECODER = TokenTextDecoder.perToken(id -> PIECES[id]);
    private static final Map<Integer, Double> VALUES = Map.of(0, 0.5, 1, 0.25, 2, 0.75);

    /** Every token is confident (p = .99): VinePPO does not zero them. */
    private static Trajectory response(double reward, FinishReason reason) {
        return new Trajectory(
                3,
                new int[] {9, 9},
                new int[] {0, 1, 2, 3, 4},
                ChainTestData.logp(0.99, 0.99, 0.99, 0.99, 0.99),
                reward,
                reason);
    }

    private static SegmentAdvantages run(int maxSteps, RecordingEstimator estimator, Trajectory t) {
        return new VinePpoAdvantages(new NewlineStepPartition(DECODER), estimator, new VinePpoConfig(9, maxSteps))
                .compute(List.of(t))
                .get(0);
    }

    @Test
    void stepAdvantagesFromEveryState() {
        Trajectory t = response(1, FinishReason.EOS);
        RecordingEstimator estimator = RecordingEstimator.byPrefixLength(VALUES);
        SegmentAdvantages a = run(VinePpoConfig.DEFAULT_MAX_STEPS_ESTIMATED, estimator, t);
        // A_0 = V_1 − V_0 = −.25, A_1 = V_2 − V_1 = .5, A_2 = r_2 + V(terminal) − V_2 = 1 + 0 − .75 = .25.
        assertArrayEquals(new double[] {0.5, 0.25, 0.75}, a.startValues(), 1e-15);
        assertArrayEquals(new double[] {-0.25, 0.5, 0.25}, a.advantages(), 1e-15);
        assertArrayEquals(new float[] {-0.25f, 0.5f, 0.25f, 0.25f, 0.25f}, a.tokenAdvantages());
        assertEquals(List.of(t.prefix(0), t.prefix(1), t.prefix(2)), estimator.onlyCall());
    }

    @Test
    void statesPastTheCapAreBackFilled() {
        Trajectory t = response(1, FinishReason.EOS);
        // Cap 1: the prompt and the state after step 0 are estimated; V_2 = r_2 + V(terminal) = R = 1.
        RecordingEstimator one = RecordingEstimator.byPrefixLength(VALUES);
        SegmentAdvantages a = run(1, one, t);
        assertArrayEquals(new double[] {0.5, 0.25, 1.0}, a.startValues(), 1e-15);
        assertArrayEquals(new double[] {-0.25, 0.75, 0.0}, a.advantages(), 1e-15);
        assertEquals(List.of(t.prefix(0), t.prefix(1)), one.onlyCall());
        assertEquals(
                List.of(true, true, false),
                a.partition().segments().stream()
                        .map(Segment::startValueEstimated)
                        .toList());
        // Cap 0: only the prompt; V_1 = V_2 = R.
        RecordingEstimator zero = RecordingEstimator.byPrefixLength(VALUES);
        assertArrayEquals(new double[] {0.5, 0, 0}, run(0, zero, t).advantages(), 1e-15);
        assertEquals(List.of(t.prefix(0)), zero.onlyCall());
    }

    @Test
    void truncatedResponseHasRewardZero() {
        SegmentAdvantages a = run(25, RecordingEstimator.byPrefixLength(VALUES), response(1, FinishReason.LENGTH));
        assertArrayEquals(new double[] {-0.25, 0.5, -0.75}, a.advantages(), 1e-15);
    }

    @Test
    void oneStepResponse() {
        Trajectory t = new Trajectory(0, new int[] {1}, new int[] {0}, new float[] {-0.5f}, -2, FinishReason.STOP);
        SegmentAdvantages a = run(25, RecordingEstimator.byPrefixLength(Map.of(0, 0.5)), t);
        assertArrayEquals(new double[] {-2.5}, a.advantages(), 1e-15);
    }

    @Test
    void defaults() {
        assertEquals(new VinePpoConfig(9, 25), VinePpoConfig.defaults());
        VinePpoAdvantages gsm8k = VinePpoAdvantages.gsm8k(DECODER, (s, n) -> new double[s.size()]);
        assertEquals(VinePpoConfig.defaults(), gsm8k.config());
        assertEquals(NewlineStepPartition.class, gsm8k.steps().getClass());
    }
}
