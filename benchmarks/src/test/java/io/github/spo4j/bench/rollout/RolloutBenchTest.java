package io.github.spo4j.bench.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.model.ModelConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.rollout.TreeShape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The unshared baseline reproduces the shared samplers' tokens (RolloutBench throws if not) on small shapes. */
class RolloutBenchTest {
    static Policy policy;

    @BeforeAll
    static void model() {
        policy = Policy.random(ModelConfig.tiny(), 3);
    }

    @AfterAll
    static void free() {
        policy.close();
    }

    /** Odd prompt length (ragged last block), 2 trees, EOS pruning some leaves early. */
    static final RolloutBench.Config SMALL =
            new RolloutBench.Config(37, 2, TreeShape.parse("3-2-3", 5), 40, 3, 4, 23, 8, 11);

    @Test
    void unsharedLeavesReproduceTheTrees() {
        RolloutBench.Comparison c = RolloutBench.tree(policy, SMALL, 0, 1);
        RolloutBench.Measurement s = c.shared(), u = c.unshared();
        assertEquals(s.responseTokens(), u.responseTokens());
        assertEquals(s.sequences(), u.sequences());
        assertTrue(s.sequences() >= 2 && s.sequences() <= 2 * 18, "leaves: " + s.sequences());
        assertEquals(2 * 37, s.prefillTokens());
        assertEquals((long) s.sequences() * 37, u.prefillTokens());
        assertEquals(u.responseTokens() - u.sequences(), u.decodeTokens(), "every token fed but each leaf's last");
        assertTrue(s.peakKvBytes() > 0 && s.peakKvBytes() < u.peakKvBytes());
        assertTrue(c.maxLogprobDiff() < 1e-4, "logprob diff " + c.maxLogprobDiff());
    }

    @Test
    void unsharedRolloutsReproduceTheChains() {
        RolloutBench.Comparison c = RolloutBench.chain(policy, SMALL, 0, 1);
        RolloutBench.Measurement s = c.shared(), u = c.unshared();
        assertEquals(12, s.sequences());
        assertEquals(s.responseTokens(), u.responseTokens());
        assertEquals(3 * 37, s.prefillTokens());
        assertEquals(12 * 37, u.prefillTokens());
        // Both feed every token but each rollout's last one.
        assertEquals(s.decodeTokens(), u.decodeTokens());
        assertEquals(u.responseTokens() - 12, u.decodeTokens());
        assertTrue(s.peakKvBytes() < u.peakKvBytes());
        assertTrue(c.kvReduction() > 1 && c.throughputGain() > 0);
    }
}
