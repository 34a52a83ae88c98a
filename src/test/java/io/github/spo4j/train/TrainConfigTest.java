package io.github.spo4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.spo.Algorithm;
import io.github.spo4j.spo.AlgorithmConfig;
import io.github.spo4j.spo.partition.CutpointPartition;
import org.junit.jupiter.api.Test;

class TrainConfigTest {
    @Test
    void presetsAreTheSpecsAndKnobsSetEachPart() {
        TrainConfig c = TrainConfig.preset(Algorithm.SPO_TREE);
        assertEquals(AlgorithmConfig.spoTree(), c.algorithm());
        assertEquals("6-6-6", c.knobs().get("branching"));
        assertEquals("30", c.knobs().get("segment-tokens"));
        assertEquals("0.0", c.knobs().get("branch-below"));
        assertEquals(0.9, c.with("branch-below", "0.9").algorithm().tree().branchBelow());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.with("branch-below", "1.5"));
        assertTrue(e.getMessage().contains("branch-below") && e.getMessage().contains("branchBelow"), e.getMessage());
        assertEquals("1.0E-6", c.knobs().get("lr"));
        TrainConfig d = c.with("branching", "4-5")
                .with("lr", "3e-4")
                .with("mask-rho", "1")
                .with("budget", "2m");
        assertEquals(java.util.List.of(4, 5), d.algorithm().tree().branching());
        assertEquals(3e-4, d.algorithm().optimizer().learningRate());
        assertEquals(1f, d.algorithm().loss().rho());
        assertEquals(2_000_000, d.run().tokenBudget());
        assertEquals(c.knobs().keySet(), d.knobs().keySet());
    }

    @Test
    void jsonRoundTripsAndNamesTheAlgorithm() {
        TrainConfig c = TrainConfig.preset(Algorithm.SPO_CHAIN)
                .with("cutpoint-interval", "2")
                .with("max-segments", "6")
                .with("cutpoint-rho", "0.8")
                .with("seed", "7");
        TrainConfig back = TrainConfig.fromJson(c.toJson().toString(), null);
        assertEquals(c, back);
        assertEquals(
                new CutpointPartition(0.8, 2, 6), back.algorithm().chain().partition(), "each knob keeps the others");
        assertEquals("0", TrainConfig.preset(Algorithm.SPO_CHAIN).knobs().get("max-segments"), "no cap by default");
        assertEquals(
                Algorithm.RLOO,
                TrainConfig.fromJson("{\"algorithm\": \"rloo\", \"lr\": 0.001}", null)
                        .algorithm()
                        .algorithm());
    }

    @Test
    void badKnobsAreClearErrors() {
        TrainConfig g = TrainConfig.preset(Algorithm.GRPO);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.with("lrr", "1"));
        assertTrue(e.getMessage().contains("unknown knob \"lrr\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.with("branching", "6-6"));
        assertTrue(e.getMessage().contains("does not apply to grpo"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.with("lr", "fast"));
        assertTrue(e.getMessage().contains("knob lr") && e.getMessage().contains("fast"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.with("lr", "-1"));
        assertTrue(e.getMessage().contains("learningRate"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson("{\"lr\": [1]}", Algorithm.GRPO));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.fromJson("{lr", Algorithm.GRPO));
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.algorithmNamed("ppo"));
        assertTrue(e.getMessage().contains("spo-tree"), e.getMessage());
        assertFalse(g.applies("rollouts"));
        assertFalse(g.applies("max-segments"));
        e = assertThrows(
                IllegalArgumentException.class,
                () -> TrainConfig.preset(Algorithm.SPO_CHAIN).with("max-segments", "-1"));
        assertTrue(e.getMessage().contains("maxSegments must be >= 0"), e.getMessage());
    }
}
