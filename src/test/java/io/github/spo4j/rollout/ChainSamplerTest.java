package io.github.spo4j.rollout;

import static io.github.spo4j.testutil.Close.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.spo4j.kernels.kv.KvCache;
import io.github.spo4j.kernels.kv.KvCacheExhaustedException;
import io.github.spo4j.kernels.sampler.SamplerConfig;
import io.github.spo4j.model.Policy;
import io.github.spo4j.model.tokenizer.CharTokenizer;
import io.github.spo4j.spo.data.StatePrefix;
import io.github.spo4j.tasks.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ChainSamplerTest {
    static Policy policy;

    @BeforeAll
    static void model() {
        policy = io.github.spo4j.testutil.TestPolicies.sharp(RolloutTestSupport.config(), 41);
    }

    @AfterAll
    static void free() {
        policy.close();
    }

    static GenerationConfig gen(long seed, int maxTokens) {
        return GenerationConfig.of(
                SamplerConfig.builder().temperature(1.1f).seed(seed).build(), maxTokens, 2);
    }

    static List<int[]> prefixes() {
        int v = policy.config().vocabSize();
        return List.of(
                RolloutTestSupport.tokens(1, v, 1),
                RolloutTestSupport.tokens(99, v, 2),
                RolloutTestSupport.tokens(17, v, 3));
    }

    /** Every continuation equals an unshared decode of its prefix with the same stream. */
    @Test
    void continuationsEqualIndependentDecodes() {
        try (KvCache pool = policy.createKvCache(16, 512)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            GenerationConfig g = gen(7, 40);
            List<List<Completion>> out = sampler.sample(prefixes(), 9, g);
            assertEquals(3, out.size());
            int finished = 0;
            for (int p = 0; p < out.size(); p++) {
                assertEquals(9, out.get(p).size());
                for (int j = 0; j < 9; j++) {
                    Completion c = out.get(p).get(j);
                    assertTrue(c.length() >= 1 && c.length() <= 40);
                    if (c.finishReason() == FinishReason.EOS) {
                        finished++;
                        assertEquals(2, c.tokens()[c.length() - 1], "EOS is the last token");
                    } else {
                        assertEquals(FinishReason.LENGTH, c.finishReason());
                        assertEquals(40, c.length());
                    }
                    for (int i = 0; i < c.length() - 1; i++) assertNotEquals(2, c.tokens()[i], "nothing after EOS");
                    Completion alone = RolloutTestSupport.independent(
                            policy,
                            prefixes().get(p),
                            new long[] {((long) p << 32) | j},
                            new int[] {c.length()},
                            g.sampling());
                    assertArrayEquals(alone.tokens(), c.tokens(), "prefix " + p + " continuation " + j);
                    assertAllClose("logprobs " + p + "/" + j, alone.logprobs(), c.logprobs(), 2e-5, 2e-4);
                }
            }
            assertTrue(finished > 0, "some continuations reach EOS");
            assertEquals(0, pool.liveSequences());
            assertEquals(0, pool.blocksInUse());
        }
    }

    @Test
    void aSeedFixesTheSamplesAndAnotherChangesThem() {
        try (KvCache pool = policy.createKvCache(8, 1024)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            List<List<Completion>> a = sampler.sample(prefixes(), 4, gen(3, 30));
            List<List<Completion>> b = sampler.sample(prefixes(), 4, gen(3, 30));
            List<List<Completion>> c = sampler.sample(prefixes(), 4, gen(4, 30));
            boolean differs = false;
            for (int p = 0; p < 3; p++) {
                for (int j = 0; j < 4; j++) {
                    assertArrayEquals(a.get(p).get(j).tokens(), b.get(p).get(j).tokens());
                    assertArrayEquals(
                            a.get(p).get(j).logprobs(), b.get(p).get(j).logprobs());
                    differs |= !java.util.Arrays.equals(
                            a.get(p).get(j).tokens(), c.get(p).get(j).tokens());
                }
            }
            assertTrue(differs);
            // One prefix alone draws what it drew in the batch.
            List<List<Completion>> single = sampler.sample(List.of(prefixes().get(0)), 4, gen(3, 30));
            for (int j = 0; j < 4; j++)
                assertArrayEquals(a.get(0).get(j).tokens(), single.get(0).get(j).tokens());
        }
    }

    @Test
    void greedyFollowsTheArgmax() {
        try (KvCache pool = policy.createKvCache(16, 256)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            int[] prefix = prefixes().get(2);
            Completion c = sampler.greedy(List.of(prefix), gen(1, 25)).get(0);
            Completion again = sampler.greedy(List.of(prefix), gen(99, 25)).get(0);
            assertArrayEquals(c.tokens(), again.tokens(), "greedy ignores the seed");
            int[] text = prefix;
            for (int i = 0; i < c.length(); i++) {
                try (org.bytedeco.javacpp.PointerScope s = new org.bytedeco.javacpp.PointerScope()) {
                    float[] logits = RolloutTestSupport.floats(
                            policy.logits(io.github.spo4j.model.Tensors.tokenIds(new int[][] {text})));
                    int v = policy.config().vocabSize(), best = 0;
                    int row = (text.length - 1) * v;
                    for (int k = 1; k < v; k++) if (logits[row + k] > logits[row + best]) best = k;
                    assertEquals(best, c.tokens()[i], "greedy token " + i);
                }
                text = java.util.Arrays.copyOf(text, text.length + 1);
                text[text.length - 1] = c.tokens()[i];
            }
        }
    }

    @Test
    void stopStringsEndAResponse() {
        CharTokenizer tok = CharTokenizer.arithmetic();
        io.github.spo4j.model.ModelConfig c = io.github.spo4j.model.ModelConfig.tiny(
                io.github.spo4j.model.ModelConfig.Architecture.LLAMA, tok.vocabSize(), 1, 2);
        try (Policy p = Policy.random(c, 5);
                KvCache pool = p.createKvCache(16, 1024)) {
            ChainSampler sampler = new ChainSampler(p, pool);
            String stop = tok.decode(new int[] {tok.encode("7")[0]});
            GenerationConfig g = new GenerationConfig(SamplerConfig.of(11), 200, new int[0], List.of(stop), tok);
            List<List<Completion>> out = sampler.sample(List.of(tok.encode("1+2=")), 16, g);
            int stopped = 0;
            for (Completion x : out.get(0)) {
                String text = tok.decode(x.tokens());
                if (x.finishReason() == FinishReason.STOP) {
                    stopped++;
                    assertTrue(text.endsWith(stop), text);
                    assertEquals(text.indexOf(stop), text.length() - stop.length(), "stops at the first occurrence");
                } else {
                    assertEquals(FinishReason.LENGTH, x.finishReason());
                    assertTrue(!text.contains(stop), text);
                }
            }
            assertTrue(stopped > 0);
        }
    }

    @Test
    void valueEstimatorAveragesScoredRollouts() {
        try (KvCache pool = policy.createKvCache(16, 1024)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            // Reward 1 for an even-length response; LENGTH-cut rollouts score 0 (MonteCarloValue), so the value is in
            // [0, 1].
            RewardFunction reward = (q, ids, f) -> ids.length % 2 == 0 ? 1.0 : 0.0;
            ChainValueEstimator est = new ChainValueEstimator(sampler, gen(5, 30), reward);
            int v = policy.config().vocabSize();
            List<StatePrefix> states = new ArrayList<>();
            states.add(new StatePrefix(0, RolloutTestSupport.tokens(5, v, 9), new int[0]));
            states.add(new StatePrefix(1, RolloutTestSupport.tokens(70, v, 10), RolloutTestSupport.tokens(4, v, 11)));
            double[] values = est.estimate(states, 12);
            assertEquals(2, values.length);
            for (double x : values) assertTrue(x >= 0 && x <= 1);
            assertEquals(24, est.rollouts());
            // By hand: the same samples scored the same way.
            List<List<Completion>> again = sampler.sample(List.of(states.get(0).tokens()), 12, gen(5, 30));
            double expected = 0;
            for (Completion c : again.get(0)) expected += c.finishReason().finished() && c.length() % 2 == 0 ? 1 : 0;
            assertEquals(expected / 12, values[0], 1e-12);
        }
    }

    @Test
    void aSecondEstimateSinceTheSeedDrawsNewRolloutsAndTheFirstIsUnchanged() {
        try (KvCache pool = policy.createKvCache(16, 1024)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            int v = policy.config().vocabSize();
            List<StatePrefix> states = List.of(new StatePrefix(0, RolloutTestSupport.tokens(5, v, 9), new int[0]));
            // The value reads the whole rollout, so equal values mean (almost surely) equal rollouts.
            RewardFunction reward = (q, ids, f) -> Arrays.hashCode(ids) / (double) Integer.MAX_VALUE;
            ChainValueEstimator est = new ChainValueEstimator(sampler, gen(5, 30), reward);
            est.setSeed(77);
            double first = est.estimate(states, 6)[0], second = est.estimate(states, 6)[0];
            assertNotEquals(first, second, "the second call's rollouts are fresh");
            est.setSeed(77);
            assertEquals(first, est.estimate(states, 6)[0], "setSeed starts the calls again");
            assertEquals(second, est.estimate(states, 6)[0]);
            ChainValueEstimator fresh = new ChainValueEstimator(sampler, gen(5, 30), reward);
            fresh.setSeed(77);
            assertEquals(first, fresh.estimate(states, 6)[0], "the first call is what it was before tie refinement");
        }
    }

    @Test
    void aTooSmallPoolIsAClearErrorThatLeavesNothingAllocated() {
        try (KvCache pool = policy.createKvCache(4, 30)) {
            ChainSampler sampler = new ChainSampler(policy, pool);
            assertThrows(KvCacheExhaustedException.class, () -> sampler.sample(prefixes(), 9, gen(1, 200)));
            assertEquals(0, pool.liveSequences());
            assertEquals(0, pool.blocksInUse());
            assertThrows(IllegalArgumentException.class, () -> sampler.sample(List.of(new int[0]), 2, gen(1, 5)));
            assertThrows(IllegalArgumentException.class, () -> sampler.sample(prefixes(), 0, gen(1, 5)));
        }
    }
}
