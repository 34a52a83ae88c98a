package io.github.spo4j.spo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.loss.KlEstimator;
import io.github.spo4j.kernels.tree.TreeAdvantageMode;
import io.github.spo4j.kernels.tree.TreeValueMode;
import io.github.spo4j.spo.advantage.GroupAdvantages;
import io.github.spo4j.spo.advantage.TreeAdvantages;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The presets carry SPO_SPEC's numbers. */
class AlgorithmConfigTest {
    @ParameterizedTest
    @EnumSource(Algorithm.class)
    void sharedDefaults(Algorithm a) {
        AlgorithmConfig c = AlgorithmConfig.of(a);
        assertEquals(a, c.algorithm());
        assertEquals(0.2f, c.loss().epsLow());
        assertEquals(0.2f, c.loss().epsHigh());
        assertEquals(1e-4f, c.loss().beta());
        assertEquals(KlEstimator.K3, c.loss().klEstimator());
        assertTrue(c.loss().whiten());
        assertEquals(0.6f, c.sampling().temperature());
        assertEquals(0.9f, c.sampling().topP());
        assertEquals(1e-6, c.optimizer().learningRate());
        assertEquals(1.0, c.optimizer().gradientClip());
        assertEquals(0.03, c.optimizer().warmupFraction());
        // The probability mask is on exactly for SPO and GRPO+mask (SPO_SPEC §3, §4, §8).
        boolean masked = a == Algorithm.SPO_CHAIN || a == Algorithm.SPO_TREE || a == Algorithm.GRPO_MASK;
        assertEquals(masked ? 0.9f : 1f, c.loss().rho(), a + " mask");
    }

    @Test
    void spoChain() {
        AlgorithmConfig c = AlgorithmConfig.spoChain();
        assertEquals(0.9, c.chain().partition().rho());
        assertEquals(5, c.chain().partition().cutpointInterval());
        assertEquals(9, c.chain().advantages().rollouts());
        assertTrue(c.chain().advantages().zeroConfidentTokens());
        assertEquals(new AlgorithmConfig.Batching(64, 8, 512, 64, 2), c.batching());
        assertNull(c.tree());
        assertNull(c.group());
    }

    @Test
    void spoTree() {
        AlgorithmConfig.TreeSettings t = AlgorithmConfig.spoTree().tree();
        assertEquals(List.of(6, 6, 6), t.branching());
        assertEquals(258, t.maxEdges());
        assertEquals(30, t.segmentTokens());
        assertEquals(TreeValueMode.CHILD_MEAN, t.backup().valueMode());
        assertEquals(TreeAdvantageMode.DIFF, t.backup().advantageMode());
        assertEquals(8, t.replayMaxAge());
        assertEquals(32, t.replayPerQuestion());
        assertEquals(1024, AlgorithmConfig.spoTree().batching().episodesPerIteration());
        assertEquals(16, AlgorithmConfig.spoTree().batching().questionsPerIteration());
    }

    @Test
    void groupBaselines() {
        float[] rewards = {1, 0, 0, 1};
        assertArrayEquals(
                GroupAdvantages.grpo(rewards, GroupAdvantages.StdEstimator.BESSEL, 1e-6f),
                AlgorithmConfig.grpo().group().advantages(rewards));
        assertArrayEquals(
                GroupAdvantages.rloo(rewards), AlgorithmConfig.rloo().group().advantages(rewards));
        assertEquals(
                AlgorithmConfig.grpo().group(), AlgorithmConfig.grpoWithMask().group());
        assertNotNull(AlgorithmConfig.vinePpo().vine());
        assertEquals(25, AlgorithmConfig.vinePpo().vine().maxStepsEstimated());
    }

    @Test
    void settingsMustMatchTheAlgorithm() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> AlgorithmConfig.grpo().withTree(AlgorithmConfig.spoTree().tree()));
        assertTrue(e.getMessage().startsWith("tree settings do not apply to GRPO"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class, () -> AlgorithmConfig.spoChain().withChain(null));
        assertTrue(e.getMessage().startsWith("chain settings are required"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new AlgorithmConfig.TreeSettings(
                        List.of(6, 0),
                        30,
                        AlgorithmConfig.spoTree().tree().backup(),
                        TreeAdvantages.TruncatedLeafScoring.ZERO,
                        8,
                        32));
        assertTrue(e.getMessage().startsWith("branching[1] must be > 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AlgorithmConfig.Sampling(0f, 0.9f, 10, 10));
        assertTrue(e.getMessage().startsWith("temperature"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new AlgorithmConfig.Batching(1, 1, 1, 0, 1));
        assertTrue(e.getMessage().startsWith("miniBatchSize"), e.getMessage());
    }
}
