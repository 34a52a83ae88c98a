package io.github.spo4j.spo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.github.spo4j.tasks.FinishReason;
import org.junit.jupiter.api.Test;

class TrajectoryTest {

    @Test
    void arraysAreCopiedInAndOut() {
        int[] prompt = {1, 2};
        int[] response = {3, 4, 5};
        float[] logp = {-0.1f, -0.2f, -0.3f};
        Trajectory t = new Trajectory(4, prompt, response, logp, 1.0, FinishReason.EOS);
        prompt[0] = 99;
        response[0] = 99;
        logp[0] = -9f;
        t.responseIds()[1] = 99;
        t.oldLogp()[1] = -9f;
        t.promptIds()[1] = 99;
        assertArrayEquals(new int[] {1, 2}, t.promptIds());
        assertArrayEquals(new int[] {3, 4, 5}, t.responseIds());
        assertArrayEquals(new float[] {-0.1f, -0.2f, -0.3f}, t.oldLogp());
        assertEquals(3, t.responseLength());
        assertEquals(Math.exp(-0.2f), t.tokenProbability(1), 0.0);
    }

    @Test
    void equalityIsByContent() {
        Trajectory a =
                new Trajectory(1, new int[] {1}, new int[] {2, 3}, new float[] {-1f, -2f}, 0.5, FinishReason.STOP);
        Trajectory b =
                new Trajectory(1, new int[] {1}, new int[] {2, 3}, new float[] {-1f, -2f}, 0.5, FinishReason.STOP);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(
                a, new Trajectory(1, new int[] {1}, new int[] {2, 4}, new float[] {-1f, -2f}, 0.5, FinishReason.STOP));
    }

    @Test
    void endValueIsTheRewardUnlessTruncated() {
        assertEquals(
                -2.0, new Trajectory(0, new int[] {1}, new int[0], new float[0], -2, FinishReason.STOP).endValue());
        assertEquals(1.0, new Trajectory(0, new int[] {1}, new int[0], new float[0], 1, FinishReason.EOS).endValue());
        assertEquals(
                0.0, new Trajectory(0, new int[] {1}, new int[0], new float[0], 1, FinishReason.LENGTH).endValue());
    }

    @Test
    void prefixIsPromptPlusLeadingResponseTokens() {
        Trajectory t = new Trajectory(7, new int[] {1, 2}, new int[] {3, 4, 5}, new float[3], 0, FinishReason.EOS);
        StatePrefix s = t.prefix(2);
        assertEquals(7, s.questionId());
        assertArrayEquals(new int[] {1, 2}, s.promptIds());
        assertArrayEquals(new int[] {3, 4}, s.responsePrefixIds());
        assertArrayEquals(new int[] {1, 2, 3, 4}, s.tokens());
        assertEquals(new StatePrefix(7, new int[] {1, 2}, new int[] {3, 4}), s);
        assertEquals(new StatePrefix(7, new int[] {1, 2}, new int[] {3, 4}).hashCode(), s.hashCode());
        assertEquals(0, t.prefix(0).responsePrefixLength());
        assertEquals(3, t.prefix(3).responsePrefixLength());
        // The question is part of the key: the same tokens of another question are another state.
        assertNotEquals(new StatePrefix(8, new int[] {1, 2}, new int[] {3, 4}), s);
        // So is the prompt/response split: the reward is computed on the response.
        assertNotEquals(new StatePrefix(7, new int[] {1, 2, 3}, new int[] {4}), s);
    }
}
