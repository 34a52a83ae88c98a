package io.github.spo4j.spo.advantage;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.spo4j.spo.advantage.GroupAdvantages.StdEstimator;
import org.junit.jupiter.api.Test;

/** GRPO, Dr. GRPO and RLOO against hand-computed groups. */
class GroupAdvantagesTest {

    @Test
    void grpoPopulationAndBesselStd() {
        // μ = 0.5; population σ = 0.5; Bessel σ = sqrt(1/3).
        float[] r = {1, 0, 0, 1};
        assertAllClose(
                "population, ε = 0",
                new float[] {1, -1, -1, 1},
                GroupAdvantages.grpo(r, StdEstimator.POPULATION, 0f),
                1e-7,
                0);
        double bessel = 0.5 / Math.sqrt(1.0 / 3);
        assertAllClose(
                "Bessel, ε = 0",
                new float[] {(float) bessel, (float) -bessel, (float) -bessel, (float) bessel},
                GroupAdvantages.grpo(r, StdEstimator.BESSEL, 0f),
                1e-7,
                0);
        // μ = 2, Bessel σ = 1, population σ = sqrt(2/3); ε = 1e-6 (the default).
        float[] s = {3, 1, 2};
        float eps = GroupAdvantages.DEFAULT_EPS;
        assertAllClose(
                "Bessel, default ε",
                new float[] {(float) (1 / (1 + 1e-6)), (float) (-1 / (1 + 1e-6)), 0},
                GroupAdvantages.grpo(s, StdEstimator.BESSEL, eps),
                1e-7,
                0);
        double pop = Math.sqrt(2.0 / 3) + 1e-6;
        assertAllClose(
                "population, default ε",
                new float[] {(float) (1 / pop), (float) (-1 / pop), 0},
                GroupAdvantages.grpo(s, StdEstimator.POPULATION, eps),
                1e-7,
                0);
    }

    @Test
    void drGrpoSubtractsTheMeanOnly() {
        assertAllClose(
                "Dr. GRPO",
                new float[] {0.5f, -0.5f, -0.5f, 0.5f},
                GroupAdvantages.drGrpo(new float[] {1, 0, 0, 1}),
                0,
                0);
        assertAllClose("Dr. GRPO", new float[] {1f, -1f, 0f}, GroupAdvantages.drGrpo(new float[] {3, 1, 2}), 0, 0);
    }

    @Test
    void rlooSubtractsTheMeanOfTheOthers() {
        assertAllClose(
                "RLOO",
                new float[] {2f / 3, -2f / 3, -2f / 3, 2f / 3},
                GroupAdvantages.rloo(new float[] {1, 0, 0, 1}),
                1e-7,
                0);
        // 3 − (1 + 2)/2, 1 − (3 + 2)/2, 2 − (3 + 1)/2.
        assertAllClose("RLOO", new float[] {1.5f, -1.5f, 0f}, GroupAdvantages.rloo(new float[] {3, 1, 2}), 0, 0);
    }

    @Test
    void aGroupOfOneAndAGroupOfEqualRewardsGetZero() {
        float[] one = {0.7f};
        for (StdEstimator std : StdEstimator.values()) {
            assertArrayEquals(new float[] {0f}, GroupAdvantages.grpo(one, std, 0f));
            assertArrayEquals(new float[] {0f, 0f, 0f}, GroupAdvantages.grpo(new float[] {1, 1, 1}, std, 0f));
        }
        assertArrayEquals(new float[] {0f}, GroupAdvantages.drGrpo(one));
        assertArrayEquals(new float[] {0f}, GroupAdvantages.rloo(one));
    }

    @Test
    void raggedGroupsAreIndependent() {
        float[] rewards = {1, 0, 0, 1, 0.7f, 3, 1, 2};
        int[] groups = {0, 4, 5, 8};
        float[] grpo = GroupAdvantages.grpo(rewards, groups, StdEstimator.BESSEL, 1e-6f);
        float[] dr = GroupAdvantages.drGrpo(rewards, groups);
        float[] rloo = GroupAdvantages.rloo(rewards, groups);
        float[][] parts = {{1, 0, 0, 1}, {0.7f}, {3, 1, 2}};
        int at = 0;
        for (float[] part : parts) {
            int len = part.length;
            assertArrayEquals(
                    GroupAdvantages.grpo(part, StdEstimator.BESSEL, 1e-6f),
                    java.util.Arrays.copyOfRange(grpo, at, at + len));
            assertArrayEquals(GroupAdvantages.drGrpo(part), java.util.Arrays.copyOfRange(dr, at, at + len));
            assertArrayEquals(GroupAdvantages.rloo(part), java.util.Arrays.copyOfRange(rloo, at, at + len));
            at += len;
        }
    }
}
